/**
 * Trimming a sample to what a provider takes: lead and tail silence removed, and a sample longer than the
 * provider's window cut to its best window of speech (most speech, least clipping), the cuts in pauses.
 * Sample-exact for WAV, frame-exact for MP3; other containers are not cut. Nothing is ever padded.
 */

import type { DecodedAudio } from './decode';
import type { SpeechFrames } from './speech-quality';

export interface TrimWindow {
  readonly minSec: number;
  readonly maxSec: number;
}

export interface KeptSpan {
  readonly startSec: number;
  readonly endSec: number;
}

// Pause kept before the first and after the last word, so a cut does not clip a breath or a consonant.
const MARGIN_SEC = 0.1;
// A clipped frame costs this many frames of speech when windows are compared.
const CLIPPED_FRAME_COST = 10;

/** The frames [start, end) to keep, or why nothing fits. */
export function planTrim(
  frames: SpeechFrames,
  window: TrimWindow,
): { readonly start: number; readonly end: number } | { readonly reason: string } {
  const { speech, clipped, frameSec } = frames;
  const count = speech.length;
  const first = speech.indexOf(1);
  if (first < 0) return { reason: 'the audio holds no speech to keep' };
  const last = speech.lastIndexOf(1);
  const margin = Math.round(MARGIN_SEC / frameSec);
  const maxFrames = Math.floor(window.maxSec / frameSec);
  const minFrames = Math.ceil(window.minSec / frameSec);
  let start = Math.max(0, first - margin);
  let end = Math.min(count, last + 1 + margin);
  if (end - start > maxFrames) {
    const best = bestWindow(speech, clipped, start, end, maxFrames, minFrames);
    if (!best)
      return { reason: `no stretch of at most ${window.maxSec} s between pauses holds enough speech` };
    // The window's own lead and tail silence go too.
    const within = speech.subarray(best.start, best.end);
    start = Math.max(best.start, best.start + within.indexOf(1) - margin);
    end = Math.min(best.end, best.start + within.lastIndexOf(1) + 1 + margin);
  }
  // Never shorter than the provider's minimum: give back silence rather than pad.
  while (end - start < minFrames && (start > 0 || end < count)) {
    if (start > 0) start--;
    if (end - start < minFrames && end < count) end++;
  }
  if (end - start < minFrames) return { reason: `the audio is shorter than ${window.minSec} s` };
  return { start, end };
}

function bestWindow(
  speech: Uint8Array,
  clipped: Uint16Array,
  from: number,
  to: number,
  maxFrames: number,
  minFrames: number,
): { start: number; end: number } | undefined {
  // Prefix sums of each frame's worth: speech counts, clipping costs.
  const worth = new Float64Array(to - from + 1);
  for (let frame = from; frame < to; frame++) {
    const value = (speech[frame] ? 1 : 0) - ((clipped[frame] ?? 0) > 0 ? CLIPPED_FRAME_COST : 0);
    worth[frame - from + 1] = (worth[frame - from] as number) + value;
  }
  const isPause = (frame: number) => frame === from || frame === to || !speech[frame];
  let best: { start: number; end: number; score: number } | undefined;
  for (let start = from; start < to; start++) {
    if (!isPause(start)) continue;
    // The latest pause that keeps the window within the limit ends it.
    let end = Math.min(to, start + maxFrames);
    while (end > start + minFrames && !isPause(end)) end--;
    if (end - start < minFrames) continue;
    const score = (worth[end - from] as number) - (worth[start - from] as number);
    if (!best || score > best.score) best = { start, end, score };
  }
  return best;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function wavHeader(formatChunk: Uint8Array, dataBytes: number): Uint8Array {
  const formatPadded = formatChunk.length + (formatChunk.length % 2);
  const header = new Uint8Array(12 + 8 + formatPadded + 8);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => {
    for (let index = 0; index < text.length; index++) header[offset + index] = text.charCodeAt(index);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, header.length - 8 + dataBytes + (dataBytes % 2), true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, formatChunk.length, true);
  header.set(formatChunk, 20);
  ascii(20 + formatPadded, 'data');
  view.setUint32(24 + formatPadded, dataBytes, true);
  return header;
}

/**
 * The bytes of [startSec, endSec) of the file `decoded` came from: a new file in the same container and
 * codec, cut at the nearest sample (WAV) or whole frames (MP3: the frames that hold the span). Cutting
 * again at the `kept` times gives the same bytes, so a retry sends exactly what was validated.
 */
export function cutAudio(
  bytes: Uint8Array,
  decoded: DecodedAudio,
  span: KeptSpan,
): { readonly audio: Uint8Array; readonly kept: KeptSpan } {
  const rate = decoded.sampleRate;
  const layout = decoded.layout;
  const startSample = Math.max(0, Math.round(span.startSec * rate));
  const endSample = Math.min(decoded.samples.length, Math.round(span.endSec * rate));
  if (layout.kind === 'wav') {
    const from = layout.dataOffset + startSample * layout.blockAlign;
    const to = Math.min(
      layout.dataOffset + layout.dataBytes,
      layout.dataOffset + endSample * layout.blockAlign,
    );
    const data = bytes.subarray(from, to);
    const parts = [wavHeader(layout.formatChunk, data.length), data];
    if (data.length % 2) parts.push(new Uint8Array(1));
    return { audio: concat(parts), kept: { startSec: startSample / rate, endSec: endSample / rate } };
  }
  const { frameOffsets, samplesPerFrame } = layout;
  const frameCount = frameOffsets.length - 1;
  const firstFrame = Math.min(frameCount - 1, Math.floor(startSample / samplesPerFrame));
  const endFrame = Math.max(firstFrame + 1, Math.min(frameCount, Math.ceil(endSample / samplesPerFrame)));
  const audio = bytes.slice(frameOffsets[firstFrame], frameOffsets[endFrame]);
  return {
    audio,
    kept: { startSec: (firstFrame * samplesPerFrame) / rate, endSec: (endFrame * samplesPerFrame) / rate },
  };
}
