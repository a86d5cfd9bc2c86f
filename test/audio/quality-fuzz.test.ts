import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AudibleProbe, decodeAudio } from '../../functions/shared/audio/decode';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { type AudioQuality, measureSpeech } from '../../functions/shared/audio/speech-quality';
import { cutAudio, planTrim } from '../../functions/shared/audio/trim';
import { ACCEPTABLE_FORMATS } from '../../functions/shared/audio/types';
import { makeMp3 } from '../support/audio';
import { pcmWav, speechLike } from '../support/signals';
import { randomBytes } from './helpers';

/**
 * Property-based fuzzing of the audio core: whatever the bytes (random, or a real sample with bytes
 * flipped, cut off, overwritten or repeated), decoding gives PCM or a reason, measuring gives finite
 * figures, planning and cutting give a span or a reason, a cut is itself readable audio, and each step is
 * quick. Nothing throws.
 */

// A hang or a quadratic walk shows up as seconds; honest answers take milliseconds.
const TIME_LIMIT_MS = 2_000;
const quality = (name: string) =>
  new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'quality', name)));
const decodeFixture = (name: string) =>
  new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'decode', name)));

const SAMPLES: Readonly<Record<string, Uint8Array>> = {
  wav: pcmWav([speechLike({ sampleRate: 8_000, phrases: [3, 3] }).samples], 8_000, 'i16'),
  'wav-float': pcmWav([speechLike({ sampleRate: 8_000, phrases: [4] }).samples], 8_000, 'f32'),
  'wav-mulaw': decodeFixture('tone-mulaw.wav'),
  mp3: makeMp3({ durationSec: 7, sampleRate: 16_000 }),
  'mp3-vbr': quality('vbr.mp3'),
  'mp3-stereo': decodeFixture('left-stereo.mp3'),
  webm: quality('normal.webm'),
  'webm-stereo': decodeFixture('left-stereo-opus.webm'),
};
const SAMPLE_NAMES = Object.keys(SAMPLES);

function expectFinite(figures: AudioQuality): void {
  for (const [name, value] of Object.entries(figures)) {
    if (value === null) continue;
    expect(Number.isFinite(value), `${name}: ${value}`).toBe(true);
  }
  expect(figures.speechSec).toBeGreaterThanOrEqual(0);
  expect(figures.speechSec).toBeLessThanOrEqual(figures.analyzedSec + 0.02);
  expect(figures.clippedRatio).toBeGreaterThanOrEqual(0);
  expect(figures.clippedRatio).toBeLessThanOrEqual(1);
}

/** decode → measure → plan → cut → probe the cut; returns how long it took. */
async function throughTheCore(bytes: Uint8Array, probe: AudibleProbe): Promise<number> {
  const started = performance.now();
  const decoded = await decodeAudio(bytes, probe);
  if (!decoded.decoded) {
    expect(decoded.reason.length).toBeGreaterThan(0);
    return performance.now() - started;
  }
  expect(decoded.sampleRate).toBeGreaterThan(0);
  const measured = measureSpeech(decoded);
  expectFinite(measured.quality);
  const plan = planTrim(measured.frames, { minSec: 1, maxSec: 3 });
  const span = 'reason' in plan ? { startSec: 0.5, endSec: 2 } : plan;
  const cut = cutAudio(bytes, decoded, span);
  if (cut.cut) {
    expect(cut.kept.endSec).toBeGreaterThan(cut.kept.startSec);
    const again = await probeAudio(bufferByteSource(cut.audio));
    expect(['audio', 'unreadable']).toContain(again.kind);
  } else {
    expect(cut.reason.length).toBeGreaterThan(0);
  }
  return performance.now() - started;
}

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** A real sample with one kind of damage. */
const mutant = fc
  .record({
    name: fc.constantFrom(...SAMPLE_NAMES),
    kind: fc.constantFrom('flip', 'truncate', 'overwrite', 'repeat'),
    where: fraction,
    size: fraction,
    seed: fc.integer(),
  })
  .map(({ name, kind, where, size, seed }) => {
    const original = SAMPLES[name] as Uint8Array;
    const at = Math.floor(where * original.length);
    const length = Math.max(1, Math.floor(size * Math.min(4_096, original.length - at)));
    if (kind === 'truncate') return { name, kind, bytes: original.slice(0, at) };
    const bytes = original.slice();
    if (kind === 'flip') {
      const random = randomBytes(16, seed);
      for (let index = 0; index < 16; index++) {
        const position = (at + (random[index] as number) * 97 * index) % bytes.length;
        bytes[position] = (bytes[position] as number) ^ (1 << (index % 8));
      }
    } else if (kind === 'overwrite') bytes.set(randomBytes(Math.min(length, bytes.length - at), seed), at);
    else
      return {
        name,
        kind,
        bytes: Uint8Array.from([...original.subarray(0, at + length), ...original.subarray(at)]),
      };
    return { name, kind, bytes };
  });

