/** Hand-built WAV and MP3 parts for the join and piece-reader tests: chunks, tags, headers. */
import { parseBuffer } from 'music-metadata';
import { findMpegStream, parseMpegFrameHeader, walkMpegFrames } from '../../../functions/shared/audio/mpeg';
import { encodeMp3, encodeWav, voicedSignal } from '../../../simulators/audio';
import { concat } from '../../audio/helpers';

export const ascii = (text: string) => new TextEncoder().encode(text);

export function text(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

export async function metadata(bytes: Uint8Array, mimeType: string) {
  const parsed = await parseBuffer(bytes, { mimeType, size: bytes.length }, { duration: true });
  return parsed.format;
}

// WAV builders

/** Speech-like 16-bit PCM as the providers return it. */
export function speechWav(seconds: number, sampleRate = 24_000, seed = 1): Uint8Array {
  return encodeWav(voicedSignal(seconds, sampleRate, seed), sampleRate);
}

export function chunk(id: string, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(8 + body.length + (body.length % 2));
  bytes.set(ascii(id), 0);
  new DataView(bytes.buffer).setUint32(4, body.length, true);
  bytes.set(body, 8);
  return bytes;
}

export function formatBody(options: {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  tag?: number;
}) {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  const blockAlign = options.channels * Math.ceil(options.bitsPerSample / 8);
  view.setUint16(0, options.tag ?? 1, true);
  view.setUint16(2, options.channels, true);
  view.setUint32(4, options.sampleRate, true);
  view.setUint32(8, options.sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, options.bitsPerSample, true);
  return body;
}

/** A RIFF/WAVE file from its chunks, with an honest RIFF size unless told otherwise. */
export function riff(chunks: readonly Uint8Array[], riffSize?: number): Uint8Array {
  const bytes = concat(ascii('RIFF'), new Uint8Array(4), ascii('WAVE'), ...chunks);
  new DataView(bytes.buffer).setUint32(4, riffSize ?? bytes.length - 8, true);
  return bytes;
}

/** The sample bytes of a canonical 44-byte-header WAV. */
export const samplesOf = (wav: Uint8Array) => wav.subarray(44);

/** What a streaming writer leaves behind: placeholder sizes it never went back to fill in. */
export function streamed(wav: Uint8Array, placeholder: number): Uint8Array {
  const copy = wav.slice();
  const view = new DataView(copy.buffer);
  view.setUint32(4, placeholder, true);
  view.setUint32(40, placeholder, true);
  return copy;
}

export function listChunk(): Uint8Array {
  return chunk('LIST', concat(ascii('INFO'), chunk('ISFT', ascii('Lavf60.16.100\0'))));
}

/** The canonical header fields of a joined WAV. */
export function header(wav: Uint8Array) {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  return {
    riff: text(wav, 0, 4),
    riffSize: view.getUint32(4, true),
    wave: text(wav, 8, 4),
    fmt: text(wav, 12, 4),
    fmtSize: view.getUint32(16, true),
    formatTag: view.getUint16(20, true),
    channels: view.getUint16(22, true),
    sampleRate: view.getUint32(24, true),
    byteRate: view.getUint32(28, true),
    blockAlign: view.getUint16(32, true),
    bitsPerSample: view.getUint16(34, true),
    data: text(wav, 36, 4),
    dataSize: view.getUint32(40, true),
  };
}

// MP3 builders

/** MPEG-2 Layer III, mono, 64 kbit/s, as lamejs writes it: audio frames only, no tags, no Xing frame. */
export function speechMp3(seconds: number, sampleRate = 24_000, seed = 1): Uint8Array {
  return encodeMp3(voicedSignal(seconds, sampleRate, seed), sampleRate);
}

export function frameCount(mp3: Uint8Array): number {
  const start = findMpegStream(mp3, 0, mp3.length, 3);
  if (start === undefined) throw new Error('no MPEG stream');
  return walkMpegFrames(mp3, start)?.frames ?? 0;
}

/** An ID3v2.4 tag with a title frame and `payload` as a private frame (a cover picture would sit there). */
export function id3v2(
  payload: Uint8Array = new Uint8Array(0),
  options: { footer?: boolean } = {},
): Uint8Array {
  const frame = (id: string, body: Uint8Array) => {
    const bytes = new Uint8Array(10 + body.length);
    bytes.set(ascii(id), 0);
    for (let index = 0; index < 4; index++) bytes[4 + index] = (body.length >> (7 * (3 - index))) & 0x7f;
    bytes.set(body, 10);
    return bytes;
  };
  const body = concat(frame('TIT2', concat(new Uint8Array([3]), ascii('Chunk 1'))), frame('PRIV', payload));
  const tagHeader = (magic: string) => {
    const bytes = new Uint8Array(10);
    bytes.set(ascii(magic), 0);
    bytes.set([4, 0, options.footer ? 0x10 : 0], 3);
    for (let index = 0; index < 4; index++) bytes[6 + index] = (body.length >> (7 * (3 - index))) & 0x7f;
    return bytes;
  };
  return concat(tagHeader('ID3'), body, options.footer ? tagHeader('3DI') : new Uint8Array(0));
}

/** A LAME-style Xing/Info frame claiming `frames` frames, with the stream's own frame header. */
export function informationFrame(mp3: Uint8Array, tag: 'Xing' | 'Info', frames: number): Uint8Array {
  const first = parseMpegFrameHeader(mp3, 0);
  if (!first) throw new Error('the MP3 does not start with a frame');
  const frame = new Uint8Array(first.frameLength);
  frame.set(mp3.subarray(0, 4), 0);
  // MPEG-2 mono: 9 bytes of side information after the header.
  const offset = 4 + 9;
  frame.set(ascii(tag), offset);
  const view = new DataView(frame.buffer);
  // Flags: frame count and stream size present, which is what makes players trust the count.
  view.setUint32(offset + 4, 0x0003, false);
  view.setUint32(offset + 8, frames, false);
  view.setUint32(offset + 12, frames * first.frameLength, false);
  return frame;
}

export function id3v1(): Uint8Array {
  const tag = new Uint8Array(128);
  tag.set(ascii('TAGChunk title'), 0);
  return tag;
}

/** An APEv2 tag with header and footer, holding `value` as a binary item (cover art would be one). */
export function apeTag(value: Uint8Array = ascii('Chunk')): Uint8Array {
  const itemHeader = new Uint8Array(8);
  new DataView(itemHeader.buffer).setUint32(0, value.length, true);
  // Flags: binary value.
  new DataView(itemHeader.buffer).setUint32(4, 0x2, true);
  const item = concat(itemHeader, ascii('Cover Art (Front)\0'), value);
  const headerOrFooter = (isHeader: boolean) => {
    const bytes = new Uint8Array(32);
    const view = new DataView(bytes.buffer);
    bytes.set(ascii('APETAGEX'), 0);
    view.setUint32(8, 2000, true);
    view.setUint32(12, item.length + 32, true);
    view.setUint32(16, 1, true);
    view.setUint32(20, 0x8000_0000 | (isHeader ? 0x2000_0000 : 0), true);
    return bytes;
  };
  return concat(headerOrFooter(true), item, headerOrFooter(false));
}

/**
 * Seconds of audio in a PCM-like WAV, read independently of the production code: whole sample frames of
 * its data chunk, which a size beyond the file (a streamed file's 0xFFFFFFFF placeholder) takes to its end.
 */
export function wavSeconds(wav: Uint8Array): number {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  let blockAlign = 0;
  let sampleRate = 0;
  for (let offset = 12; offset + 8 <= wav.length; ) {
    const size = view.getUint32(offset + 4, true);
    if (text(wav, offset, 4) === 'fmt ') {
      sampleRate = view.getUint32(offset + 12, true);
      blockAlign = view.getUint16(offset + 20, true);
    } else if (text(wav, offset, 4) === 'data') {
      const bytes = Math.min(size, wav.length - offset - 8);
      return Math.floor(bytes / blockAlign) / sampleRate;
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}
