/**
 * How much usable speech a decoded sample holds: a frame-energy voice-activity detector relative to the
 * recording's own noise floor (so room noise, hiss and hum, which hold steady, are not speech, while a
 * quiet speaker in a quiet room is), the level of the speech itself, and the share of clipped samples.
 */

import type { DecodedAudio } from './decode';

/** The figures every verdict carries (the record's `source.quality`, the CLI's `--json` line). */
export interface AudioQuality {
  /** Seconds of the sample in which someone speaks. */
  readonly speechSec: number;
  /** RMS level of the speech, dBFS (null when there is none). */
  readonly levelDbfs: number | null;
  /** Highest sample, dBFS (null for digital silence). */
  readonly peakDbfs: number | null;
  /** Share of all samples that sit clipped at full scale (in runs, not a lone peak). */
  readonly clippedRatio: number;
  /** The level between words: the quietest tenth of the frames, dBFS (null for digital silence). */
  readonly noiseFloorDbfs: number | null;
  /** Seconds measured (the decoded length). */
  readonly analyzedSec: number;
}

/** Per-frame facts, for choosing where to cut (trim.ts). */
export interface SpeechFrames {
  readonly frameSec: number;
  /** Whether each frame is speech (after hangover smoothing). */
  readonly speech: Uint8Array;
  /** Clipped samples in each frame. */
  readonly clipped: Uint16Array;
}

export interface SpeechMeasurement {
  readonly quality: AudioQuality;
  readonly frames: SpeechFrames;
}

const FRAME_SEC = 0.02;
// A frame is speech when it stands this far above the noise floor and above an absolute floor of hearing.
const SPEECH_MARGIN_DB = 6;
const ABSOLUTE_FLOOR_DBFS = -70;
const FLOOR_PERCENTILE = 0.1;
// Syllables have gaps: frames this close before and after detected speech are speech too.
const HANGOVER_BEFORE_SEC = 0.06;
const HANGOVER_AFTER_SEC = 0.2;
const CLIP_LEVEL = 0.99;
const HIGH_PASS_HZ = 150;
const SILENCE_DB = -120;

const toDb = (power: number): number => (power > 0 ? 10 * Math.log10(power) : SILENCE_DB);
const round = (value: number, digits: number) => Number(value.toFixed(digits));

function percentile(values: Float64Array, share: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? SILENCE_DB;
}

/**
 * Frame powers (of the signal above HIGH_PASS_HZ: hum, rumble and the low end of pink noise carry energy
 * that fluctuates like speech over short frames, but no speech) and clipped-sample counts (of the samples
 * as recorded).
 */
function frameFacts(samples: Float32Array, frameLength: number, sampleRate: number) {
  const count = Math.floor(samples.length / frameLength);
  // First-order high-pass filter: y[n] = a · (y[n−1] + x[n] − x[n−1]).
  const a = Math.exp((-2 * Math.PI * HIGH_PASS_HZ) / sampleRate);
  let previousInput = 0;
  let previousOutput = 0;
  const power = new Float64Array(count);
  const clipped = new Uint16Array(count);
  let peak = 0;
  for (let frame = 0; frame < count; frame++) {
    let sum = 0;
    let clips = 0;
    const start = frame * frameLength;
    for (let index = start; index < start + frameLength; index++) {
      const value = samples[index] as number;
      const magnitude = Math.abs(value);
      const filtered = a * (previousOutput + value - previousInput);
      previousInput = value;
      previousOutput = filtered;
      sum += filtered * filtered;
      if (magnitude > peak) peak = magnitude;
      // Clipping holds full scale for consecutive samples; one loud peak is not clipping.
      if (magnitude >= CLIP_LEVEL && Math.abs(samples[index + 1] ?? 0) >= CLIP_LEVEL) clips++;
    }
    power[frame] = sum / frameLength;
    clipped[frame] = clips;
  }
  return { power, clipped, peak };
}

function smoothed(raw: Uint8Array, before: number, after: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let frame = 0; frame < raw.length; frame++) {
    if (!raw[frame]) continue;
    out.fill(1, Math.max(0, frame - before), Math.min(raw.length, frame + after + 1));
  }
  return out;
}

/** Speech activity, speech level and clipping of `audio`. Linear in its length; no allocation per sample. */
export function measureSpeech(audio: Pick<DecodedAudio, 'samples' | 'sampleRate'>): SpeechMeasurement {
  const frameLength = Math.max(1, Math.round(audio.sampleRate * FRAME_SEC));
  const frameSec = frameLength / audio.sampleRate;
  const { power, clipped, peak } = frameFacts(audio.samples, frameLength, audio.sampleRate);
  const decibels = power.map(toDb);
  const floorDb = decibels.length > 0 ? percentile(decibels, FLOOR_PERCENTILE) : SILENCE_DB;
  const threshold = Math.max(floorDb + SPEECH_MARGIN_DB, ABSOLUTE_FLOOR_DBFS);
  const raw = new Uint8Array(decibels.length);
  for (let frame = 0; frame < decibels.length; frame++)
    raw[frame] = (decibels[frame] as number) > threshold ? 1 : 0;
  const speech = smoothed(
    raw,
    Math.round(HANGOVER_BEFORE_SEC / frameSec),
    Math.round(HANGOVER_AFTER_SEC / frameSec),
  );

  let speechFrames = 0;
  let speechPower = 0;
  let clippedSamples = 0;
  for (let frame = 0; frame < speech.length; frame++) {
    clippedSamples += clipped[frame] as number;
    if (!speech[frame]) continue;
    speechFrames++;
    speechPower += power[frame] as number;
  }
  const analyzedSamples = decibels.length * frameLength;
  return {
    quality: {
      speechSec: round(speechFrames * frameSec, 2),
      levelDbfs: speechFrames > 0 ? round(toDb(speechPower / speechFrames), 1) : null,
      peakDbfs: peak > 0 ? round(20 * Math.log10(peak), 1) : null,
      clippedRatio: analyzedSamples > 0 ? round(clippedSamples / analyzedSamples, 4) : 0,
      noiseFloorDbfs: floorDb > SILENCE_DB ? round(floorDb, 1) : null,
      analyzedSec: round(audio.samples.length / audio.sampleRate, 3),
    },
    frames: { frameSec, speech, clipped },
  };
}
