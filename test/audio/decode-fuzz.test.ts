import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../functions/shared/audio/decode';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { measureSpeech } from '../../functions/shared/audio/speech-quality';
import { PROVIDER_NAMES } from '../../functions/shared/providers/types';
import { validateSource } from '../../functions/shared/validation/validate';
import { makeMp3, makeWav } from '../support/audio';

// The decoder path (WAV PCM, mpg123-decoder, the speech measure, trimming) on damaged input: it never
// throws, never hangs, and what it cannot judge is reported, not guessed.
const seeds = {
  wav: makeWav({ durationSec: 6, sampleRate: 16_000 }),
  mp3: makeMp3({ durationSec: 6, sampleRate: 16_000 }),
};

/** `bytes` with `edits` bytes overwritten, and cut at `cut` (a share of its length). */
function mutated(bytes: Uint8Array, edits: readonly [number, number][], cut: number): Uint8Array {
  const copy = bytes.slice(0, Math.max(1, Math.floor(bytes.length * cut)));
  for (const [position, value] of edits) copy[Math.floor(position * copy.length) % copy.length] = value;
  return copy;
}

const mutation = fc.record({
  format: fc.constantFrom('wav' as const, 'mp3' as const),
  edits: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), {
    maxLength: 40,
  }),
  cut: fc.double({ min: 0.05, max: 1, noNaN: true }),
  provider: fc.constantFrom(...PROVIDER_NAMES),
  trim: fc.constantFrom('auto', 'off'),
});

describe('decoder path fuzzing', () => {
  it('judges mutated WAV and MP3 uploads without throwing, trimming included', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async ({ format, edits, cut, provider, trim }) => {
        const bytes = mutated(seeds[format], edits, cut);
        const started = performance.now();
        const { report, audio } = await validateSource(bufferByteSource(bytes), {
          provider,
          displayName: 'Fuzz',
          options: { trim },
        });
        expect(performance.now() - started).toBeLessThan(5_000);
        expect(Array.isArray(report.errors)).toBe(true);
        // An accepted upload was judged, or says why it could not be.
        if (report.ok && report.quality) {
          expect(report.quality.measured ? report.quality.speechSec : report.quality.reason).toBeDefined();
        }
        // A cut is itself audio the provider takes.
        if (audio && report.ok) expect((await probeAudio(bufferByteSource(audio))).kind).toBe('audio');
      }),
      { numRuns: 60 },
    );
  });

  it('decodes random bytes behind a valid header to a verdict, never an exception', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('wav' as const, 'mp3' as const),
        fc.uint8Array({ minLength: 0, maxLength: 20_000 }),
        async (format, noise) => {
          const seed = seeds[format];
          const header = seed.subarray(0, format === 'wav' ? 44 : 400);
          const bytes = new Uint8Array(header.length + noise.length);
          bytes.set(header);
          bytes.set(noise, header.length);
          const probe = await probeAudio(bufferByteSource(bytes));
          if (probe.kind !== 'audio') return;
          const decoded = await decodeAudio(bytes, probe);
          if (decoded.decoded) {
            const { quality } = measureSpeech(decoded);
            expect(quality.clippedRatio).toBeGreaterThanOrEqual(0);
            expect(quality.clippedRatio).toBeLessThanOrEqual(1);
          } else {
            expect(decoded.reason.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
