/**
 * Trimming a sample to what a provider takes: lead and tail silence removed, and a sample longer than the
 * provider's window cut to its best window of speech (most speech, least clipping), the cuts in pauses.
 * Sample-exact for WAV, frame-exact for MP3 (mp3-cut.ts); Opus in WebM is measured but not cut. Nothing is
 * ever padded.
 */

import { concatBytes, writeLatin1 } from './bytes';
import type { DecodedAudio } from './decode';
import { cutMp3 } from './mp3-cut';
import type { SpeechFrames } from './speech-quality';
import { wavHeader } from './wav-header';

export interface TrimWindow {
  readonly minSec: number;
  readonly maxSec: number;
}

export interface KeptSpan {
  readonly startSec: number;
  readonly endSec: number;
}

/** The frames [start, end) to keep, and the same in seconds. */
export interface TrimPlan extends KeptSpan {
  readonly start: number;
  readonly end: number;
}

// Pause kept before the first and after the last word, so a cut does not clip a breath or a consonant.
const MARGIN_SEC = 0.1;
// A clipped frame costs this many frames of speech when windows are compared.
const CLIPPED_FRAME_COST = 10;
// A cut inside speech (when a window has no pause to end in) costs this many frames of speech (2 s), plus
// one frame for each dB its frame stands above the quietest, so the quietest place between words is chosen.
const MID_SPEECH_CUT_COST = 100;

/**
 * Where to cut `frames` (measureSpeech's) so the kept part fits `window`: the frames [start, end), or why
 * nothing fits (no speech, or too little audio to reach `window.minSec` without padding).
 */
export function planTrim(frames: SpeechFrames, window: TrimWindow): TrimPlan | { readonly reason: string } {
  const { speech, frameSec } = frames;
  const count = speech.length;
  const first = speech.indexOf(1);
  if (first < 0) return { reason: 'the audio holds no speech to keep' };
  const maxFrames = Math.floor(window.maxSec / frameSec + 1e-9);
  const minFrames = Math.ceil(window.minSec / frameSec - 1e-9);
  if (count < minFrames || maxFrames < minFrames)
    return { reason: `the audio is shorter than ${window.minSec} s` };
  const margin = Math.round(MARGIN_SEC / frameSec);
  let bounds = { start: 0, end: count };
  let start = Math.max(0, first - margin);
  let end = Math.min(count, speech.lastIndexOf(1) + 1 + margin);
  if (end - start > maxFrames) {
    bounds = bestWindow(frames, start, end, minFrames, maxFrames);
    // The window's own lead and tail silence go too.
    const within = speech.subarray(bounds.start, bounds.end);
    const firstWithin = within.indexOf(1);
    start = firstWithin < 0 ? bounds.start : Math.max(bounds.start, bounds.start + firstWithin - margin);
    end =
      firstWithin < 0 ? bounds.end : Math.min(bounds.end, bounds.start + within.lastIndexOf(1) + 1 + margin);
  }
  // Never shorter than the provider's minimum: give back silence (first within the window) rather than pad.
  for (const limit of [bounds, { start: 0, end: count }]) {
    while (end - start < minFrames && (start > limit.start || end < limit.end)) {
      if (start > limit.start) start--;
      if (end - start < minFrames && end < limit.end) end++;
    }
  }
  if (end - start < minFrames) return { reason: `the audio is shorter than ${window.minSec} s` };
  return { start, end, startSec: start * frameSec, endSec: end * frameSec };
}

/**
 * The window [start, end) of [from, to) with minFrames ≤ length ≤ maxFrames whose speech, less clipping
 * and less the cost of its two cuts, is largest. For each start the best end comes from a sliding-window
 * maximum, so this is linear in the frames whatever the window.
 */
