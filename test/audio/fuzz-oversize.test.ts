import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../../functions/shared/audio/types';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { PROVIDER_NAMES } from '../../functions/shared/providers/types';
import { validateSource } from '../../functions/shared/validation/validate';
import { expectWellFormed } from './fuzz-support';
import { seededRandom } from './helpers';

// validateSource fuzzing with uploads over the provider limits.

/** A source of `size` bytes of which only the first 64 KiB may be read (random bytes from `seed`). */
function sizedSource(size: number, seed: number): ByteSource & { readonly reads: [number, number][] } {
  const reads: [number, number][] = [];
  const random = seededRandom(seed);
  const head = Uint8Array.from({ length: 64 * 1024 }, () => Math.floor(random() * 256));
  return {
    size,
    reads,
    async read(start, end) {
      reads.push([start, end]);
      return head.subarray(start, Math.min(end, head.length));
    },
    async readAll() {
      throw new Error('an oversize upload must never be read whole');
    },
  };
}

describe('validateSource fuzzing: oversize uploads', () => {
  it.each(PROVIDER_NAMES)(
    'rejects any size above the %s limit from one read of its first 64 KiB',
    async (name) => {
      const { maxBytes } = PROVIDER_LIMITS[name];
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.integer({ min: maxBytes + 1, max: maxBytes + 1_024 }),
            fc.integer({ min: maxBytes + 1, max: Number.MAX_SAFE_INTEGER }),
          ),
          fc.string({ maxLength: 40 }),
          fc.integer(),
          async (size, displayName, seed) => {
            const source = sizedSource(size, seed);

            const { report, probe } = await validateSource(source, {
              provider: name,
              displayName,
              options: {},
            });

            expect(source.reads).toEqual([[0, 64 * 1024]]);
            expect(probe?.kind ?? 'nothing known').not.toBe('empty');
            expect(report.ok).toBe(false);
            expect(report.errors.map((issue) => issue.code)).toContain('file_too_large');
            expectWellFormed(report, size);
          },
        ),
        { numRuns: 100 },
      );
    },
  );
});
