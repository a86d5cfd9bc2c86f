/**
 * The sound of a sample: decoded, measured for speech (the quality gate) and, when asked, trimmed to the
 * provider's window. What is judged is what would be sent: the cut when one is made, else the file.
 */

import { type AudibleProbe, decodeAudio } from '../audio/decode';
import { probeAudio } from '../audio/probe';
import { bufferByteSource } from '../audio/sources';
import { type AudioQuality, measureSpeech } from '../audio/speech-quality';
import { cutAudio, type KeptSpan, planTrim } from '../audio/trim';
import type { AudioProbe } from '../audio/types';
import type { ProviderLimits } from '../providers/types';

/** The quality figures of a verdict: measured, or why not (a codec voicedrop does not decode). */
export type QualityReport =
  | (AudioQuality & { readonly measured: true })
  | { readonly measured: false; readonly reason: string };

export interface SoundJudgement {
  readonly quality: QualityReport;
  /** Present when the sample was cut: the kept span of the original, the cut's bytes and what they are. */
  readonly trimmed?: { readonly kept: KeptSpan; readonly audio: Uint8Array; readonly probe: AudioProbe };
  /** Why trimming was asked for and not done (a container that is not cut, nothing to keep). */
  readonly trimSkipped?: string;
}

const span = (decodedSec: number, kept: KeptSpan) => kept.startSec > 0 || kept.endSec < decodedSec;

/** Decodes and measures `bytes`; with `trim`, cuts them to the best window `limits` allow. */
export async function judgeSound(
  bytes: Uint8Array,
  probe: AudibleProbe,
  limits: ProviderLimits,
  trim: boolean,
): Promise<SoundJudgement> {
  const decoded = await decodeAudio(bytes, probe);
  if (!decoded.decoded) {
    return {
      quality: { measured: false, reason: decoded.reason },
      ...(trim ? { trimSkipped: 'trimming is available for WAV (PCM) and MP3' } : {}),
    };
  }
  const whole = measureSpeech(decoded);
  const measured = (quality: AudioQuality): QualityReport => ({ measured: true, ...quality });
  if (!trim) return { quality: measured(whole.quality) };

  const plan = planTrim(whole.frames, { minSec: limits.minDurationSec, maxSec: limits.maxDurationSec });
  if ('reason' in plan) return { quality: measured(whole.quality), trimSkipped: plan.reason };
  const cut = cutAudio(bytes, decoded, plan);
  if (!cut.cut) return { quality: measured(whole.quality), trimSkipped: cut.reason };
  const decodedSec = decoded.samples.length / decoded.sampleRate;
  if (!span(decodedSec, cut.kept)) return { quality: measured(whole.quality) };
  const rate = decoded.sampleRate;
  const kept = measureSpeech({
    samples: decoded.samples.subarray(
      Math.round(cut.kept.startSec * rate),
      Math.round(cut.kept.endSec * rate),
    ),
    sampleRate: rate,
  });
  return {
    quality: measured(kept.quality),
    trimmed: { kept: cut.kept, audio: cut.audio, probe: await probeAudio(bufferByteSource(cut.audio)) },
  };
}

/** The cut a validation made, made again from the original (a retry after a crash sends the same bytes). */
export async function recut(bytes: Uint8Array, kept: KeptSpan): Promise<Uint8Array> {
  const probe = await probeAudio(bufferByteSource(bytes));
  if (probe.kind !== 'audio')
    throw new Error('the uploaded object is no longer the audio that was validated');
  const decoded = await decodeAudio(bytes, probe);
  if (!decoded.decoded) throw new Error(`the uploaded object cannot be cut again: ${decoded.reason}`);
  const cut = cutAudio(bytes, decoded, kept);
  if (!cut.cut) throw new Error(`the uploaded object cannot be cut again: ${cut.reason}`);
  return cut.audio;
}
