/**
 * Opus in WebM (what browsers' MediaRecorder writes) to mono PCM: webm.ts hands over the audio track's
 * blocks, this splits laced ones into packets and feeds them to opus-decoder (libopus in WebAssembly,
 * ~85 KB of the clone bundle, imported on first use only; it compiles its module once per process and
 * each decode runs in a fresh instance that is freed afterwards).
 */

import { uint16LittleEndian } from './bytes';
import type { DecodeOutcome } from './decode';
import { MonoBuffer, withoutConsoleErrors } from './pcm';
import { walkWebm } from './webm';

/** Opus always decodes at 48 kHz here (its native rate: no resampling inside libopus). */
const OPUS_RATE = 48_000;
/** Bad packets tolerated before the rest of the file is given up as damage. */
const MAXIMUM_ERRORS = 200;
/** The largest packet opus-decoder's input buffer takes per channel (120 ms at 256 kbit/s). */
const MAXIMUM_PACKET_BYTES_PER_CHANNEL = 3_840;

interface OpusHead {
  readonly channels: number;
  readonly preSkip: number;
  readonly streamCount: number;
  readonly coupledStreamCount: number;
  readonly channelMappingTable: number[];
}

/** The OpusHead in a WebM track's CodecPrivate (RFC 7845 §5.1), or what a track without one implies. */
export function parseOpusHead(codecPrivate: Uint8Array | undefined, channels = 1): OpusHead | undefined {
  const isHead =
    codecPrivate !== undefined &&
    codecPrivate.length >= 19 &&
    String.fromCharCode(...codecPrivate.subarray(0, 8)) === 'OpusHead';
  if (!isHead) {
    if (channels < 1 || channels > 2) return undefined;
    const mapping = channels === 2 ? [0, 1] : [0];
    return {
      channels,
      preSkip: 0,
      streamCount: 1,
      coupledStreamCount: channels - 1,
      channelMappingTable: mapping,
    };
  }
  const count = codecPrivate[9] ?? 0;
  const preSkip = uint16LittleEndian(codecPrivate, 10) ?? 0;
  const family = codecPrivate[18] ?? 0;
  if (count < 1) return undefined;
  if (family === 0) {
    if (count > 2) return undefined;
    const mapping = count === 2 ? [0, 1] : [0];
    return {
      channels: count,
      preSkip,
      streamCount: 1,
      coupledStreamCount: count - 1,
      channelMappingTable: mapping,
    };
  }
  if (codecPrivate.length < 21 + count) return undefined;
  const streamCount = codecPrivate[19] ?? 0;
  const coupledStreamCount = codecPrivate[20] ?? 0;
  if (streamCount < 1 || coupledStreamCount > streamCount) return undefined;
  return {
    channels: count,
    preSkip,
    streamCount,
    coupledStreamCount,
    channelMappingTable: [...codecPrivate.subarray(21, 21 + count)],
  };
}

