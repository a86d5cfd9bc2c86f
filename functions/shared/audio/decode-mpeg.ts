/**
 * MP3 (MPEG 1/2/2.5 Layer I–III) to mono PCM through mpg123-decoder (libmpg123 in WebAssembly, ~75 KB of
 * the clone bundle). The package is imported on first use only; it compiles its module once per process
 * (its own cache) and each decode runs in a fresh instance that is freed afterwards.
 */

import type { DecodeOutcome, Mp3Layout } from './decode';
import { findMpegStream, isInformationFrame, parseMpegFrameHeader } from './mpeg';
import { MonoBuffer, withoutConsoleErrors } from './pcm';

/** Frames handed to the decoder at a time: its output for one call stays small (~10 s of audio). */
const FRAMES_PER_CALL = 400;
/** Bad frames tolerated before the rest of the file is given up as damage. */
const MAXIMUM_ERRORS = 200;

/**
 * Every audio frame of the stream, by byte offset (tags, the Xing/Info frame and junk between frames
 * skipped), and one past the last. Linear in the file: each byte is looked at a bounded number of times.
 */
export function mpegFrameOffsets(
  bytes: Uint8Array,
): { offsets: number[]; samplesPerFrame: number; sampleRate: number } | undefined {
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
  return { offsets, samplesPerFrame: first.samplesPerFrame, sampleRate: first.sampleRate };
}

type Mpg123 = typeof import('mpg123-decoder');
let mpg123: Promise<Mpg123> | undefined;

/** Mono PCM of an MP3's frames, at most `maxSec` of it. */
export async function decodeMpeg(bytes: Uint8Array, maxSec: number): Promise<DecodeOutcome> {
  const frames = mpegFrameOffsets(bytes);
  if (!frames) return { decoded: false, reason: 'it holds no MP3 frames' };
  const { offsets, samplesPerFrame } = frames;
  const frameCount = offsets.length - 1;
  const limit = Math.floor(maxSec * frames.sampleRate);
  mpg123 ??= import('mpg123-decoder');
  const { MPEGDecoder } = await mpg123;
  // Gapless off: sample n of the decoder's output is sample n of the frames, so a cut maps onto frames.
  const decoder = new MPEGDecoder({ enableGapless: false });
  let sampleRate = frames.sampleRate;
  const mono = new MonoBuffer(limit, frameCount * samplesPerFrame);
  let errors = 0;
  try {
    await decoder.ready;
    for (let frame = 0; frame < frameCount && !mono.full && errors <= MAXIMUM_ERRORS; ) {
      const last = Math.min(frameCount, frame + FRAMES_PER_CALL);
      const chunk = bytes.subarray(offsets[frame], offsets[last]);
      const result = withoutConsoleErrors(() => decoder.decode(chunk));
      errors += result.errors.length;
      if (result.sampleRate > 0) sampleRate = result.sampleRate;
      mono.append(
        result.channelData.filter((channel) => channel.length > 0),
        result.samplesDecoded,
      );
      frame = last;
    }
  } catch {
    if (mono.size === 0) return { decoded: false, reason: 'its MP3 frames could not be decoded' };
  } finally {
    try {
      decoder.free();
    } catch {
      // An instance that failed to start has nothing to free.
    }
  }
  if (mono.size === 0) return { decoded: false, reason: 'its MP3 frames decode to nothing' };
  const layout: Mp3Layout = { kind: 'mp3', frameOffsets: offsets, samplesPerFrame };
  return { decoded: true, samples: mono.result(), sampleRate, layout, truncated: mono.full };
}