describe('audio core fuzzing', () => {
  it('decodes random bytes labelled as any accepted format without throwing or hanging', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 512 }),
          fc
            .record({ length: fc.integer({ min: 513, max: 200_000 }), seed: fc.integer() })
            .map(({ length, seed }) => randomBytes(length, seed)),
        ),
        fc.constantFrom(...ACCEPTABLE_FORMATS),
        fc.constantFrom('OPUS', 'VORBIS', null),
        async (bytes, format, codec) => {
          const probe: AudibleProbe = {
            kind: 'audio',
            format,
            durationSec: 1,
            sampleRate: 16_000,
            channels: 1,
            codec,
          };
          expect(await throughTheCore(bytes, probe)).toBeLessThan(TIME_LIMIT_MS);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('takes damaged real samples through decode, measure, trim and cut without throwing or hanging', async () => {
    await fc.assert(
      fc.asyncProperty(mutant, async ({ bytes }) => {
        const probe = await probeAudio(bufferByteSource(bytes));
        if (probe.kind !== 'audio') return;
        expect(await throughTheCore(bytes, probe)).toBeLessThan(TIME_LIMIT_MS);
      }),
      { numRuns: 150 },
    );
  });

  it('measures any samples, however wild, to finite figures', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ maxLength: 20_000 }),
        fc.constantFrom(1, 8_000, 16_000, 44_100, 48_000, 192_000),
        (samples, sampleRate) => {
          // Decoders never hand out NaN or values past full scale; the measurement must cope anyway.
          const measured = measureSpeech({
            samples: samples.map((value) => (Number.isFinite(value) ? value : 0)),
            sampleRate,
          });
          expectFinite({ ...measured.quality, peakDbfs: null });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('cuts any span of a decoded sample, or says why not', async () => {
    const decodedSamples = await Promise.all(
      SAMPLE_NAMES.map(async (name) => {
        const bytes = SAMPLES[name] as Uint8Array;
        const probe = await probeAudio(bufferByteSource(bytes));
        if (probe.kind !== 'audio') throw new Error(name);
        const decoded = await decodeAudio(bytes, probe);
        if (!decoded.decoded) throw new Error(decoded.reason);
        return { bytes, decoded };
      }),
    );
    fc.assert(
      fc.property(
        fc.nat(decodedSamples.length - 1),
        fc.double({ min: -5, max: 30, noNaN: true }),
        fc.double({ min: -5, max: 30, noNaN: true }),
        (index, startSec, endSec) => {
          const { bytes, decoded } = decodedSamples[index] as (typeof decodedSamples)[number];
          const cut = cutAudio(bytes, decoded, { startSec, endSec });
          if (!cut.cut) return;
          expect(cut.kept.startSec).toBeGreaterThanOrEqual(0);
          expect(cut.kept.endSec).toBeGreaterThan(cut.kept.startSec);
          expect(cut.audio.length).toBeLessThanOrEqual(bytes.length + 4_096);
        },
      ),
      { numRuns: 300 },
    );
  });
});
