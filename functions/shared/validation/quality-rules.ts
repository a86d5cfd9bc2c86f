/** The speech-quality gate: what measureSpeech found against thresholds and the provider's minimum length. */

import type { AudioQuality } from '../audio/speech-quality';
import { ENV } from '../contract';
import type { ProviderLimits } from '../providers/types';
import type { ValidationIssue } from './types';

export interface QualityThresholds {
  /** A sample whose loudest sample stays below this (dBFS) holds no usable signal: `silent_audio`. */
  readonly silencePeakDbfs: number;
  /** Speech whose RMS level is below this (dBFS) is too quiet to clone from: `too_quiet`. */
  readonly minSpeechLevelDbfs: number;
  /** More than this share of samples clipped at full scale: `clipped_audio`. */
  readonly maxClippedRatio: number;
}

/**
 * Defaults that pass ordinary phone, laptop and studio recordings, quiet ones (speech around −35…−45 dBFS)
 * and ones with room noise, and fail only the clearly unusable (docs/speech-quality.md): digital silence
 * or dither (peak below −60 dBFS), whispers far below a usable level (speech under −50 dBFS), and hard
 * clipping of more than 1 % of the samples.
 */
export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  silencePeakDbfs: -60,
  minSpeechLevelDbfs: -50,
  maxClippedRatio: 0.01,
};

/** Each threshold's environment variable (the clone function, local mode) and CLI flag. */
export const QUALITY_THRESHOLD_NAMES: Readonly<
  Record<
    keyof QualityThresholds,
    { readonly env: string; readonly flag: string; readonly range: [number, number] }
  >
> = {
  silencePeakDbfs: { env: ENV.qualitySilencePeakDbfs, flag: 'silence-peak-dbfs', range: [-120, 0] },
  minSpeechLevelDbfs: {
    env: ENV.qualityMinSpeechLevelDbfs,
    flag: 'min-speech-level-dbfs',
    range: [-120, 0],
  },
  maxClippedRatio: { env: ENV.qualityMaxClippedRatio, flag: 'max-clipped-ratio', range: [0, 1] },
};

/**
 * Thresholds from text settings (environment variables or flags, by `nameOf`), defaults for what is unset.
 * Throws an Error naming every bad setting and its range.
 */
export function parseQualityThresholds(
  read: (key: keyof QualityThresholds) => string | undefined,
  nameOf: (key: keyof QualityThresholds) => string = (key) => QUALITY_THRESHOLD_NAMES[key].env,
): QualityThresholds {
  const problems: string[] = [];
  const value = (key: keyof QualityThresholds): number => {
    const raw = read(key)?.trim();
    if (raw === undefined || raw === '') return DEFAULT_QUALITY_THRESHOLDS[key];
    const [low, high] = QUALITY_THRESHOLD_NAMES[key].range;
    const number = Number(raw);
    if (!Number.isFinite(number) || number < low || number > high) {
      problems.push(`${nameOf(key)} must be a number from ${low} to ${high} (got "${raw}")`);
      return DEFAULT_QUALITY_THRESHOLDS[key];
    }
    return number;
  };
  const thresholds = {
    silencePeakDbfs: value('silencePeakDbfs'),
    minSpeechLevelDbfs: value('minSpeechLevelDbfs'),
    maxClippedRatio: value('maxClippedRatio'),
  };
  if (problems.length > 0) throw new Error(problems.join('; '));
  return thresholds;
}

const percent = (ratio: number) => `${Number((ratio * 100).toFixed(1))} %`;

/** Every quality problem of a measured sample, each with the figure and the threshold. */
export function checkQuality(
  limits: ProviderLimits,
  quality: AudioQuality,
  thresholds: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): ValidationIssue[] {
  const { title } = limits;
  if (quality.peakDbfs === null || quality.peakDbfs < thresholds.silencePeakDbfs) {
    const peak = quality.peakDbfs === null ? 'is digital silence' : `peaks at ${quality.peakDbfs} dBFS`;
    return [
      {
        code: 'silent_audio',
        message: `The audio ${peak}: there is no usable signal (the loudest sample must reach ${thresholds.silencePeakDbfs} dBFS). Check the microphone and record again.`,
      },
    ];
  }
  const issues: ValidationIssue[] = [];
  if (quality.levelDbfs !== null && quality.levelDbfs < thresholds.minSpeechLevelDbfs) {
    issues.push({
      code: 'too_quiet',
      message: `The speech is at ${quality.levelDbfs} dBFS, far below a usable level (at least ${thresholds.minSpeechLevelDbfs} dBFS). Record closer to the microphone or raise its gain.`,
    });
  }
  if (quality.clippedRatio > thresholds.maxClippedRatio) {
    issues.push({
      code: 'clipped_audio',
      message: `${percent(quality.clippedRatio)} of the samples are clipped at full scale (at most ${percent(thresholds.maxClippedRatio)} allowed): the recording was too loud. Lower the gain and record again.`,
    });
  }
  // A sample shorter than the minimum is told so by its duration; the speech in it says nothing more.
  if (quality.speechSec < limits.minDurationSec && quality.analyzedSec >= limits.minDurationSec) {
    issues.push({
      code: 'too_little_speech',
      message: `The audio holds ${quality.speechSec.toFixed(1)} s of speech; ${title} needs at least ${limits.minDurationSec} s of someone speaking (noise, hum, whispering and silence do not count).`,
    });
  }
  return issues;
}
