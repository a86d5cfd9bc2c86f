/**
 * Audio to PCM for the speech-quality gate and trimming: WAV PCM (8/16/24/32-bit integer, 32/64-bit float)
 * read directly; MP3 through mpg123-decoder (WebAssembly, loaded and compiled on first use only, so the
 * clone function's import time does not pay for it). Other codecs (AAC in MP4, Opus/Vorbis in WebM,
 * compressed WAV) are not decoded: the caller says so in the verdict instead of guessing.
 */

import { latin1, uint32LittleEndian } from './bytes';
import { findMpegStream, isInformationFrame, parseMpegFrameHeader } from './mpeg';
import type { AudioProbe } from './types';
import { parseFormatChunk, type WaveFormat } from './wav';

export type AudibleProbe = Extract<AudioProbe, { kind: 'audio' }>;

/** Where the samples lie in the file, so a cut can copy them exactly. */
export type SampleLayout =
  | {
      readonly kind: 'wav';
      readonly dataOffset: number;
      /** Bytes of the data chunk that the file really holds (whole sample frames). */
      readonly dataBytes: number;
      readonly blockAlign: number;
      /** The fmt chunk's body, copied into a cut. */
      readonly formatChunk: Uint8Array;
    }
  | {
      readonly kind: 'mp3';
      /** Byte offset of every audio frame, and one past the last. */
      readonly frameOffsets: readonly number[];
      readonly samplesPerFrame: number;
    };

export interface DecodedAudio {
  readonly decoded: true;
  /** Mono (channels averaged), −1…1. */
  readonly samples: Float32Array;
  readonly sampleRate: number;
  readonly layout: SampleLayout;
}

export type DecodeOutcome = DecodedAudio | { readonly decoded: false; readonly reason: string };

const FORMAT_NAMES = { wav: 'WAV', mp3: 'MP3', mp4: 'MP4', webm: 'WebM' } as const;

const notDecoded = (reason: string): DecodeOutcome => ({ decoded: false, reason });

const PCM_TAG = 1;
const FLOAT_TAG = 3;
const MAXIMUM_CHUNKS = 64;

function wavLayout(
  bytes: Uint8Array,
): { format: WaveFormat; formatChunk: Uint8Array; offset: number; size: number } | undefined {
  let format: WaveFormat | undefined;
  let formatChunk: Uint8Array | undefined;
  let offset = 12;
  for (let chunk = 0; chunk < MAXIMUM_CHUNKS && offset + 8 <= bytes.length; chunk++) {
    const id = latin1(bytes, offset, 4);
    const size = uint32LittleEndian(bytes, offset + 4) ?? 0;
    const body = offset + 8;
    if (id === 'fmt ') {
      formatChunk = bytes.slice(body, body + size);
      format = parseFormatChunk(formatChunk);
    } else if (id === 'data') {
      if (!format || !formatChunk) return undefined;
      // 0 and 0xFFFFFFFF: a streamed WAV whose writer could not fill the size in.
      const declared = size === 0 || size === 0xffffffff ? bytes.length - body : size;
      return { format, formatChunk, offset: body, size: Math.min(declared, bytes.length - body) };
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}

function decodeWav(bytes: Uint8Array): DecodeOutcome {
  const found = wavLayout(bytes);
  if (!found) return notDecoded('its WAV chunks could not be read');
  const { format } = found;
  const bits = format.bitsPerSample;
  const isFloat = format.tag === FLOAT_TAG && (bits === 32 || bits === 64);
  const isInteger = format.tag === PCM_TAG && [8, 16, 24, 32].includes(bits);
  if (!isFloat && !isInteger) return notDecoded('its WAV codec is compressed (only PCM WAV is measured)');
  const channels = format.channels;
  const bytesPerSample = bits / 8;
  const blockAlign = channels * bytesPerSample;
  if (channels === 0 || format.sampleRate === 0) return notDecoded('its WAV header is corrupt');
  const frames = Math.floor(found.size / blockAlign);
  const view = new DataView(bytes.buffer, bytes.byteOffset + found.offset, frames * blockAlign);
  const samples = new Float32Array(frames);
  const read = sampleReader(view, bits, isFloat);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < channels; channel++) {
      sum += read(frame * blockAlign + channel * bytesPerSample);
    }
    samples[frame] = sum / channels;
  }
  return {
    decoded: true,
    samples,
    sampleRate: format.sampleRate,
    layout: {
      kind: 'wav',
      dataOffset: found.offset,
      dataBytes: frames * blockAlign,
      blockAlign,
      formatChunk: found.formatChunk,
    },
  };
}

