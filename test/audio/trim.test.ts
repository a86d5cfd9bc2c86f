import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latin1 } from '../../functions/shared/audio/bytes';
import { type DecodedAudio, decodeAudio } from '../../functions/shared/audio/decode';
import { declaredMpegFrames } from '../../functions/shared/audio/mpeg';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { measureSpeech, type SpeechFrames } from '../../functions/shared/audio/speech-quality';
import { cutAudio, planTrim, type TrimPlan } from '../../functions/shared/audio/trim';
import { makeMp3 } from '../support/audio';
import { pcmWav, tone } from '../support/signals';
import { fixture } from './helpers';

const FRAME_SEC = 0.02;
const WINDOW = { minSec: 5, maxSec: 15 };

/** Frames from segments: [seconds, 's' speech | '.' pause | 'x' clipped speech]. */
function framesOf(
  segments: readonly (readonly [number, 's' | '.' | 'x'])[],
  levels?: (frame: number) => number,
) {
  const kinds: string[] = [];
  for (const [seconds, kind] of segments)
    kinds.push(...Array<string>(Math.round(seconds / FRAME_SEC)).fill(kind));
  const frames: SpeechFrames = {
    frameSec: FRAME_SEC,
    speech: Uint8Array.from(kinds, (kind) => (kind === '.' ? 0 : 1)),
    clipped: Uint16Array.from(kinds, (kind) => (kind === 'x' ? 40 : 0)),
    levelDb: Float32Array.from(kinds, (kind, frame) => (kind === '.' ? -70 : (levels?.(frame) ?? -20))),
  };
  return frames;
}

function planned(frames: SpeechFrames, window = WINDOW): TrimPlan {
  const plan = planTrim(frames, window);
  if ('reason' in plan) throw new Error(plan.reason);
  return plan;
}

/** Speech alternating with pauses: `speechSec` on, `pauseSec` off, for `totalSec`. */
function talk(totalSec: number, speechSec: number, pauseSec: number): (readonly [number, 's' | '.'])[] {
  const segments: [number, 's' | '.'][] = [];
  for (let at = 0; at < totalSec; at += speechSec + pauseSec)
    segments.push([speechSec, 's'], [pauseSec, '.']);
  return segments;
}

const speechSecIn = (frames: SpeechFrames, plan: TrimPlan) =>
  frames.speech.subarray(plan.start, plan.end).reduce((sum, value) => sum + value, 0) * FRAME_SEC;

