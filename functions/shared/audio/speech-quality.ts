/**
 * How much usable speech a decoded sample holds, the level of that speech, and the share of clipped
 * samples. The voice-activity detector works on 20 ms frames of the signal above 150 Hz:
 * 1. energy: a frame is active when it stands 6 dB above the recording's own noise floor (the quietest
 *    tenth of its frames) and above −70 dBFS, so steady room noise, hiss and hum are never speech while a
 *    quiet speaker in a quiet room is;
 * 2. hangover: frames shortly before and after active ones join them (syllables have gaps);
 * 3. voicing: a stretch of activity counts only where it holds voiced frames (a pitch period of 60–400 Hz,
 *    found by YIN's normalised difference on a ~4 kHz copy), and only within 0.4 s of one; noise whose
 *    level moves (a fan starting, bursts, an AGC pumping hiss) has no pitch and never counts, while the
 *    consonants between vowels do.
 * Linear in the length; memory is a few arrays per frame and a copy of the signal at about 4 kHz.
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
  /** Speech level above the noise floor, dB (null without speech or without a floor). */
  readonly snrDb: number | null;
  /** Seconds measured (the decoded length). */
  readonly analyzedSec: number;
}

/** Per-frame facts, for choosing where to cut (trim.ts). */
export interface SpeechFrames {
  readonly frameSec: number;
  /** Whether each frame is speech (after hangover smoothing and the voicing check). */
  readonly speech: Uint8Array;
  /** Clipped samples in each frame. */
  readonly clipped: Uint16Array;
  /** Each frame's level (of the signal above 150 Hz), dBFS; −120 for digital silence. */
  readonly levelDb: Float32Array;
}

export interface SpeechMeasurement {
  readonly quality: AudioQuality;
  readonly frames: SpeechFrames;
}

const FRAME_SEC = 0.02;
// A frame is active when it stands this far above the noise floor and above an absolute floor of hearing.
const SPEECH_MARGIN_DB = 6;
const ABSOLUTE_FLOOR_DBFS = -70;
const FLOOR_PERCENTILE = 0.1;
// Syllables have gaps: frames this close before and after active ones are active too.
const HANGOVER_BEFORE_SEC = 0.06;
const HANGOVER_AFTER_SEC = 0.2;
const CLIP_LEVEL = 0.99;
const HIGH_PASS_HZ = 150;
const SILENCE_DB = -120;

// Voicing: pitch periods of 60–400 Hz on a copy at about 4 kHz, over a 25 ms window.
const VOICING_RATE_HZ = 4_000;
const VOICING_WINDOW_SEC = 0.025;
const LOWEST_PITCH_HZ = 60;
const HIGHEST_PITCH_HZ = 400;
// YIN's cumulative-mean-normalised difference at the period: near 0 for a clean vowel, ~1 for noise.
const VOICED_DIFFERENCE = 0.35;
// A stretch of activity is speech only with this many voiced frames, this share of its active ones…
const MIN_VOICED_FRAMES = 3;
const MIN_VOICED_SHARE = 0.2;
// …and only its frames this close to a voiced one (the consonants around a vowel).
const VOICED_REACH_SEC = 0.4;

const toDb = (power: number): number => (power > 0 ? 10 * Math.log10(power) : SILENCE_DB);
const round = (value: number, digits: number) => Number(value.toFixed(digits));

function percentile(values: Float32Array, share: number): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? SILENCE_DB;
}

/**
 * Frame powers of the signal above HIGH_PASS_HZ (hum, rumble and the low end of pink noise carry energy
 * that fluctuates like speech over short frames, but no speech), clipped-sample counts of the samples as
 * recorded, and the filtered signal averaged down to about VOICING_RATE_HZ for the voicing check.
 */
function frameFacts(samples: Float32Array, frameLength: number, sampleRate: number) {
  const count = Math.floor(samples.length / frameLength);
  // First-order high-pass filter: y[n] = a · (y[n−1] + x[n] − x[n−1]).
  const a = Math.exp((-2 * Math.PI * HIGH_PASS_HZ) / sampleRate);
  const factor = Math.max(1, Math.round(sampleRate / VOICING_RATE_HZ));
  const reduced = new Float32Array(Math.floor((count * frameLength) / factor));
  let previousInput = 0;
  let previousOutput = 0;
  let box = 0;
  let boxFill = 0;
  let reducedLength = 0;
  const levelDb = new Float32Array(count);
  const clipped = new Uint16Array(count);
  let peak = 0;
  for (let frame = 0; frame < count; frame++) {
    let sum = 0;
    let clips = 0;
    const start = frame * frameLength;
    for (let index = start; index < start + frameLength; index++) {
      const value = samples[index] as number;
      const magnitude = value < 0 ? -value : value;
      const filtered = a * (previousOutput + value - previousInput);
      previousInput = value;
      previousOutput = filtered;
      sum += filtered * filtered;
      box += filtered;
      if (++boxFill === factor) {
        if (reducedLength < reduced.length) reduced[reducedLength++] = box / factor;
        box = 0;
        boxFill = 0;
      }
      if (magnitude > peak) peak = magnitude;
      // Clipping holds full scale for consecutive samples; one loud peak is not clipping.
      if (magnitude >= CLIP_LEVEL && Math.abs(samples[index + 1] ?? 0) >= CLIP_LEVEL) clips++;
    }
    levelDb[frame] = toDb(sum / frameLength);
    clipped[frame] = clips;
  }
  return {
    levelDb,
    clipped,
    peak,
    reduced,
    reducedPerFrame: frameLength / factor,
    reducedRate: sampleRate / factor,
  };
}