function sampleReader(view: DataView, bits: number, isFloat: boolean): (offset: number) => number {
  if (isFloat) {
    return bits === 32
      ? (offset) => view.getFloat32(offset, true)
      : (offset) => view.getFloat64(offset, true);
  }
  switch (bits) {
    case 8:
      return (offset) => (view.getUint8(offset) - 128) / 128;
    case 16:
      return (offset) => view.getInt16(offset, true) / 32_768;
    case 24:
      return (offset) =>
        ((view.getInt8(offset + 2) << 16) | (view.getUint8(offset + 1) << 8) | view.getUint8(offset)) /
        8_388_608;
    default:
      return (offset) => view.getInt32(offset, true) / 2_147_483_648;
  }
}

/** Every audio frame of the stream, by byte offset (tags, the Xing frame and junk between frames skipped). */
function mpegFrameOffsets(bytes: Uint8Array): { offsets: number[]; samplesPerFrame: number } | undefined {
  const start = findMpegStream(bytes, 0, bytes.length, 3);
  if (start === undefined) return undefined;
  const first = parseMpegFrameHeader(bytes, start);
  if (!first) return undefined;
  const offsets: number[] = [];
  let offset = start;
  while (offset + 4 <= bytes.length) {
    const header = parseMpegFrameHeader(bytes, offset);
    if (header && header.streamKey === first.streamKey && offset + header.frameLength <= bytes.length) {
      // The encoder's Xing/Info frame is a table of contents, not audio (the decoder outputs nothing for it).
      if (offsets.length > 0 || !isInformationFrame(bytes, offset, header)) offsets.push(offset);
      offset += header.frameLength;
      continue;
    }
    const next = findMpegStream(bytes, offset + 1, bytes.length, 3, first.streamKey);
    if (next === undefined) break;
    offset = next;
  }
  if (offsets.length === 0) return undefined;
  const last = offsets[offsets.length - 1] as number;
  offsets.push(last + (parseMpegFrameHeader(bytes, last)?.frameLength ?? 0));
  return { offsets, samplesPerFrame: first.samplesPerFrame };
}

type Mpg123 = typeof import('mpg123-decoder');
let mpg123: Promise<Mpg123> | undefined;

async function decodeMp3(bytes: Uint8Array): Promise<DecodeOutcome> {
  const frames = mpegFrameOffsets(bytes);
  if (!frames) return notDecoded('it holds no MP3 frames');
  mpg123 ??= import('mpg123-decoder');
  const { MPEGDecoder } = await mpg123;
  // Gapless off: sample n of the decoder's output is sample n of the frames, so a cut maps onto frames.
  const decoder = new MPEGDecoder({ enableGapless: false });
  try {
    await decoder.ready;
    const first = frames.offsets[0] as number;
    const end = frames.offsets[frames.offsets.length - 1] as number;
    const result = decoder.decode(bytes.subarray(first, end));
    const channels = result.channelData.filter((channel) => channel.length > 0);
    if (result.samplesDecoded === 0 || channels.length === 0)
      return notDecoded('its MP3 frames decode to nothing');
    const samples = new Float32Array(result.samplesDecoded);
    for (const channel of channels) {
      for (let index = 0; index < samples.length; index++)
        samples[index] = (samples[index] as number) + (channel[index] ?? 0) / channels.length;
    }
    return {
      decoded: true,
      samples,
      sampleRate: result.sampleRate,
      layout: { kind: 'mp3', frameOffsets: frames.offsets, samplesPerFrame: frames.samplesPerFrame },
    };
  } catch {
    return notDecoded('its MP3 frames could not be decoded');
  } finally {
    decoder.free();
  }
}

/** PCM of the audio `probe` describes, or why it is not decoded. Never throws because of the bytes. */
export async function decodeAudio(bytes: Uint8Array, probe: AudibleProbe): Promise<DecodeOutcome> {
  try {
    switch (probe.format) {
      case 'wav':
        return decodeWav(bytes);
      case 'mp3':
        return await decodeMp3(bytes);
      default:
        return notDecoded(
          `${probe.codec ?? 'Its'} audio in ${FORMAT_NAMES[probe.format]} is not decoded here`,
        );
    }
  } catch {
    return notDecoded('its audio could not be decoded');
  }
}
