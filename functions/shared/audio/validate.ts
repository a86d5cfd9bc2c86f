/**
 * Upload validation shared by the clone Lambda and the CLI: pure rules over a provider's limits, and one
 * orchestrator that reads only what the rules need and reports every problem at once.
 */

import { PROVIDER_LIMITS } from '../providers/limits';
import { isProviderName, PROVIDER_NAMES, type ProviderLimits } from '../providers/types';
import { probeAudio } from './probe';
import type { AudioFormat, AudioProbe, ByteSource, ValidationIssue, ValidationReport } from './types';

/** Optional upload metadata (S3 object metadata, or CLI flags). */
export interface UploadOptions {
  displayName?: string;
  model?: string;
  language?: string;
  accent?: string;
  description?: string;
  /** Comma-separated. */
  tags?: string;
}

/** Options after defaults and normalisation, ready for the provider call and the voice record. */
export interface ResolvedOptions {
  readonly displayName: string;
  readonly model: string;
  readonly language?: string;
  readonly accent?: string;
  readonly description?: string;
  readonly tags: string[];
}

const FORMAT_LABELS: Readonly<Record<AudioFormat, string>> = {
  wav: 'WAV',
  mp3: 'MP3',
  mp4: 'MP4',
  webm: 'WebM',
};
const BYTES_PER_MEGABYTE = 1024 * 1024;
// Control characters (line breaks, tabs, NUL, …) cannot be shown in a voice list.
const CONTROL_CHARACTER = /\p{Cc}/u;
// Enough of a rejected name to recognise it in a message.
const NAME_PREVIEW_CHARACTERS = 40;

