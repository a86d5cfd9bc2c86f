/** Sentence pieces shared by the validation rules: figures as people read them. */

import type { AudioFormat } from '../audio/types';
import type { ProviderLimits } from '../providers/types';

export const FORMAT_LABELS: Readonly<Record<AudioFormat, string>> = {
  wav: 'WAV',
  mp3: 'MP3',
  mp4: 'MP4',
  webm: 'WebM',
};
const BYTES_PER_MEGABYTE = 1024 * 1024;
/** "WAV or MP3", "WAV, MP3, MP4 or WebM". */
export function formatList(formats: readonly AudioFormat[]): string {
  const labels = formats.map((format) => FORMAT_LABELS[format]);
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} or ${labels.at(-1)}`;
}

export function durationRange(limits: ProviderLimits): string {
  return `${limits.minDurationSec}–${limits.maxDurationSec} s`;
}

/** Seconds to 0.1 s, with more decimals only when rounding would make a failing value look like the limit. */
export function formatSeconds(value: number, limit: number): string {
  for (let decimals = 1; decimals < 3; decimals++) {
    const text = value.toFixed(decimals);
    if (Number(text) !== limit) return text;
  }
  return value.toFixed(3);
}

export function formatMegabytes(bytes: number): string {
  return `${Number((bytes / BYTES_PER_MEGABYTE).toFixed(1))} MB`;
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Probe reasons are either a predicate about the file ("looks like a PNG image, not audio") or a clause
 * about one of its parts ("MP4 file has no audio track"); either way this makes a sentence.
 */
export function unreadableSentence(reason: string): string {
  return /^[a-z]/.test(reason) ? `This file ${reason}.` : `The ${reason}.`;
}
