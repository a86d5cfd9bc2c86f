import { writeLatin1 } from './bytes';
/**
 * Cutting an MP3 at whole frames. The cut holds the audio frames that cover the span and nothing else: the
 * ID3 tags (metadata, cover art) and any junk between frames are left out, and so is the encoder's
 * Xing/Info frame, whose counts describe the whole file. For Layer III a fresh Info (constant bitrate) or
 * Xing (variable) frame is written in its place with the cut's frame and byte counts and seek table, so
 * players and providers that read it get the cut's length exactly instead of estimating it from the first
 * frame's bitrate. The first kept frame may lean on the bit reservoir of the frame before it, which the cut
 * leaves out; decoders play that one frame (26 ms at 44.1 kHz, inside the pause the cut is in) as silence.
 */

import type { Mp3Layout } from './decode';
import { parseMpegFrameHeader, xingOffset } from './mpeg';
import type { CutOutcome } from './trim';

// Frames, bytes and seek table follow the flags (the quality field is left out).
const XING_FLAGS = 0b111;
const XING_BYTES = 4 + 4 + 4 + 4 + 100;

/**
 * An Info/Xing frame in the stream of `header` (the first kept frame's 4 header bytes) describing `frames`
 * frames at `frameStarts` (offsets within the audio that follows it) in `audioBytes` bytes.
 */
function informationFrame(
  header: Uint8Array,
  frameStarts: readonly number[],
  audioBytes: number,
  isVariable: boolean,
): Uint8Array | undefined {
  const candidate = new Uint8Array(4);
  for (let bitrateIndex = 1; bitrateIndex < 15; bitrateIndex++) {
    // No CRC (protection bit set), the bitrate chosen, no padding; sample rate and channel mode kept.
    candidate[0] = 0xff;
    candidate[1] = (header[1] ?? 0) | 0x01;
    candidate[2] = (bitrateIndex << 4) | ((header[2] ?? 0) & 0x0d);
    candidate[3] = header[3] ?? 0;
    const parsed = parseMpegFrameHeader(candidate, 0);
    if (parsed?.layer !== 3) return undefined;
    const tagAt = xingOffset(0, parsed);
    if (parsed.frameLength < tagAt + XING_BYTES) continue;
    const frame = new Uint8Array(parsed.frameLength);
    frame.set(candidate);
    const view = new DataView(frame.buffer);
    const tag = isVariable ? 'Xing' : 'Info';
    writeLatin1(frame, tagAt, tag);
    const totalBytes = frame.length + audioBytes;
    view.setUint32(tagAt + 4, XING_FLAGS);
    view.setUint32(tagAt + 8, frameStarts.length);
    view.setUint32(tagAt + 12, totalBytes);
    // Seek table: for each percent of the duration, where it starts as a share (of 256) of the bytes.
    for (let percent = 0; percent < 100; percent++) {
      const frameIndex = Math.min(frameStarts.length - 1, Math.floor((percent / 100) * frameStarts.length));
      const at = frame.length + (frameStarts[frameIndex] ?? 0);
      frame[tagAt + 16 + percent] = Math.min(255, Math.floor((256 * at) / totalBytes));
    }
    return frame;
  }
  return undefined;
}

/** The frames of `layout` that hold samples [startSample, endSample), as a new MP3 file. */
export function cutMp3(
  bytes: Uint8Array,
  layout: Mp3Layout,
  sampleRate: number,
  startSample: number,
  endSample: number,
): CutOutcome {
  const { frameOffsets, samplesPerFrame } = layout;
  const frameCount = frameOffsets.length - 1;
  const firstFrame = Math.max(0, Math.min(frameCount - 1, Math.floor(startSample / samplesPerFrame)));
  const endFrame = Math.max(firstFrame + 1, Math.min(frameCount, Math.ceil(endSample / samplesPerFrame)));
  const lengths: number[] = [];
  let audioBytes = 0;
  let isVariable = false;
  let previousBitrate = -1;
  for (let frame = firstFrame; frame < endFrame; frame++) {
    const offset = frameOffsets[frame] as number;
    const length = parseMpegFrameHeader(bytes, offset)?.frameLength ?? 0;
    if (length === 0) return { cut: false, reason: 'its MP3 frames changed while being cut' };
    const bitrate = (bytes[offset + 2] ?? 0) >> 4;
    if (previousBitrate >= 0 && bitrate !== previousBitrate) isVariable = true;
    previousBitrate = bitrate;
    lengths.push(length);
    audioBytes += length;
  }
  const frameStarts: number[] = [];
  for (let index = 0, at = 0; index < lengths.length; at += lengths[index] as number, index++) {
    frameStarts.push(at);
  }
  const firstOffset = frameOffsets[firstFrame] as number;
  const information = informationFrame(
    bytes.subarray(firstOffset, firstOffset + 4),
    frameStarts,
    audioBytes,
    isVariable,
  );
  const audio = new Uint8Array((information?.length ?? 0) + audioBytes);
  let offset = 0;
  if (information) {
    audio.set(information);
    offset = information.length;
  }
  for (let index = 0; index < lengths.length; index++) {
    const from = frameOffsets[firstFrame + index] as number;
    audio.set(bytes.subarray(from, from + (lengths[index] as number)), offset);
    offset += lengths[index] as number;
  }
  return {
    cut: true,
    audio,
    kept: {
      startSec: (firstFrame * samplesPerFrame) / sampleRate,
      endSec: (endFrame * samplesPerFrame) / sampleRate,
    },
  };
}