describe('planTrim', () => {
  it('removes lead and tail silence, keeping a 0.1 s margin', () => {
    const plan = planned(
      framesOf([
        [3, '.'],
        [2, 's'],
        [0.3, '.'],
        [4, 's'],
        [3, '.'],
      ]),
    );
    expect(plan.startSec).toBeCloseTo(2.9, 5);
    expect(plan.endSec).toBeCloseTo(9.4, 5);
    expect(plan.start).toBe(145);
    expect(plan.end).toBe(470);
  });

  it('cuts an over-long sample to at most maxSec, in pauses, keeping the most speech', () => {
    const frames = framesOf([[1, '.'], ...talk(40, 2, 0.5)]);
    const plan = planned(frames);
    const length = plan.endSec - plan.startSec;
    expect(length).toBeLessThanOrEqual(15);
    expect(length).toBeGreaterThanOrEqual(5);
    // Each end lies in a pause (with its margin), not in a word.
    expect(frames.speech[plan.start]).toBe(0);
    expect(frames.speech[plan.end - 1]).toBe(0);
    // Six 2 s words fit in 15 s (six words and five pauses: 14.5 s).
    expect(speechSecIn(frames, plan)).toBeCloseTo(12, 5);
  });

  it('prefers the stretch with more speech', () => {
    const frames = framesOf([...talk(20, 0.5, 1.5), ...talk(20, 2, 0.3)]);
    const plan = planned(frames);
    expect(plan.startSec).toBeGreaterThan(19);
    // Six 2 s words and their pauses (13.5 s); a seventh would make 15.8 s.
    expect(speechSecIn(frames, plan)).toBeCloseTo(12, 5);
  });

  it('prefers a stretch without clipping to an equally full one with it', () => {
    const clipped = talk(20, 2, 0.5).map(([seconds, kind]) => [seconds, kind === 's' ? 'x' : kind] as const);
    const frames = framesOf([...clipped, ...talk(20, 2, 0.5)]);
    const plan = planned(frames);
    expect(plan.startSec).toBeGreaterThanOrEqual(19.9);
    expect(frames.clipped.subarray(plan.start, plan.end).some((count) => count > 0)).toBe(false);
  });

  it('cuts talk without pauses at a quiet moment when it must', () => {
    // 1 s of silence, then 30 s of unbroken speech with a dip to −40 dBFS at 15.8 s (frame 790), 0.2 s
    // before the longest window would end: the cut is made in the dip, not mid-word at the limit.
    const frames = framesOf(
      [
        [1, '.'],
        [30, 's'],
      ],
      (frame) => (frame === 790 ? -40 : -20),
    );
    const plan = planned(frames);
    expect(plan.start).toBe(45);
    expect([790, 791]).toContain(plan.end);
  });

  it('gives back silence to reach minSec, but never pads', () => {
    const plan = planned(
      framesOf([
        [2, '.'],
        [3, 's'],
        [5, '.'],
      ]),
    );
    expect(plan.endSec - plan.startSec).toBeCloseTo(5, 5);
    expect(plan.startSec).toBeLessThanOrEqual(1.9);
    expect(
      planTrim(
        framesOf([
          [0.5, '.'],
          [3, 's'],
          [0.5, '.'],
        ]),
        WINDOW,
      ),
    ).toEqual({
      reason: 'the audio is shorter than 5 s',
    });
  });

  it('says when there is no speech to keep', () => {
    expect(planTrim(framesOf([[20, '.']]), WINDOW)).toEqual({ reason: 'the audio holds no speech to keep' });
  });

  it('searches a long recording in linear time', () => {
    const frames = framesOf(talk(3_600, 1.7, 0.4));
    const started = performance.now();
    const plan = planned(frames, { minSec: 5, maxSec: 150 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(plan.endSec - plan.startSec).toBeLessThanOrEqual(150);
  });
});

async function decodedOf(bytes: Uint8Array): Promise<DecodedAudio> {
  const probe = await probeAudio(bufferByteSource(bytes));
  if (probe.kind !== 'audio') throw new Error(JSON.stringify(probe));
  const outcome = await decodeAudio(bytes, probe);
  if (!outcome.decoded) throw new Error(outcome.reason);
  return outcome;
}

async function durationOf(bytes: Uint8Array): Promise<number> {
  const probe = await probeAudio(bufferByteSource(bytes));
  if (probe.kind !== 'audio') throw new Error(JSON.stringify(probe));
  return probe.durationSec;
}

describe('cutAudio: WAV, sample-exact', () => {
  const left = tone(440, 4, 8000, 0.5);
  const right = tone(660, 4, 8000, 0.25);

  it.each(['i16', 'i24', 'f32'] as const)(
    '%s stereo: a valid WAV of exactly the kept samples',
    async (encoding) => {
      const bytes = pcmWav([left, right], 8000, encoding);
      const decoded = await decodedOf(bytes);
      const result = cutAudio(bytes, decoded, { startSec: 1.00003, endSec: 2.50004 });
      if (!result.cut) throw new Error(result.reason);
      expect(result.kept).toEqual({ startSec: 1, endSec: 2.5 });
      expect(await durationOf(result.audio)).toBe(1.5);
      const again = await decodedOf(result.audio);
      expect(again.samples).toEqual(decoded.samples.subarray(8000, 20_000));
      // Cutting again at the kept times gives the same bytes.
      const recut = cutAudio(bytes, decoded, result.kept);
      expect(recut.cut && recut.audio).toEqual(result.audio);
      // A float WAV keeps its fact chunk, with the cut's length.
      if (encoding === 'f32') expect(latin1(result.audio, 38, 4)).toBe('fact');
    },
  );

  it('clamps a span past the end, and refuses an empty one', async () => {
    const bytes = pcmWav([left], 8000, 'i16');
    const decoded = await decodedOf(bytes);
    const result = cutAudio(bytes, decoded, { startSec: 3, endSec: 99 });
    expect(result.cut && result.kept).toEqual({ startSec: 3, endSec: 4 });
    expect(cutAudio(bytes, decoded, { startSec: 2, endSec: 2 })).toEqual({
      cut: false,
      reason: 'the span to keep is empty',
    });
  });
});

describe('cutAudio: MP3, frame-exact', () => {
  it('keeps whole frames, with an Info frame that counts them; the cut lasts exactly the kept span', async () => {
    const bytes = makeMp3({ durationSec: 10, sampleRate: 22_050 });
    const decoded = await decodedOf(bytes);
    const result = cutAudio(bytes, decoded, { startSec: 2.3, endSec: 7.9 });
    if (!result.cut) throw new Error(result.reason);
    const frameSec = 576 / 22_050;
    expect(result.kept.startSec).toBeCloseTo(Math.floor(2.3 / frameSec) * frameSec, 9);
    expect(result.kept.endSec).toBeCloseTo(Math.ceil(7.9 / frameSec) * frameSec, 9);
    const keptSec = result.kept.endSec - result.kept.startSec;
    expect(await durationOf(result.audio)).toBeCloseTo(keptSec, 9);
    const frames = Math.round(keptSec / frameSec);
    expect(declaredMpegFrames(result.audio, 0)).toBe(frames);
    // MPEG 2 mono: the tag follows the header and 9 bytes of side information.
    expect(latin1(result.audio, 4 + 9, 4)).toBe('Info');
    expect((await decodedOf(result.audio)).samples.length).toBe(frames * 576);
  });

  it('writes a Xing frame for a VBR cut, and leaves the ID3 tags out', async () => {
    const quality = (name: string) =>
      new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'quality', name)));
    const vbr = quality('vbr.mp3');
    const cutVbr = cutAudio(vbr, await decodedOf(vbr), { startSec: 1, endSec: 6 });
    expect(cutVbr.cut && latin1(cutVbr.audio, 4 + 17, 4)).toBe('Xing');

    const tagged = fixture('speech-big-cover.mp3');
    const result = cutAudio(tagged, await decodedOf(tagged), { startSec: 1, endSec: 6 });
    if (!result.cut) throw new Error(result.reason);
    expect(latin1(result.audio, 0, 3)).not.toBe('ID3');
    expect(latin1(result.audio, result.audio.length - 128, 3)).not.toBe('TAG');
    expect(result.audio.length).toBeLessThan(tagged.length / 2);
    expect(await durationOf(result.audio)).toBeCloseTo(result.kept.endSec - result.kept.startSec, 9);
  });
});

