/**
 * Synthetic signals with known figures for the decoder, speech-measurement and trim tests: tones, white
 * and pink noise, and speech-like phrases (voiced syllables with a pitch contour and formant-weighted
 * harmonics, noise-burst consonants between them, pauses between words and phrases) whose seconds of
 * "speech" are known. Deterministic for a seed.
 */

import { seededRandom } from '../audio/helpers';

export const dbfs = (linear: number) => 20 * Math.log10(linear);
export const fromDbfs = (decibels: number) => 10 ** (decibels / 20);

export function rmsDbfs(samples: Float32Array): number {
  let sum = 0;
  for (const value of samples) sum += value * value;
  return 10 * Math.log10(sum / Math.max(1, samples.length));
}

export function tone(frequency: number, seconds: number, sampleRate: number, amplitude = 0.5): Float32Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  for (let index = 0; index < samples.length; index++)
    samples[index] = amplitude * Math.sin((2 * Math.PI * frequency * index) / sampleRate);
  return samples;
}

/** White or pink (Paul Kellet's filter) noise scaled to `levelDbfs` RMS. */
export function noise(
  seconds: number,
  sampleRate: number,
  levelDbfs: number,
  colour: 'white' | 'pink' = 'white',
  seed = 7,
): Float32Array {
  const random = seededRandom(seed);
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  let [b0, b1, b2, b3, b4, b5, b6] = [0, 0, 0, 0, 0, 0, 0];
  for (let index = 0; index < samples.length; index++) {
    const white = random() * 2 - 1;
    if (colour === 'white') {
      samples[index] = white;
      continue;
    }
    b0 = 0.99886 * b0 + white * 0.0555179;
    b1 = 0.99332 * b1 + white * 0.0750759;
    b2 = 0.969 * b2 + white * 0.153852;
    b3 = 0.8665 * b3 + white * 0.3104856;
    b4 = 0.55 * b4 + white * 0.5329522;
    b5 = -0.7616 * b5 - white * 0.016898;
    samples[index] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + white * 0.5362;
    b6 = white * 0.115926;
  }
  return scaleToRms(samples, levelDbfs);
}

export function scaleToRms(samples: Float32Array, levelDbfs: number): Float32Array {
  const gain = fromDbfs(levelDbfs - rmsDbfs(samples));
  return samples.map((value) => value * gain);
}

export function scale(samples: Float32Array, gain: number): Float32Array {
  return samples.map((value) => value * gain);
}

/** `a + b`, as long as the longer of the two. */
export function mix(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(Math.max(a.length, b.length));
  for (let index = 0; index < out.length; index++) out[index] = (a[index] ?? 0) + (b[index] ?? 0);
  return out;
}

export function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export const silence = (seconds: number, sampleRate: number) =>
  new Float32Array(Math.round(seconds * sampleRate));

export interface SpeechLike {
  readonly samples: Float32Array;
  /** Seconds of syllables and consonants (the pauses excluded). */
  readonly speechSec: number;
  /** [start, end) seconds of each word, in order. */
  readonly words: readonly (readonly [number, number])[];
}

export interface SpeechLikeOptions {
  readonly sampleRate: number;
  /** Words per phrase, one entry per phrase. */
  readonly phrases: readonly number[];
  /** Pause between phrases (s). Default 0.8. */
  readonly phrasePauseSec?: number;
  /** Pause between words (s). Default 0.18. */
  readonly wordPauseSec?: number;
  /** Peak amplitude of the vowels. Default 0.5. */
  readonly amplitude?: number;
  readonly seed?: number;
}

/** Phrases of speech-like words; every word is 2–3 syllables, each a vowel with a consonant before it. */
export function speechLike(options: SpeechLikeOptions): SpeechLike {
  const { sampleRate, phrases, phrasePauseSec = 0.8, wordPauseSec = 0.18, amplitude = 0.5 } = options;
  const random = seededRandom(options.seed ?? 3);
  const parts: Float32Array[] = [];
  const words: [number, number][] = [];
  let at = 0;
  let speech = 0;
  const push = (part: Float32Array, isSpeech: boolean) => {
    parts.push(part);
    at += part.length;
    if (isSpeech) speech += part.length;
  };
  phrases.forEach((wordCount, phrase) => {
    if (phrase > 0) push(silence(phrasePauseSec, sampleRate), false);
    for (let word = 0; word < wordCount; word++) {
      if (word > 0) push(silence(wordPauseSec, sampleRate), false);
      const start = at;
      const syllables = 2 + Math.floor(random() * 2);
      for (let syllable = 0; syllable < syllables; syllable++) {
        push(consonant(0.04 + random() * 0.04, sampleRate, amplitude * 0.25, random), true);
        push(vowel(0.12 + random() * 0.12, sampleRate, 100 + random() * 120, amplitude), true);
      }
      words.push([start / sampleRate, at / sampleRate]);
    }
  });
  return { samples: concat(...parts), speechSec: speech / sampleRate, words };
}

