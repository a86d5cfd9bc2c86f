/**
 * Upload validation shared by the clone Lambda and the CLI: one orchestrator that reads only what the rules
 * need (options.ts, audio-rules.ts) and reports every problem at once.
 */

import { probeAudioHeader } from '../audio/header-probe';
import { probeAudio, readOrExplain } from '../audio/probe';
import type { AudioProbe, ByteSource } from '../audio/types';
import { PROVIDER_LIMITS } from '../providers/limits';
import { isProviderName, PROVIDER_NAMES, type ProviderLimits } from '../providers/types';
import { checkAudio } from './audio-rules';
import { unreadableSentence } from './messages';
import { checkOptions, type ResolvedOptions, TRIM_SOURCE_MAX_BYTES, type UploadOptions } from './options';
import { checkQuality, DEFAULT_QUALITY_THRESHOLDS, type QualityThresholds } from './quality-rules';
import { judgeSound, type SoundJudgement } from './sound';
import type { ValidationIssue, ValidationReport } from './types';

export type { ResolvedOptions, UploadOptions } from './options';

export interface ValidationRequest {
  readonly provider: string;
  /** The name to give the voice, already chosen by the caller (metadata, else the file name). */
  readonly displayName: string;
  /** Other options; its `displayName`, if any, is ignored in favour of the one above. */
  readonly options: UploadOptions;
  /**
   * How much of a file over the provider's size limit is read to report its other problems: `header`
   * (the pipeline: its first 64 KiB, one ranged GET) or `whole` (the CLI, reading a local file).
   * @default 'header'
   */
  readonly oversize?: 'header' | 'whole';
  /** The speech-quality gate's thresholds (default: DEFAULT_QUALITY_THRESHOLDS); `false` turns it off. */
  readonly quality?: QualityThresholds | false;
}

export interface ValidationResult {
  readonly report: ValidationReport;
  /** What the bytes are; absent when nothing was read (the size alone decided). */
  readonly probe?: AudioProbe;
  /** Options with defaults applied; absent for an unknown provider. */
  readonly resolved?: ResolvedOptions;
  /** The bytes to send instead of the file's: the cut, when the sample was trimmed. */
  readonly audio?: Uint8Array;
}

// Without a provider's limits, files larger than any provider accepts are not worth reading.
const LARGEST_ACCEPTED_BYTES = Math.max(...PROVIDER_NAMES.map((name) => PROVIDER_LIMITS[name].maxBytes));

/** Problems that do not depend on a provider's rules, for uploads whose provider is unknown. */
function checkReadable(probe: AudioProbe | undefined, sizeBytes: number): ValidationIssue[] {
  if (sizeBytes === 0 || probe?.kind === 'empty') {
    return [
      { code: 'empty_file', message: 'The file is empty (0 bytes). Upload a recording of clear speech.' },
    ];
  }
  if (probe?.kind === 'unreadable') {
    return [{ code: 'unreadable_audio', message: unreadableSentence(probe.reason) }];
  }
  return [];
}

/** Probes the whole file when it is within `maxBytes`, else as `oversize` says (the header by default). */
async function probeWithin(
  source: ByteSource,
  maxBytes: number,
  oversize: ValidationRequest['oversize'] = 'header',
): Promise<AudioProbe | undefined> {
  if (source.size <= maxBytes || oversize === 'whole') return probeAudio(source);
  return probeAudioHeader(source);
}

/**
 * Validates one upload against its provider's rules and reports every problem at once (size, name,
 * options, format, duration). Cheap first: of an upload over the provider's size limit only the header is
 * read (one ranged GET) unless the caller asks for all of it; otherwise the probe reads as little as the
 * container allows. An unknown provider is reported, and the
 * audio is still probed so the report carries its format and duration.
 *
 * Throws only when the source cannot be read (AudioSourceError): that says nothing about the upload.
 */
export async function validateSource(
  source: ByteSource,
  request: ValidationRequest,
): Promise<ValidationResult> {
  const limits = isProviderName(request.provider) ? PROVIDER_LIMITS[request.provider] : undefined;
  const { probe, resolved, sound, errors } = limits
    ? await judgeForProvider(source, request, limits)
    : await judgeUnknownProvider(source, request);
  const sizeBytes = source.size;
  const audio = probe?.kind === 'audio' ? probe : undefined;
  const report: ValidationReport = {
    ok: errors.length === 0,
    provider: request.provider,
    format: probe && probe.kind !== 'empty' ? probe.format : null,
    durationSec: audio?.durationSec ?? null,
    ...(audio?.durationFrom ? { durationFrom: audio.durationFrom } : {}),
    sampleRate: audio?.sampleRate ?? (probe?.kind === 'header-only' ? probe.sampleRate : null),
    channels: audio?.channels ?? (probe?.kind === 'header-only' ? probe.channels : null),
    sizeBytes,
    quality: sound?.quality ?? null,
    ...(sound?.trimmed ? { trimmed: sound.trimmed.kept } : {}),
    ...(sound?.trimSkipped ? { trimSkipped: sound.trimSkipped } : {}),
    errors,
  };
  return {
    report,
    ...(probe ? { probe } : {}),
    ...(resolved ? { resolved } : {}),
    ...(sound?.trimmed ? { audio: sound.trimmed.audio } : {}),
  };
}

/** What the checks found: the probe, the options resolved, the sound judged and every problem. */
interface Judgement {
  readonly probe: AudioProbe | undefined;
  readonly resolved?: ResolvedOptions;
  readonly sound?: SoundJudgement;
  readonly errors: ValidationIssue[];
}

/** An unknown provider is reported, and the audio is still probed for its format and duration. */
async function judgeUnknownProvider(source: ByteSource, request: ValidationRequest): Promise<Judgement> {
  const errors: ValidationIssue[] = [
    {
      code: 'unknown_provider',
      message: `Unknown provider "${request.provider}"; use one of: ${PROVIDER_NAMES.join(', ')} (upload to incoming/<provider>/<file>).`,
    },
  ];
  const probe = await probeWithin(source, LARGEST_ACCEPTED_BYTES, request.oversize);
  errors.push(...checkReadable(probe, source.size));
  return { probe, errors };
}

/** Size, format, duration, quality (of the cut, when trimmed) and options against the provider's rules. */
async function judgeForProvider(
  source: ByteSource,
  request: ValidationRequest,
  limits: ProviderLimits,
): Promise<Judgement> {
  const sizeBytes = source.size;
  const options = checkOptions(limits, { ...request.options, displayName: request.displayName });
  const { resolved } = options;
  const trim = resolved.trim === 'auto';
  const readBound = trim ? Math.max(limits.maxBytes, TRIM_SOURCE_MAX_BYTES) : limits.maxBytes;
  const probe = await probeWithin(source, readBound, request.oversize);
  const readable = sizeBytes <= readBound || request.oversize === 'whole';
  let sound: SoundJudgement | undefined;
  if (
    request.quality !== false &&
    probe?.kind === 'audio' &&
    readable &&
    limits.formats.includes(probe.format)
  ) {
    sound = await judgeSound(await readOrExplain(() => source.readAll()), probe, limits, trim);
  }
  const sent = sound?.trimmed;
  const errors = checkAudio(limits, sent ? sent.audio.length : sizeBytes, sent ? sent.probe : probe);
  if (sound?.quality.measured) {
    errors.push(...checkQuality(limits, sound.quality, request.quality || DEFAULT_QUALITY_THRESHOLDS));
  }
  errors.push(...options.issues);
  return { probe, resolved, sound, errors };
}
