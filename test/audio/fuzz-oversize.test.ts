import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ByteSource } from '../../functions/shared/audio/types';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { PROVIDER_NAMES } from '../../functions/shared/providers/types';
import { validateSource } from '../../functions/shared/validation/validate';
import { expectWellFormed } from './fuzz-support';

// validateSource fuzzing with uploads over the provider limits.

/** A source whose size is known up front (S3 event or HEAD) and that counts every byte asked of it. */
function sizedSource(size: number): ByteSource & { readonly calls: number } {
  let calls = 0;
  return {
    size,
    get calls() {
      return calls;
    },
    get bytesRead() {
      return 0;
    },
    async read() {
      calls++;
      return new Uint8Array(0);
    },
    async readAll() {
      calls++;
      return new Uint8Array(0);
    },
  };
}

describe('validateSource fuzzing: oversize uploads', () => {
  it.each(PROVIDER_NAMES)('rejects any size above the %s limit without reading a byte', async (name) => {
    const { maxBytes } = PROVIDER_LIMITS[name];
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: maxBytes + 1, max: maxBytes + 1_024 }),
          fc.integer({ min: maxBytes + 1, max: Number.MAX_SAFE_INTEGER }),
        ),
        fc.string({ maxLength: 40 }),
        async (size, displayName) => {
          const source = sizedSource(size);

          const { report, probe } = await validateSource(source, {
            provider: name,
            displayName,
            options: {},
          });

          expect(source.calls).toBe(0);
          expect(probe).toBeUndefined();
          expect(report.ok).toBe(false);
          expect(report.errors.map((issue) => issue.code)).toContain('file_too_large');
          expectWellFormed(report, size);
        },
      ),
      { numRuns: 100 },
    );
  });
});
