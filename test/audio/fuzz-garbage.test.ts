import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIRST_READ_BYTES } from '../../functions/shared/audio/probe';
import { ascii, expectWellFormed, provider, VERDICT_TIME_LIMIT_MS, validateTimed } from './fuzz-support';
import { concat, randomBytes } from './helpers';

// validateSource fuzzing with bytes that are not audio (what every verdict must be: fuzz-support.ts).

// What detection may read past the first 64 KiB: chunk headers of a WAV walk (at most 64 chunks of an
// 8-byte header and a 40-byte fmt body) and one 16 KiB look past each of up to 4 ID3v2 tags.
const WAV_WALK_EXTRA_BYTES = 64 * 48;
const ID3_LOOKAHEAD_BYTES = 4 * 16 * 1024;
// Containers the probe reads whole once detected (their index may sit anywhere in the file).
const READ_WHOLE = new Set(['mp3', 'mp4', 'webm']);

/**
 * Random bytes of every size class: none, one, a few, a header's worth, and up to 200 KB (drawn from a
 * seed, so a large case shrinks by its length instead of by 200,000 elements).
 */
const randomFile: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 16 }),
  fc.uint8Array({ minLength: 17, maxLength: 4_096 }),
  fc
    .record({ length: fc.integer({ min: 4_097, max: 200_000 }), seed: fc.integer() })
    .map(({ length, seed }) => randomBytes(length, seed)),
);

interface MagicPrefix {
  readonly name: string;
  readonly bytes: readonly number[];
  /** Bytes detection may read past the first read for this container. */
  readonly extraBytes: number;
}

const MAGIC_PREFIXES: readonly MagicPrefix[] = [
  // The RIFF size is random: it is the chunk walk's business what it claims.
  {
    name: 'RIFF/WAVE',
    bytes: [...ascii('RIFF'), 0xff, 0xff, 0xff, 0x7f, ...ascii('WAVE')],
    extraBytes: WAV_WALK_EXTRA_BYTES,
  },
  { name: 'RIFF/WAVE fmt', bytes: ascii('RIFFxxxxWAVEfmt '), extraBytes: WAV_WALK_EXTRA_BYTES },
  // ID3v2 with a valid sync-safe size: the sniffer looks past the tag for the first frame.
  {
    name: 'ID3 (64 KiB tag)',
    bytes: [...ascii('ID3'), 3, 0, 0, 0x00, 0x03, 0x7f, 0x7f],
    extraBytes: ID3_LOOKAHEAD_BYTES,
  },
  {
    name: 'ID3 (128 KiB tag)',
    bytes: [...ascii('ID3'), 4, 0, 0, 0, 0x08, 0, 0],
    extraBytes: ID3_LOOKAHEAD_BYTES,
  },
  { name: 'MPEG sync', bytes: [0xff, 0xfb], extraBytes: 0 },
  { name: 'MPEG frame header', bytes: [0xff, 0xfb, 0x90, 0x64], extraBytes: 0 },
  { name: 'ftyp', bytes: [0, 0, 0, 0x18, ...ascii('ftypM4A ')], extraBytes: 0 },
  {
    name: 'ftyp and moov',
    bytes: [0, 0, 0, 0x10, ...ascii('ftypisom'), 0, 0, 0, 8, ...ascii('moov')],
    extraBytes: 0,
  },
  { name: 'EBML', bytes: [0x1a, 0x45, 0xdf, 0xa3], extraBytes: 0 },
  {
    name: 'EBML webm',
    bytes: [0x1a, 0x45, 0xdf, 0xa3, 0x87, 0x42, 0x82, 0x84, ...ascii('webm')],
    extraBytes: 0,
  },
];

const magicFile = fc.record({
  prefix: fc.constantFrom(...MAGIC_PREFIXES),
  tail: randomFile,
});

describe('validateSource fuzzing: bytes that are not audio', () => {
  it('answers random bytes of any length with a rejection, quickly, after at most the first 64 KiB', async () => {
    await fc.assert(
      fc.asyncProperty(randomFile, provider, async (bytes, name) => {
        const { result, ms, bytesRead } = await validateTimed(bytes, name);

        expectWellFormed(result.report, bytes.length);
        expect(result.report.ok).toBe(false);
        expect(result.report.errors.length).toBeGreaterThan(0);
        expect(ms).toBeLessThan(VERDICT_TIME_LIMIT_MS);
        expect(bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES);
      }),
      { numRuns: 150 },
    );
  });

  it('answers a real magic number followed by random bytes with a rejection, reading only what the container needs', async () => {
    await fc.assert(
      fc.asyncProperty(magicFile, provider, async ({ prefix, tail }, name) => {
        const bytes = concat(Uint8Array.from(prefix.bytes), tail);

        const { result, ms, bytesRead } = await validateTimed(bytes, name);

        expectWellFormed(result.report, bytes.length);
        expect(result.report.ok).toBe(false);
        expect(ms).toBeLessThan(VERDICT_TIME_LIMIT_MS);
        const wholeFile = READ_WHOLE.has(result.report.format ?? '') ? bytes.length : 0;
        expect(bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES + prefix.extraBytes + wholeFile);
      }),
      { numRuns: 200 },
    );
  });
});