/** A voiced vowel: harmonics of a gliding pitch, weighted by two formants, under a smooth envelope. */
function vowel(seconds: number, sampleRate: number, pitch: number, amplitude: number): Float32Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  const formants = [500 + pitch, 1500 + 2 * pitch];
  let phase = 0;
  for (let index = 0; index < samples.length; index++) {
    const progress = index / samples.length;
    phase += (2 * Math.PI * pitch * (1 + 0.1 * progress)) / sampleRate;
    let value = 0;
    for (let harmonic = 1; harmonic <= 12; harmonic++) {
      const frequency = harmonic * pitch;
      if (frequency > sampleRate / 2.2) break;
      const weight = formants.reduce((sum, formant) => sum + 1 / (1 + ((frequency - formant) / 250) ** 2), 0);
      value += (weight / harmonic ** 0.5) * Math.sin(harmonic * phase);
    }
    samples[index] = value * Math.sin(Math.PI * progress) ** 0.5;
  }
  let peak = 0;
  for (const value of samples) peak = Math.max(peak, Math.abs(value));
  return scale(samples, amplitude / (peak || 1));
}

/** A fricative-like burst: high-passed noise (first difference of white noise) with a short envelope. */
function consonant(
  seconds: number,
  sampleRate: number,
  amplitude: number,
  random: () => number,
): Float32Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  let previous = 0;
  for (let index = 0; index < samples.length; index++) {
    const white = random() * 2 - 1;
    samples[index] = (white - previous) * 0.5 * amplitude * Math.sin((Math.PI * index) / samples.length);
    previous = white;
  }
  return samples;
}

export type PcmEncoding = 'u8' | 'i16' | 'i24' | 'i32' | 'f32' | 'f64';

/** A WAV of `channels` (each −1…1) in `encoding`, written with a DataView (shares no code with decode-wav.ts). */
export function pcmWav(
  channels: readonly Float32Array[],
  sampleRate: number,
  encoding: PcmEncoding,
): Uint8Array {
  const bytesPerSample = { u8: 1, i16: 2, i24: 3, i32: 4, f32: 4, f64: 8 }[encoding];
  const frames = channels[0]?.length ?? 0;
  const blockAlign = bytesPerSample * channels.length;
  const dataBytes = frames * blockAlign;
  const isFloat = encoding === 'f32' || encoding === 'f64';
  const formatBytes = isFloat ? 18 : 16;
  const factBytes = isFloat ? 12 : 0;
  const header = 12 + 8 + formatBytes + factBytes + 8;
  const file = new Uint8Array(header + dataBytes + (dataBytes % 2));
  const view = new DataView(file.buffer);
  const ascii = (offset: number, text: string) => {
    for (let index = 0; index < text.length; index++) file[offset + index] = text.charCodeAt(index);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, file.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, formatBytes, true);
  view.setUint16(20, isFloat ? 3 : 1, true);
  view.setUint16(22, channels.length, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bytesPerSample * 8, true);
  let offset = 20 + formatBytes;
  if (isFloat) {
    ascii(offset, 'fact');
    view.setUint32(offset + 4, 4, true);
    view.setUint32(offset + 8, frames, true);
    offset += 12;
  }
  ascii(offset, 'data');
  view.setUint32(offset + 4, dataBytes, true);
  offset += 8;
  const integer = (value: number, bits: number) =>
    Math.max(-(2 ** (bits - 1)), Math.min(2 ** (bits - 1) - 1, Math.round(value * 2 ** (bits - 1))));
  for (let frame = 0; frame < frames; frame++) {
    for (const channel of channels) {
      const value = channel[frame] ?? 0;
      if (encoding === 'u8') view.setUint8(offset, integer(value, 8) + 128);
      else if (encoding === 'i16') view.setInt16(offset, integer(value, 16), true);
      else if (encoding === 'i24') {
        const sample = integer(value, 24);
        view.setUint8(offset, sample & 0xff);
        view.setUint8(offset + 1, (sample >> 8) & 0xff);
        view.setInt8(offset + 2, sample >> 16);
      } else if (encoding === 'i32') view.setInt32(offset, integer(value, 32), true);
      else if (encoding === 'f32') view.setFloat32(offset, value, true);
      else view.setFloat64(offset, value, true);
      offset += bytesPerSample;
    }
  }
  return file;
}
