/**
 * MPEG audio frame walk. music-metadata estimates MP3 length from a Xing/VBRI header or the bitrate, which
 * is wrong for a file cut short after its Xing header was written and for VBR without one; counting the
 * frames that are really there gives the playable length exactly.
 */

import { latin1, uint32BigEndian } from './bytes';

export interface MpegFrameHeader {
  /** 1, 2 or 2.5. */
  readonly version: number;
  readonly layer: 1 | 2 | 3;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Bytes of the whole frame, header included. */
  readonly frameLength: number;
  readonly samplesPerFrame: number;
  /** Version, layer and sample rate: every frame of one stream shares them. */
  readonly streamKey: number;
}

// Kilobits per second by bitrate index; 0 (free format) and 15 (invalid) are not accepted.
const BITRATES: Readonly<Record<string, readonly number[]>> = {
  'v1-l1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'v1-l2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'v1-l3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'v2-l1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'v2-l2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Readonly<Record<number, readonly number[]>> = {
  0: [11025, 12000, 8000], // MPEG 2.5
  2: [22050, 24000, 16000], // MPEG 2
  3: [44100, 48000, 32000], // MPEG 1
};
const VERSIONS: Readonly<Record<number, number>> = { 0: 2.5, 2: 2, 3: 1 };

/** Decodes the 4-byte frame header at `offset`, or undefined when it is not a valid one. */
export function parseMpegFrameHeader(bytes: Uint8Array, offset: number): MpegFrameHeader | undefined {
  if (offset < 0 || offset + 4 > bytes.length) return undefined;
  const b1 = bytes[offset + 1] ?? 0;
  const b2 = bytes[offset + 2] ?? 0;
  const b3 = bytes[offset + 3] ?? 0;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 0b11;
  const layerBits = (b1 >> 1) & 0b11;
  const bitrateIndex = b2 >> 4;
  const sampleRateIndex = (b2 >> 2) & 0b11;
  const version = VERSIONS[versionBits];
  const sampleRate = SAMPLE_RATES[versionBits]?.[sampleRateIndex];
  // Layer bits 00 are reserved (ADTS AAC uses them); emphasis 10 is reserved.
  if (version === undefined || sampleRate === undefined || layerBits === 0 || (b3 & 0b11) === 0b10)
    return undefined;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const table = version === 1 ? `v1-l${layer}` : layer === 1 ? 'v2-l1' : 'v2-l2';
  const kilobits = BITRATES[table]?.[bitrateIndex];
  if (!kilobits) return undefined;
  const padding = (b2 >> 1) & 1;
  const bitsPerSecond = kilobits * 1000;
  let frameLength: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    frameLength = (Math.floor((12 * bitsPerSecond) / sampleRate) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameLength = Math.floor((144 * bitsPerSecond) / sampleRate) + padding;
    samplesPerFrame = 1152;
  } else {
    frameLength = Math.floor((72 * bitsPerSecond) / sampleRate) + padding;
    samplesPerFrame = 576;
  }
  const channels = b3 >> 6 === 0b11 ? 1 : 2;
  return {
    version,
    layer,
    sampleRate,
    channels,
    frameLength,
    samplesPerFrame,
    streamKey: (versionBits << 4) | (layerBits << 2) | sampleRateIndex,
  };
}

/** How many frame headers of one stream follow each other from `offset`, up to `wanted`. */
function chainLength(bytes: Uint8Array, offset: number, wanted: number, streamKey?: number): number {
  let count = 0;
  let position = offset;
  let key = streamKey;
  while (count < wanted) {
    const header = parseMpegFrameHeader(bytes, position);
    if (!header || (key !== undefined && header.streamKey !== key)) break;
    key = header.streamKey;
    count++;
    position += header.frameLength;
  }
  return count;
}

/**
 * The offset in [from, to) where at least `minimumFrames` consecutive frames of one stream begin. Random
 * bytes contain frame-sync patterns often enough that one header proves nothing; several chained ones do.
 */
export function findMpegStream(
  bytes: Uint8Array,
  from: number,
  to: number,
  minimumFrames: number,
  streamKey?: number,
): number | undefined {
  const end = Math.min(to, bytes.length - 4);
  for (let offset = Math.max(0, from); offset <= end; offset++) {
    if (bytes[offset] !== 0xff) continue;
    if (chainLength(bytes, offset, minimumFrames, streamKey) >= minimumFrames) return offset;
  }
  return undefined;
}

/** Where an Xing/Info tag starts in the frame at `offset`: after the header and the side information. */
export function xingOffset(offset: number, header: MpegFrameHeader): number {
  const sideInformation =
    header.version === 1 ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  return offset + 4 + sideInformation;
}

/** Xing/Info (LAME) or VBRI metadata frame: an encoder's table of contents, not audio. */
export function isInformationFrame(bytes: Uint8Array, offset: number, header: MpegFrameHeader): boolean {
  const tag = latin1(bytes, xingOffset(offset, header), 4);
  return tag === 'Xing' || tag === 'Info' || latin1(bytes, offset + 36, 4) === 'VBRI';
}

/**
 * The audio frames the encoder says the stream holds (Xing/Info frame count, or VBRI's), from the first
 * frame alone: what a header-only look can know of an MP3's length. Undefined without such a frame.
 */
export function declaredMpegFrames(bytes: Uint8Array, offset: number): number | undefined {
  const header = parseMpegFrameHeader(bytes, offset);
  if (!header) return undefined;
  const xing = xingOffset(offset, header);
  const tag = latin1(bytes, xing, 4);
  if (tag === 'Xing' || tag === 'Info') {
    const flags = uint32BigEndian(bytes, xing + 4);
    // Bit 0: the frame count follows the flags.
    return flags !== undefined && (flags & 1) === 1 ? uint32BigEndian(bytes, xing + 8) : undefined;
  }
  if (latin1(bytes, offset + 36, 4) === 'VBRI') return uint32BigEndian(bytes, offset + 36 + 14);
  return undefined;
}

export interface MpegStreamFacts {
  readonly frames: number;
  readonly durationSec: number;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  readonly codec: string;
  readonly layer: 1 | 2 | 3;
}

// Frames that must chain before a lost sync counts as found again.
const RESYNC_FRAMES = 3;

/**
 * Counts the complete audio frames of the stream starting at `start` (a frame header found by
 * findMpegStream). A frame cut off by the end of the file, the encoder's Xing/Info frame, and bytes that
 * are not frames of this stream (tags, garbage) are not counted.
 */
export function walkMpegFrames(bytes: Uint8Array, start: number): MpegStreamFacts | undefined {
  const first = parseMpegFrameHeader(bytes, start);
  if (!first) return undefined;
  let frames = 0;
  let offset = start;
  let sawFirstFrame = false;
  while (offset + 4 <= bytes.length) {
    const header = parseMpegFrameHeader(bytes, offset);
    if (header && header.streamKey === first.streamKey) {
      if (offset + header.frameLength > bytes.length) break;
      if (sawFirstFrame || !isInformationFrame(bytes, offset, header)) frames++;
      sawFirstFrame = true;
      offset += header.frameLength;
      continue;
    }
    const next = findMpegStream(bytes, offset + 1, bytes.length, RESYNC_FRAMES, first.streamKey);
    if (next === undefined) break;
    offset = next;
  }
  return {
    frames,
    durationSec: (frames * first.samplesPerFrame) / first.sampleRate,
    sampleRate: first.sampleRate,
    channels: first.channels,
    codec: `MPEG ${first.version} Layer ${first.layer}`,
    layer: first.layer,
  };
}