function bestWindow(
  frames: SpeechFrames,
  from: number,
  to: number,
  minFrames: number,
  maxFrames: number,
): { start: number; end: number } {
  const { speech, clipped, levelDb } = frames;
  const span = to - from;
  // worth[i]: the value of frames [from, from + i); cut[i]: the cost of a cut before frame from + i.
  const worth = new Float64Array(span + 1);
  const cut = new Float64Array(span + 1);
  let quietest = Number.POSITIVE_INFINITY;
  for (let frame = from; frame < to; frame++) {
    if (speech[frame]) quietest = Math.min(quietest, levelDb[frame] as number);
  }
  for (let index = 0; index <= span; index++) {
    const frame = from + index;
    if (index < span) {
      const value = (speech[frame] ? 1 : 0) - ((clipped[frame] ?? 0) > 0 ? CLIPPED_FRAME_COST : 0);
      worth[index + 1] = (worth[index] as number) + value;
    }
    // A cut between two frames is in a pause when either side is not speech (the speech mask already
    // holds a hangover after each word), and free at the ends of the range.
    const inPause = index === 0 || index === span || !speech[frame - 1] || !speech[frame];
    const above = Math.max(0, Math.min(levelDb[frame - 1] ?? 0, levelDb[frame] ?? 0) - quietest);
    cut[index] = inPause ? 0 : MID_SPEECH_CUT_COST + above;
  }
  const gain = (index: number) => (worth[index] as number) - (cut[index] as number);
  // Candidate ends (indices) for the current start, best gain first: a monotonic deque.
  const deque = new Int32Array(span + 1);
  let head = 0;
  let tail = 0;
  let nextEnd = minFrames;
  let best = { start: 0, end: Math.min(span, maxFrames), score: Number.NEGATIVE_INFINITY };
  for (let start = 0; start + minFrames <= span; start++) {
    const lastEnd = Math.min(span, start + maxFrames);
    for (; nextEnd <= lastEnd; nextEnd++) {
      while (tail > head && gain(deque[tail - 1] as number) <= gain(nextEnd)) tail--;
      deque[tail++] = nextEnd;
    }
    while (tail > head && (deque[head] as number) < start + minFrames) head++;
    if (tail === head) continue;
    const end = deque[head] as number;
    const score = gain(end) - (worth[start] as number) - (cut[start] as number);
    if (score > best.score) best = { start, end, score };
  }
  return { start: from + best.start, end: from + best.end };
}

/** What `cutAudio` made: the bytes and the span of the original they hold, or why it made nothing. */
export type CutOutcome =
  | { readonly cut: true; readonly audio: Uint8Array; readonly kept: KeptSpan }
  | { readonly cut: false; readonly reason: string };

function wavFile(formatChunk: Uint8Array, data: Uint8Array, blockAlign: number): Uint8Array {
  // A non-PCM WAV (float, G.711) carries a fact chunk with its length in sample frames.
  const tag = (formatChunk[0] ?? 0) | ((formatChunk[1] ?? 0) << 8);
  const fact = tag === 1 ? undefined : factChunk(Math.floor(data.length / blockAlign));
  return concatBytes([wavHeader(formatChunk, data.length, fact), data, new Uint8Array(data.length % 2)]);
}

function factChunk(sampleFrames: number): Uint8Array {
  const chunk = new Uint8Array(12);
  const view = new DataView(chunk.buffer);
  writeLatin1(chunk, 0, 'fact');
  view.setUint32(4, 4, true);
  view.setUint32(8, sampleFrames, true);
  return chunk;
}

/**
 * The bytes of [startSec, endSec) of the file `decoded` came from, as a new file in the same container and
 * codec: cut at the nearest sample (WAV: a fresh header, the same fmt chunk) or at whole frames (MP3: the
 * frames that hold the span, see mp3-cut.ts). `kept` is the span really kept, after that rounding; cutting
 * again at the `kept` times gives the same bytes, so a retry sends exactly what was validated.
 */
export function cutAudio(bytes: Uint8Array, decoded: DecodedAudio, span: KeptSpan): CutOutcome {
  const rate = decoded.sampleRate;
  const layout = decoded.layout;
  if (layout.kind === 'webm') return { cut: false, reason: 'trimming is available for WAV and MP3' };
  const total = layout.kind === 'wav' ? layout.dataBytes / layout.blockAlign : decoded.samples.length;
  const startSample = Math.min(total, Math.max(0, Math.round(span.startSec * rate)));
  const endSample = Math.min(total, Math.max(0, Math.round(span.endSec * rate)));
  if (!(endSample > startSample)) return { cut: false, reason: 'the span to keep is empty' };
  if (layout.kind === 'wav') {
    const from = layout.dataOffset + startSample * layout.blockAlign;
    const data = bytes.subarray(from, from + (endSample - startSample) * layout.blockAlign);
    return {
      cut: true,
      audio: wavFile(layout.formatChunk, data, layout.blockAlign),
      kept: { startSec: startSample / rate, endSec: endSample / rate },
    };
  }
  return cutMp3(bytes, layout, rate, startSample, endSample);
}
