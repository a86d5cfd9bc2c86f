import { Mp3Encoder } from '@breezystack/lamejs';
import { parseBuffer } from 'music-metadata';

/**
 * Audio for the provider simulators and the tests: a speech-like signal (voiced syllables with pitch
 * movement and pauses, never silence, so duration and loudness checks behave as with real speech),
 * WAV/MP3/G.711 encoders, and a container-level probe that does not share code with voicedrop's own
 * validator. Simulator-only: imports lamejs and music-metadata, never bundled into a Lambda.
 */

/** The parts one after another (lamejs hands out Int8Arrays, which Buffer.concat refuses). */
function joinBytes(parts: readonly ArrayBufferView[]): Uint8Array {
  const views = parts.map((part) => new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  return new Uint8Array(Buffer.concat(views));
}

/** Mono 16-bit samples of a voiced, syllable-like pattern. Deterministic for a given seed. */
export function voicedSignal(durationSec: number, sampleRate: number, seed = 1): Int16Array {
  const total = Math.max(0, Math.round(durationSec * sampleRate));
  const samples = new Int16Array(total);
  let random = seed >>> 0 || 1;
  const next = () => {
    // xorshift32: cheap and reproducible, so a test sample is byte-identical across runs.
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random >>> 0) / 0x1_0000_0000;
  };

  let index = 0;
  let phase = 0;
  while (index < total) {
    const syllable = Math.round((0.12 + next() * 0.2) * sampleRate);
    const pause = Math.round((0.03 + next() * 0.12) * sampleRate);
    const basePitch = 110 + next() * 110;
    const glide = (next() - 0.5) * 60;
    for (let offset = 0; offset < syllable && index < total; offset += 1, index += 1) {
      const progress = offset / syllable;
      const pitch = basePitch + glide * progress;
      phase += (2 * Math.PI * pitch) / sampleRate;
      // A few harmonics with falling weights, like a glottal source through a vowel.
      const voiced =
        Math.sin(phase) + 0.5 * Math.sin(2 * phase) + 0.3 * Math.sin(3 * phase) + 0.15 * Math.sin(5 * phase);
      const envelope = Math.sin(Math.PI * progress) ** 0.6;
      const breath = (next() - 0.5) * 0.04;
      samples[index] = Math.round(
        Math.max(-1, Math.min(1, 0.42 * voiced * envelope + breath)) * 32_767 * 0.8,
      );
    }
    for (let offset = 0; offset < pause && index < total; offset += 1, index += 1) {
      samples[index] = Math.round((next() - 0.5) * 120);
    }
  }
  return samples;
}

/** A stable seed per voice id, so one voice always sounds (and encodes) the same. */
export function seedFor(text: string): number {
  let value = 2_166_136_261;
  for (const character of text) value = Math.imul(value ^ (character.codePointAt(0) ?? 0), 16_777_619);
  return value >>> 0;
}

/** RIFF/WAVE PCM 16-bit from interleaved samples; `extraChunks` go between `fmt ` and `data`. */
export function encodeWav(
  samples: Int16Array,
  sampleRate: number,
  channels = 1,
  extraChunks: readonly { readonly id: string; readonly data: Uint8Array }[] = [],
): Uint8Array {
  const extraBytes = extraChunks.reduce(
    (sum, chunk) => sum + 8 + chunk.data.byteLength + (chunk.data.byteLength % 2),
    0,
  );
  const dataBytes = samples.byteLength;
  const bytes = new Uint8Array(44 + extraBytes + dataBytes);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let index = 0; index < text.length; index += 1) bytes[offset + index] = text.charCodeAt(index);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.byteLength - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  let offset = 36;
  for (const chunk of extraChunks) {
    ascii(offset, chunk.id.padEnd(4, ' ').slice(0, 4));
    view.setUint32(offset + 4, chunk.data.byteLength, true);
    bytes.set(chunk.data, offset + 8);
    offset += 8 + chunk.data.byteLength + (chunk.data.byteLength % 2);
  }
  ascii(offset, 'data');
  view.setUint32(offset + 4, dataBytes, true);
  for (let index = 0; index < samples.length; index += 1) {
    view.setInt16(offset + 8 + index * 2, samples[index] ?? 0, true);
  }
  return bytes;
}

/**
 * A valid WAV whose data chunk is empty, with a LIST/INFO chunk bringing it to ~150 bytes: what
 * Smallest answers on v3.1 for a clone made by the old lightning-large endpoint.
 */
export function emptyWav(sampleRate: number): Uint8Array {
  const entries: [string, string][] = [
    ['ISFT', 'Lavf60.16.100'],
    ['ICMT', 'voice has no lightning-v3.1 embedding; generated 0 frames'],
  ];
  const encoded = entries.map(([id, text]) => {
    const value = new TextEncoder().encode(`${text}\0`);
    const padded = new Uint8Array(8 + value.byteLength + (value.byteLength % 2));
    padded.set(new TextEncoder().encode(id), 0);
    new DataView(padded.buffer).setUint32(4, value.byteLength, true);
    padded.set(value, 8);
    return padded;
  });
  const info = joinBytes([new TextEncoder().encode('INFO'), ...encoded]);
  return encodeWav(new Int16Array(0), sampleRate, 1, [{ id: 'LIST', data: info }]);
}