/** Reads an EBML-coded lace size (a variable-length integer) at `offset`. */
function laceNumber(block: Uint8Array, offset: number): { value: number; length: number } | undefined {
  const first = block[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (offset + length > block.length) return undefined;
  let value = first & (0xff >> length);
  for (let index = 1; index < length; index++) value = value * 256 + (block[offset + index] ?? 0);
  return { value, length };
}

/**
 * The frames of one (Simple)Block body: track number, timecode and flags, then one frame or several laced
 * ones (Xiph, fixed-size or EBML lacing, Matroska §10.3). Undefined when the lacing does not add up.
 */
export function blockFrames(block: Uint8Array): Uint8Array[] | undefined {
  const track = laceNumber(block, 0);
  if (!track) return undefined;
  const flagsAt = track.length + 2;
  const flags = block[flagsAt];
  if (flags === undefined) return undefined;
  const lacing = (flags >> 1) & 0b11;
  if (lacing === 0) return [block.subarray(flagsAt + 1)];
  const count = (block[flagsAt + 1] ?? 0) + 1;
  let offset = flagsAt + 2;
  const sizes: number[] = [];
  if (lacing === 0b01) {
    // Xiph: each size as a run of 255s and a last byte below 255.
    for (let frame = 0; frame < count - 1; frame++) {
      let size = 0;
      let byte: number | undefined;
      do {
        byte = block[offset++];
        if (byte === undefined) return undefined;
        size += byte;
      } while (byte === 255);
      sizes.push(size);
    }
  } else if (lacing === 0b11) {
    // EBML: the first size, then signed differences.
    const first = laceNumber(block, offset);
    if (!first) return undefined;
    offset += first.length;
    sizes.push(first.value);
    for (let frame = 1; frame < count - 1; frame++) {
      const difference = laceNumber(block, offset);
      if (!difference) return undefined;
      offset += difference.length;
      const bias = 2 ** (7 * difference.length - 1) - 1;
      sizes.push((sizes[frame - 1] as number) + difference.value - bias);
    }
  }
  const rest = block.length - offset;
  if (lacing === 0b10) {
    if (rest % count !== 0) return undefined;
    for (let frame = 0; frame < count - 1; frame++) sizes.push(rest / count);
  }
  const laced = sizes.reduce((total, size) => total + size, 0);
  if (sizes.some((size) => size < 0) || laced > rest) return undefined;
  sizes.push(rest - laced);
  const frames: Uint8Array[] = [];
  for (const size of sizes) {
    frames.push(block.subarray(offset, offset + size));
    offset += size;
  }
  return frames;
}

type OpusModule = typeof import('opus-decoder');
let opus: Promise<OpusModule> | undefined;

/** Mono PCM of a WebM file's Opus track, at most `maxSec` of it. */
export async function decodeWebmOpus(bytes: Uint8Array, maxSec: number): Promise<DecodeOutcome> {
  const packets: Uint8Array[] = [];
  let damagedBlocks = 0;
  const layout = walkWebm(bytes, (block) => {
    const frames = blockFrames(block);
    if (frames) packets.push(...frames);
    else damagedBlocks++;
  });
  const track = layout.audioTrack;
  if (track?.codec !== 'OPUS') return { decoded: false, reason: 'its WebM audio track is not Opus' };
  const head = parseOpusHead(track.codecPrivate, track.channels);
  if (!head) return { decoded: false, reason: 'its Opus header (OpusHead) is corrupt' };
  if (packets.length === 0) return { decoded: false, reason: 'its WebM file holds no Opus packets' };

  opus ??= import('opus-decoder');
  const { OpusDecoder } = await opus;
  const decoder = new OpusDecoder({ sampleRate: OPUS_RATE, ...head });
  const mono = new MonoBuffer(Math.floor(maxSec * OPUS_RATE), layout.measuredDurationSec * OPUS_RATE);
  const largest = MAXIMUM_PACKET_BYTES_PER_CHANNEL * head.channels;
  let errors = damagedBlocks;
  try {
    await decoder.ready;
    for (let index = 0; index < packets.length && !mono.full && errors <= MAXIMUM_ERRORS; index++) {
      const packet = packets[index] as Uint8Array;
      if (packet.length === 0 || packet.length > largest) {
        errors++;
        continue;
      }
      const result = withoutConsoleErrors(() => decoder.decodeFrame(packet));
      errors += result.errors.length;
      mono.append(result.channelData, result.samplesDecoded);
    }
  } catch {
    if (mono.size === 0) return { decoded: false, reason: 'its Opus packets could not be decoded' };
  } finally {
    try {
      decoder.free();
    } catch {
      // An instance that failed to start has nothing to free.
    }
  }
  if (mono.size === 0) return { decoded: false, reason: 'its Opus packets decode to nothing' };
  return {
    decoded: true,
    samples: mono.result(),
    sampleRate: OPUS_RATE,
    layout: { kind: 'webm', codec: 'Opus' },
    truncated: mono.full,
  };
}