describe('cutAudio: what is not cut', () => {
  it('measures Opus in WebM but does not cut it', async () => {
    const bytes = new Uint8Array(
      readFileSync(join(import.meta.dirname, '..', 'fixtures', 'quality', 'normal.webm')),
    );
    expect(cutAudio(bytes, await decodedOf(bytes), { startSec: 1, endSec: 6 })).toEqual({
      cut: false,
      reason: 'trimming is available for WAV and MP3',
    });
  });
});

describe('planTrim and cutAudio on a recording', () => {
  it.each(['long-40s.mp3', 'long-40s.wav'])(
    '%s: the best 5–15 s, cut in pauses, re-measured',
    async (name) => {
      const bytes = new Uint8Array(
        readFileSync(join(import.meta.dirname, '..', 'fixtures', 'quality', name)),
      );
      const decoded = await decodedOf(bytes);
      const measured = measureSpeech(decoded);
      const plan = planned(measured.frames);
      const result = cutAudio(bytes, decoded, plan);
      if (!result.cut) throw new Error(result.reason);
      const keptSec = result.kept.endSec - result.kept.startSec;
      expect(keptSec).toBeGreaterThanOrEqual(5);
      expect(keptSec).toBeLessThanOrEqual(15 + 0.05);
      expect(Math.abs(result.kept.startSec - plan.startSec)).toBeLessThan(0.05);
      const again = measureSpeech(await decodedOf(result.audio)).quality;
      expect(again.speechSec).toBeGreaterThan(0.7 * keptSec);
      expect(Math.abs(again.analyzedSec - keptSec)).toBeLessThan(0.05);
    },
  );
});