/** MPEG-1/2 Layer III, mono, 64 kbit/s (lamejs takes 8–48 kHz). */
export function encodeMp3(samples: Int16Array, sampleRate: number): Uint8Array {
  const encoder = new Mp3Encoder(1, sampleRate, 64);
  const parts: ArrayBufferView[] = [];
  const frame = 1152;
  for (let offset = 0; offset < samples.length; offset += frame) {
    const chunk = encoder.encodeBuffer(samples.subarray(offset, offset + frame));
    if (chunk.byteLength > 0) parts.push(chunk);
  }
  const tail = encoder.flush();
  if (tail.byteLength > 0) parts.push(tail);
  return joinBytes(parts);
}

/** Headerless little-endian 16-bit PCM (Smallest's default `output_format`). */
export function encodePcm(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < samples.length; index += 1) view.setInt16(index * 2, samples[index] ?? 0, true);
  return bytes;
}

/** G.711 μ-law, one byte per sample. */
export function encodeMuLaw(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length);
  for (let index = 0; index < samples.length; index += 1) {
    const sample = samples[index] ?? 0;
    const sign = sample < 0 ? 0x80 : 0;
    const magnitude = Math.min(Math.abs(sample), 32_635) + 0x84;
    let exponent = 7;
    for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
    const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
    bytes[index] = ~(sign | (exponent << 4) | mantissa) & 0xff;
  }
  return bytes;
}

/** G.711 A-law, one byte per sample. */
export function encodeALaw(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length);
  for (let index = 0; index < samples.length; index += 1) {
    const sample = samples[index] ?? 0;
    const sign = sample >= 0 ? 0x80 : 0;
    const magnitude = Math.min(Math.abs(sample), 32_767) >> 3;
    let encoded = magnitude >> 1;
    if (magnitude >= 32) {
      let exponent = 1;
      while (exponent < 7 && magnitude >= 32 << exponent) exponent += 1;
      encoded = (exponent << 4) | ((magnitude >> exponent) & 0x0f);
    }
    bytes[index] = (sign | encoded) ^ 0x55;
  }
  return bytes;
}

export interface ProbedAudio {
  /** music-metadata's container name ("WAVE", "MPEG", "MPEG-4", "EBML/webm", …). */
  readonly container: string;
  readonly durationSec: number;
}

/** Container and playable duration, or undefined when the bytes are not readable audio. */
export async function probeAudio(bytes: Uint8Array, mimeType?: string): Promise<ProbedAudio | undefined> {
  try {
    const metadata = await parseBuffer(bytes, mimeType ? { mimeType, size: bytes.byteLength } : undefined, {
      duration: true,
      skipCovers: true,
    });
    const { container, duration } = metadata.format;
    if (!container || duration === undefined || !Number.isFinite(duration) || duration <= 0) return undefined;
    return { container, durationSec: duration };
  } catch {
    return undefined;
  }
}

/** The RIFF/WAVE header of a streamed 16-bit PCM WAV: RIFF and data sizes are 0xFFFFFFFF (length unknown). */
export function streamingWavHeader(sampleRate: number, channels = 1): Uint8Array {
  const header = encodeWav(new Int16Array(0), sampleRate, channels);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  view.setUint32(4, 0xffff_ffff, true);
  view.setUint32(40, 0xffff_ffff, true);
  return header;
}

const MP3_BITRATES_KBPS = {
  mpeg1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  mpeg2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
} as const;
const MP3_SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = {
  3: [44_100, 48_000, 32_000],
  2: [22_050, 24_000, 16_000],
  0: [11_025, 12_000, 8_000],
};

export interface Mp3Frame {
  readonly offset: number;
  readonly length: number;
  /** Samples per channel the frame decodes to (1152 for MPEG-1, 576 for MPEG-2 and 2.5). */
  readonly samples: number;
  readonly sampleRate: number;
}

/**
 * The Layer III frames of an MP3, in order (a leading ID3v2 tag skipped). Stops at the first bytes that
 * are not a frame header; `encodeMp3`'s output is frames only.
 */
export function mp3Frames(bytes: Uint8Array): Mp3Frame[] {
  const frames: Mp3Frame[] = [];
  let offset = 0;
  if (bytes.byteLength >= 10 && String.fromCharCode(bytes[0] ?? 0, bytes[1] ?? 0, bytes[2] ?? 0) === 'ID3') {
    const size =
      (((bytes[6] ?? 0) & 0x7f) << 21) |
      (((bytes[7] ?? 0) & 0x7f) << 14) |
      (((bytes[8] ?? 0) & 0x7f) << 7) |
      ((bytes[9] ?? 0) & 0x7f);
    offset = 10 + size;
  }
  while (offset + 4 <= bytes.byteLength) {
    const b1 = bytes[offset + 1] ?? 0;
    const b2 = bytes[offset + 2] ?? 0;
    if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0 || ((b1 >> 1) & 3) !== 1) break;
    const version = (b1 >> 3) & 3;
    const sampleRate = MP3_SAMPLE_RATES[version]?.[(b2 >> 2) & 3];
    const kbps = (version === 3 ? MP3_BITRATES_KBPS.mpeg1 : MP3_BITRATES_KBPS.mpeg2)[b2 >> 4];
    if (!sampleRate || !kbps) break;
    const padding = (b2 >> 1) & 1;
    const mpeg1 = version === 3;
    const length = Math.floor(((mpeg1 ? 144_000 : 72_000) * kbps) / sampleRate) + padding;
    if (offset + length > bytes.byteLength) break;
    frames.push({ offset, length, samples: mpeg1 ? 1152 : 576, sampleRate });
    offset += length;
  }
  return frames;
}