/** Whether the window of `reduced` starting at `start` has a pitch period (YIN, de Cheveigné & Kawahara). */
function isVoiced(reduced: Float32Array, start: number, window: number, minLag: number, maxLag: number) {
  if (start + window + maxLag > reduced.length) return false;
  let cumulative = 0;
  for (let lag = 1; lag <= maxLag; lag++) {
    let difference = 0;
    for (let index = start; index < start + window; index++) {
      const delta = (reduced[index] as number) - (reduced[index + lag] as number);
      difference += delta * delta;
    }
    cumulative += difference;
    if (lag >= minLag && cumulative > 0 && (difference * lag) / cumulative < VOICED_DIFFERENCE) return true;
  }
  return false;
}

function smoothed(raw: Uint8Array, before: number, after: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let frame = 0; frame < raw.length; frame++) {
    if (!raw[frame]) continue;
    out.fill(1, Math.max(0, frame - before), Math.min(raw.length, frame + after + 1));
  }
  return out;
}

/**
 * Keeps of each stretch of `speech` only what the voicing check allows (see the file comment); `active`
 * and `voiced` are the per-frame energy and voicing decisions. Changes `speech` in place.
 */
function keepVoicedStretches(speech: Uint8Array, active: Uint8Array, voiced: Uint8Array, reach: number) {
  const count = speech.length;
  // Distance in frames to the nearest voiced frame, from both sides.
  const distance = new Uint32Array(count).fill(0xffffffff);
  for (let frame = 0, last = -1; frame < count; frame++) {
    if (voiced[frame]) last = frame;
    if (last >= 0) distance[frame] = frame - last;
  }
  for (let frame = count - 1, next = -1; frame >= 0; frame--) {
    if (voiced[frame]) next = frame;
    if (next >= 0) distance[frame] = Math.min(distance[frame] as number, next - frame);
  }
  for (let start = 0; start < count; ) {
    if (!speech[start]) {
      start++;
      continue;
    }
    let end = start;
    let voicedFrames = 0;
    let activeFrames = 0;
    for (; end < count && speech[end]; end++) {
      voicedFrames += voiced[end] as number;
      activeFrames += active[end] as number;
    }
    const isSpeech = voicedFrames >= MIN_VOICED_FRAMES && voicedFrames >= MIN_VOICED_SHARE * activeFrames;
    for (let frame = start; frame < end; frame++) {
      if (!isSpeech || (distance[frame] as number) > reach) speech[frame] = 0;
    }
    start = end;
  }
}

/** Speech activity, speech level and clipping of `audio`. Linear in its length; no allocation per sample. */
export function measureSpeech(audio: Pick<DecodedAudio, 'samples' | 'sampleRate'>): SpeechMeasurement {
  const frameLength = Math.max(1, Math.round(audio.sampleRate * FRAME_SEC));
  const frameSec = frameLength / audio.sampleRate;
  const { levelDb, clipped, peak, reduced, reducedPerFrame, reducedRate } = frameFacts(
    audio.samples,
    frameLength,
    audio.sampleRate,
  );
  const count = levelDb.length;
  const floorDb = count > 0 ? percentile(levelDb, FLOOR_PERCENTILE) : SILENCE_DB;
  const threshold = Math.max(floorDb + SPEECH_MARGIN_DB, ABSOLUTE_FLOOR_DBFS);

  const active = new Uint8Array(count);
  const voiced = new Uint8Array(count);
  const window = Math.max(1, Math.round(VOICING_WINDOW_SEC * reducedRate));
  const minLag = Math.max(2, Math.ceil(reducedRate / HIGHEST_PITCH_HZ));
  const maxLag = Math.max(minLag, Math.floor(reducedRate / LOWEST_PITCH_HZ));
  for (let frame = 0; frame < count; frame++) {
    if ((levelDb[frame] as number) <= threshold) continue;
    active[frame] = 1;
    voiced[frame] = isVoiced(reduced, Math.floor(frame * reducedPerFrame), window, minLag, maxLag) ? 1 : 0;
  }
  const speech = smoothed(
    active,
    Math.round(HANGOVER_BEFORE_SEC / frameSec),
    Math.round(HANGOVER_AFTER_SEC / frameSec),
  );
  keepVoicedStretches(speech, active, voiced, Math.round(VOICED_REACH_SEC / frameSec));

  let speechFrames = 0;
  let speechPower = 0;
  let clippedSamples = 0;
  for (let frame = 0; frame < count; frame++) {
    clippedSamples += clipped[frame] as number;
    if (!speech[frame]) continue;
    speechFrames++;
    speechPower += 10 ** ((levelDb[frame] as number) / 10);
  }
  const analyzedSamples = count * frameLength;
  const levelDbfs = speechFrames > 0 ? round(toDb(speechPower / speechFrames), 1) : null;
  const noiseFloorDbfs = floorDb > SILENCE_DB ? round(floorDb, 1) : null;
  return {
    quality: {
      speechSec: round(speechFrames * frameSec, 2),
      levelDbfs,
      peakDbfs: peak > 0 ? round(20 * Math.log10(peak), 1) : null,
      clippedRatio: analyzedSamples > 0 ? round(clippedSamples / analyzedSamples, 4) : 0,
      noiseFloorDbfs,
      snrDb: levelDbfs !== null && noiseFloorDbfs !== null ? round(levelDbfs - noiseFloorDbfs, 1) : null,
      analyzedSec: round(audio.samples.length / audio.sampleRate, 3),
    },
    frames: { frameSec, speech, clipped, levelDb },
  };
}