/** "WAV or MP3", "WAV, MP3, MP4 or WebM". */
function formatList(formats: readonly AudioFormat[]): string {
  const labels = formats.map((format) => FORMAT_LABELS[format]);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} or ${labels.at(-1)}`;
}

function durationRange(limits: ProviderLimits): string {
  return `${limits.minDurationSec}–${limits.maxDurationSec} s`;
}

/** Seconds to 0.1 s, with more decimals only when rounding would make a failing value look like the limit. */
function formatSeconds(value: number, limit: number): string {
  for (let decimals = 1; decimals < 3; decimals++) {
    const text = value.toFixed(decimals);
    if (Number(text) !== limit) return text;
  }
  return value.toFixed(3);
}

function formatMegabytes(bytes: number): string {
  return `${Number((bytes / BYTES_PER_MEGABYTE).toFixed(1))} MB`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Probe reasons are either a predicate about the file ("looks like a PNG image, not audio") or a clause
 * about one of its parts ("MP4 file has no audio track"); either way this makes a sentence.
 */
function unreadableSentence(reason: string): string {
  return /^[a-z]/.test(reason) ? `This file ${reason}.` : `The ${reason}.`;
}

function preview(name: string): string {
  const codePoints = [...name];
  return codePoints.length > NAME_PREVIEW_CHARACTERS
    ? `${codePoints.slice(0, NAME_PREVIEW_CHARACTERS).join('')}…`
    : name;
}

function trimmedOrUndefined(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Name, model, language and tags against a provider's rules, with defaults applied. */
export function checkOptions(
  limits: ProviderLimits,
  options: UploadOptions & { displayName: string },
): { issues: ValidationIssue[]; resolved: ResolvedOptions } {
  const issues: ValidationIssue[] = [];
  const { title } = limits;
  const { minChars, maxChars } = limits.name;

  const displayName = options.displayName.trim();
  // Providers count Unicode code points ("é" is 1 even when it takes 2 UTF-16 units, an emoji is 1).
  const length = [...displayName].length;
  const howToSet = 'Set the "display-name" metadata on the upload (or rename the file)';
  if (length < minChars) {
    issues.push({
      code: 'invalid_name',
      message: `The voice name is empty; ${title} needs ${minChars}–${maxChars} characters. ${howToSet}.`,
    });
  } else if (length > maxChars) {
    issues.push({
      code: 'invalid_name',
      message: `The voice name "${preview(displayName)}" is ${length} characters long; ${title} allows at most ${maxChars}. ${howToSet} to a shorter name.`,
    });
  }
  if (CONTROL_CHARACTER.test(displayName)) {
    issues.push({
      code: 'invalid_name',
      message: `The voice name contains control characters (such as line breaks or tabs), which ${title} cannot show. ${howToSet} without them.`,
    });
  }

  const model = trimmedOrUndefined(options.model) ?? limits.models.default;
  const accepted = limits.models.accepted;
  const rejection = Object.hasOwn(limits.models.rejected, model) ? limits.models.rejected[model] : undefined;
  if (rejection !== undefined) {
    issues.push({
      code: 'invalid_option',
      message: `Model "${model}" is not accepted by ${title}: ${rejection.replace(/\.?$/, '.')} Set the "model" metadata to one of: ${accepted.join(', ')}.`,
    });
  } else if (!accepted.includes(model)) {
    issues.push({
      code: 'invalid_option',
      message: `Model "${model}" is not one ${title} clones with; set the "model" metadata to one of: ${accepted.join(', ')} (default ${limits.models.default}).`,
    });
  }

  const language = trimmedOrUndefined(options.language);
  if (language !== undefined && !limits.language.pattern.test(language)) {
    issues.push({
      code: 'invalid_option',
      message: `Language "${language}" is not valid for ${title}; set the "language" metadata to ${limits.language.description}.`,
    });
  }

  const tags = (options.tags ?? '')
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);

  const accent = trimmedOrUndefined(options.accent);
  const description = trimmedOrUndefined(options.description);
  const resolved: ResolvedOptions = {
    displayName,
    model,
    tags,
    ...(language ? { language } : {}),
    ...(accent ? { accent } : {}),
    ...(description ? { description } : {}),
  };
  return { issues, resolved };
}

/**
 * Size, and what the probe found, against a provider's rules. `probe` is undefined when the file was not
 * read (too large to be worth it); the size verdict needs no bytes.
 */
export function checkAudio(
  limits: ProviderLimits,
  sizeBytes: number,
  probe: AudioProbe | undefined,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const { title } = limits;
  const accepted = formatList(limits.formats);
  const wanted = `${accepted} audio with ${durationRange(limits)} of clear speech`;

  if (sizeBytes > limits.maxBytes) {
    const measured = formatMegabytes(sizeBytes);
    const limit = formatMegabytes(limits.maxBytes);
    // Near the limit both round to the same figure; then bytes say it.
    const detail =
      measured === limit
        ? `${sizeBytes.toLocaleString('en-US')} bytes; ${title} accepts at most ${limit} (${limits.maxBytes.toLocaleString('en-US')} bytes)`
        : `${measured}; ${title} accepts at most ${limit}`;
    issues.push({
      code: 'file_too_large',
      message: `The file is ${detail}. Upload a shorter or more compressed recording.`,
    });
  }
  if (sizeBytes === 0 || probe?.kind === 'empty') {
    issues.push({ code: 'empty_file', message: `The file is empty (0 bytes). Upload ${wanted}.` });
    return issues;
  }
  if (!probe) return issues;

  switch (probe.kind) {
    case 'unreadable':
      issues.push({
        code: 'unreadable_audio',
        message: `${unreadableSentence(probe.reason)} Upload ${wanted}.`,
      });
      break;
    case 'unsupported':
      issues.push({
        code: 'unsupported_format',
        message: `${capitalize(probe.description)} is not accepted by ${title}; use ${accepted}.`,
      });
      break;
    case 'audio': {
      if (!limits.formats.includes(probe.format)) {
        issues.push({
          code: 'unsupported_format',
          message: `${FORMAT_LABELS[probe.format]} audio is not accepted by ${title}; use ${accepted}.`,
        });
      }
      const { durationSec } = probe;
      if (durationSec < limits.minDurationSec) {
        issues.push({
          code: 'audio_too_short',
          message: `The audio is ${formatSeconds(durationSec, limits.minDurationSec)} s long; ${title} needs ${durationRange(limits)} of speech. Upload a longer recording.`,
        });
      } else if (durationSec > limits.maxDurationSec) {
        issues.push({
          code: 'audio_too_long',
          message: `The audio is ${formatSeconds(durationSec, limits.maxDurationSec)} s long; ${title} needs ${durationRange(limits)} of speech. Trim it to at most ${limits.maxDurationSec} s.`,
        });
      }
      break;
    }
  }
  return issues;
}

export interface ValidationRequest {
  readonly provider: string;
  /** The name to give the voice, already chosen by the caller (metadata, else the file name). */
  readonly displayName: string;
  /** Other options; its `displayName`, if any, is ignored in favour of the one above. */
  readonly options: UploadOptions;
}

export interface ValidationResult {
  readonly report: ValidationReport;
  /** What the bytes are; absent when nothing was read (the size alone decided). */
  readonly probe?: AudioProbe;
  /** Options with defaults applied; absent for an unknown provider. */
  readonly resolved?: ResolvedOptions;
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

/**
 * Validates one upload against its provider's rules and reports every problem at once (size, name,
 * options, format, duration). Cheap first: an upload over the provider's size limit is not read at all;
 * otherwise the probe reads as little as the container allows. An unknown provider is reported, and the
 * audio is still probed so the report carries its format and duration.
 *
 * Throws only when the source cannot be read (AudioSourceError): that says nothing about the upload.
 */
export async function validateSource(
  source: ByteSource,
  request: ValidationRequest,
): Promise<ValidationResult> {
  const sizeBytes = source.size;
  const limits = isProviderName(request.provider) ? PROVIDER_LIMITS[request.provider] : undefined;

  let probe: AudioProbe | undefined;
  let resolved: ResolvedOptions | undefined;
  const errors: ValidationIssue[] = [];
  if (!limits) {
    errors.push({
      code: 'unknown_provider',
      message: `Unknown provider "${request.provider}"; use one of: ${PROVIDER_NAMES.join(', ')} (upload to incoming/<provider>/<file>).`,
    });
    if (sizeBytes <= LARGEST_ACCEPTED_BYTES) probe = await probeAudio(source);
    errors.push(...checkReadable(probe, sizeBytes));
  } else {
    const options = checkOptions(limits, { ...request.options, displayName: request.displayName });
    resolved = options.resolved;
    if (sizeBytes <= limits.maxBytes) probe = await probeAudio(source);
    errors.push(...checkAudio(limits, sizeBytes, probe), ...options.issues);
  }

  const audio = probe?.kind === 'audio' ? probe : undefined;
  const report: ValidationReport = {
    ok: errors.length === 0,
    provider: request.provider,
    format: probe && probe.kind !== 'empty' ? probe.format : null,
    durationSec: audio?.durationSec ?? null,
    sampleRate: audio?.sampleRate ?? null,
    channels: audio?.channels ?? null,
    sizeBytes,
    errors,
  };
  return { report, ...(probe ? { probe } : {}), ...(resolved ? { resolved } : {}) };
}
