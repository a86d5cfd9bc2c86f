import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeMp3, makeWav } from '../support/audio';
import { ascii, expectWellFormed, provider, VERDICT_TIME_LIMIT_MS, validateTimed } from './fuzz-support';
import { concat, fixture, MANIFEST } from './helpers';

// validateSource fuzzing with real recordings, damaged: bit flips, truncations, splices, tampered headers.

/** Fixtures with an audio stream, and two samples every provider accepts (so mutants can still pass). */
const SAMPLES: Readonly<Record<string, Uint8Array>> = {
  ...Object.fromEntries(
    Object.keys(MANIFEST)
      .filter((name) => MANIFEST[name]?.ffprobe?.audio)
      .map((name) => [name, fixture(name)]),
  ),
  'generated-8s.wav': makeWav({ durationSec: 8, sampleRate: 16_000 }),
  'generated-8s.mp3': makeMp3({ durationSec: 8, sampleRate: 16_000 }),
};
const SAMPLE_NAMES = Object.keys(SAMPLES);

function sample(name: string): Uint8Array {
  const bytes = SAMPLES[name];
  if (!bytes) throw new Error(`no sample ${name}`);
  return bytes;
}

/** A position in [0, length), drawn as a fraction so it fits any file. */
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
const at = (share: number, length: number) => Math.floor(share * length);

type FieldKind = 'uint-le' | 'uint-be' | 'float-be' | 'ebml-size';

/**
 * A header field found in a sample: where its value starts, how wide it is and how it is written.
 * `lengthClaim` marks fields that only claim how much audio there is (sizes, counts, durations): lying
 * there must never make the file play longer than it does.
 */
interface HeaderField {
  readonly label: string;
  readonly at: number;
  readonly width: number;
  readonly kind: FieldKind;
  readonly lengthClaim: boolean;
}

interface FieldPattern {
  readonly label: string;
  readonly tag: readonly number[];
  /** From the start of the tag to the field. */
  readonly offset: number;
  readonly width: number;
  readonly kind: FieldKind;
  readonly lengthClaim?: boolean;
}

const wav = (label: string, tag: string, offset: number, width: number, lengthClaim = false) =>
  ({ label, tag: ascii(tag), offset, width, kind: 'uint-le', lengthClaim }) as const;
const box = (label: string, type: string, offset: number, lengthClaim = false) =>
  ({ label, tag: ascii(type), offset, width: 4, kind: 'uint-be', lengthClaim }) as const;
const boxSize = (type: string) => box(`${type} box size`, type, -4);

const FIELD_PATTERNS: readonly FieldPattern[] = [
  // RIFF/WAVE
  wav('RIFF size', 'RIFF', 4, 4),
  wav('fmt size', 'fmt ', 4, 4),
  wav('format tag', 'fmt ', 8, 2),
  wav('channels', 'fmt ', 10, 2),
  wav('sample rate', 'fmt ', 12, 4),
  wav('byte rate', 'fmt ', 16, 4),
  wav('block align', 'fmt ', 20, 2),
  wav('bits per sample', 'fmt ', 22, 2),
  wav('samples per block', 'fmt ', 26, 2),
  wav('data size', 'data', 4, 4, true),
  wav('fact frames', 'fact', 8, 4, true),
  // ISO BMFF: box sizes, time scales, durations and sample counts.
  ...['ftyp', 'moov', 'mdat', 'trak', 'mdia', 'minf', 'stbl', 'stsd', 'stts', 'stsz', 'stsc', 'stco'].map(
    boxSize,
  ),
  ...['mvhd', 'mdhd', 'elst', 'esds', 'moof', 'traf', 'trun', 'tfhd', 'mvex', 'trex'].map(boxSize),
  box('movie time scale', 'mvhd', 16),
  box('movie duration', 'mvhd', 20, true),
  box('media time scale', 'mdhd', 16),
  box('media duration', 'mdhd', 20, true),
  box('uniform sample size', 'stsz', 8),
  box('sample count', 'stsz', 12, true),
  box('time-to-sample entries', 'stts', 8),
  box('first sample delta', 'stts', 16),
  box('sample-to-chunk entries', 'stsc', 8),
  box('chunk offsets', 'stco', 8),
  box('edit entries', 'elst', 8),
  box('edit duration', 'elst', 12, true),
  box('edit media start', 'elst', 16),
  box('fragment samples', 'trun', 8, true),
  box('fragment data offset', 'trun', 12),
  box('default sample duration', 'trex', 16),
  // MPEG: the encoder's Xing/Info frame count and the ID3v2 tag size.
  box('Xing frame count', 'Xing', 8, true),
  box('Info frame count', 'Info', 8, true),
  box('Xing byte count', 'Xing', 12, true),
  box('ID3 tag size', 'ID3', 6),
  // EBML: Segment and Cluster sizes, the declared Duration and the timestamp scale.
  { label: 'Segment size', tag: [0x18, 0x53, 0x80, 0x67], offset: 4, width: 0, kind: 'ebml-size' },
  { label: 'Cluster size', tag: [0x1f, 0x43, 0xb6, 0x75], offset: 4, width: 0, kind: 'ebml-size' },
  { label: 'Tracks size', tag: [0x16, 0x54, 0xae, 0x6b], offset: 4, width: 0, kind: 'ebml-size' },
  { label: 'Info size', tag: [0x15, 0x49, 0xa9, 0x66], offset: 4, width: 0, kind: 'ebml-size' },
  { label: 'Duration', tag: [0x44, 0x89, 0x88], offset: 3, width: 8, kind: 'float-be', lengthClaim: true },
  { label: 'Duration', tag: [0x44, 0x89, 0x84], offset: 3, width: 4, kind: 'float-be', lengthClaim: true },
  { label: 'TimecodeScale', tag: [0x2a, 0xd7, 0xb1, 0x83], offset: 4, width: 3, kind: 'uint-be' },
];

function occurrences(bytes: Uint8Array, tag: readonly number[], limit: number): number[] {
  const found: number[] = [];
  for (let index = 0; index + tag.length <= bytes.length && found.length < limit; index++) {
    if (tag.every((value, position) => bytes[index + position] === value)) found.push(index);
  }
  return found;
}

const FIELDS: ReadonlyMap<string, readonly HeaderField[]> = new Map(
  SAMPLE_NAMES.map((name) => {
    const bytes = sample(name);
    const fields: HeaderField[] = [];
    for (const pattern of FIELD_PATTERNS) {
      for (const start of occurrences(bytes, pattern.tag, 3)) {
        const fieldAt = start + pattern.offset;
        let width = pattern.width;
        if (pattern.kind === 'ebml-size') width = Math.clz32(bytes[fieldAt] ?? 0) - 23;
        if (fieldAt < 0 || width < 1 || width > 8 || fieldAt + width > bytes.length) continue;
        fields.push({
          label: pattern.label,
          at: fieldAt,
          width,
          kind: pattern.kind,
          lengthClaim: pattern.lengthClaim ?? false,
        });
      }
    }
    return [name, fields];
  }),
);

/** Values that break parsers: zero, one, sign boundaries, all ones, and anything at all. */
const fieldValue = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 7n, 8n, 0x7fn, 0xffn, 0x7fffn, 0xffffn, 0x7fff_ffffn, 0x8000_0000n),
  fc.constantFrom(0xffff_ffffn, 0xffff_ffff_ffff_ffffn, 0x1_0000_0000n),
  fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
);
const floatValue = fc.oneof(
  fc.constantFrom(0, -0, -1, 1e-300, 1e300, 3.4e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.constant(Number.NaN),
  fc.double(),
);

function writeField(bytes: Uint8Array, field: HeaderField, value: bigint, float: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (field.kind) {
    case 'float-be':
      if (field.width === 8) view.setFloat64(field.at, float);
      else view.setFloat32(field.at, float);
      return;
    case 'ebml-size': {
      // Keep the length marker, so the size keeps its width; all ones is "unknown size".
      const bits = BigInt(7 * field.width);
      let rest = value & ((1n << bits) - 1n);
      for (let index = field.width - 1; index >= 0; index--) {
        bytes[field.at + index] = Number(rest & 0xffn);
        rest >>= 8n;
      }
      bytes[field.at] = (bytes[field.at] ?? 0) | (0x80 >> (field.width - 1));
      return;
    }
    default: {
      let rest = value;
      for (let index = 0; index < field.width; index++) {
        const position = field.kind === 'uint-le' ? field.at + index : field.at + field.width - 1 - index;
        bytes[position] = Number(rest & 0xffn);
        rest >>= 8n;
      }
    }
  }
}

type Mutation =
  | { readonly kind: 'flip'; readonly flips: readonly (readonly [number, number])[] }
  | { readonly kind: 'truncate'; readonly keep: number }
  | {
      readonly kind: 'splice';
      readonly from: number;
      readonly length: number;
      readonly insert: Uint8Array | string;
    }
  | { readonly kind: 'field'; readonly pick: number; readonly value: bigint; readonly float: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    flips: fc.array(fc.tuple(fraction, fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 24 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fraction }),
  fc.record({
    kind: fc.constant('splice' as const),
    from: fraction,
    length: fc.integer({ min: 0, max: 4_096 }),
    // Random bytes, or a piece of another sample (a file glued from two recordings).
    insert: fc.oneof(fc.uint8Array({ maxLength: 2_048 }), fc.constantFrom(...SAMPLE_NAMES)),
  }),
  fc.record({ kind: fc.constant('field' as const), pick: fc.nat(), value: fieldValue, float: floatValue }),
);

function mutate(original: Uint8Array, name: string, change: Mutation): { bytes: Uint8Array; label: string } {
  switch (change.kind) {
    case 'flip': {
      const bytes = original.slice();
      for (const [share, bit] of change.flips) {
        const index = at(share, bytes.length);
        bytes[index] = (bytes[index] ?? 0) ^ (1 << bit);
      }
      return { bytes, label: `${change.flips.length} bit flips` };
    }
    case 'truncate':
      return { bytes: original.slice(0, at(change.keep, original.length)), label: 'truncated' };
    case 'splice': {
      const start = at(change.from, original.length);
      const insert =
        typeof change.insert === 'string'
          ? sample(change.insert).subarray(start, start + change.length)
          : change.insert;
      const bytes = concat(
        original.subarray(0, start),
        insert,
        original.subarray(Math.min(original.length, start + change.length)),
      );
      return { bytes, label: `spliced at ${start}` };
    }
    case 'field': {
      const fields = FIELDS.get(name) ?? [];
      const field = fields[change.pick % Math.max(1, fields.length)];
      const bytes = original.slice();
      if (!field) return { bytes, label: 'no header field' };
      writeField(bytes, field, change.value, change.float);
      return { bytes, label: `${field.label} tampered` };
    }
  }
}

/** The tamper of the `occurrence`th field with this label in a sample, to replay a case the fuzzer found. */
function tamper(name: string, label: string, value: bigint, occurrence = 0): Mutation {
  const picks = (FIELDS.get(name) ?? []).flatMap((field, index) => (field.label === label ? [index] : []));
  const pick = picks[occurrence];
  if (pick === undefined) throw new Error(`${name} has no ${label} field #${occurrence}`);
  return { kind: 'field', pick, value, float: 0 };
}

/** Whether a mutation can only shorten the audio or lie about its length (never add samples). */
function cannotLengthen(name: string, change: Mutation): boolean {
  if (change.kind === 'truncate') return true;
  if (change.kind !== 'field') return false;
  const fields = FIELDS.get(name) ?? [];
  return fields[change.pick % Math.max(1, fields.length)]?.lengthClaim ?? false;
}

/** The agreement the probe promises with ffprobe: 0.05 s or 1 %, whichever is larger. */
const tolerance = (seconds: number) => Math.max(0.05, seconds * 0.01);

const ORIGINAL_DURATIONS = new Map<string, Promise<number | null>>();

/** The unmutated sample's measured duration, once per sample. */
function originalDuration(name: string): Promise<number | null> {
  let duration = ORIGINAL_DURATIONS.get(name);
  if (!duration) {
    duration = validateTimed(sample(name), 'smallest').then(({ result }) => result.report.durationSec);
    ORIGINAL_DURATIONS.set(name, duration);
  }
  return duration;
}

describe('validateSource fuzzing: damaged real recordings', () => {
  it('turns bit flips, truncations, splices and tampered headers into a sane verdict, quickly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SAMPLE_NAMES), mutation, provider, async (name, change, to) => {
        const { bytes } = mutate(sample(name), name, change);

        const { result, ms } = await validateTimed(bytes, to);

        expectWellFormed(result.report, bytes.length);
        expect(ms).toBeLessThan(VERDICT_TIME_LIMIT_MS);
      }),
      {
        numRuns: 400,
        examples: [
          // Found by this property: music-metadata's TypeError text became the user-facing reason.
          // (The first Tracks ID in the file is the SeekHead's pointer to it; the second is the element.)
          ['speech-opus.webm', tamper('speech-opus.webm', 'Tracks size', 7n, 1), 'smallest'],
          ['speech-no-duration.webm', tamper('speech-no-duration.webm', 'Tracks size', 8n, 1), 'typecast'],
        ],
      },
    );
  });

  it('never measures more audio than the recording holds when the file is cut or its header lies about length', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SAMPLE_NAMES),
        fc.oneof(
          fc.record({ kind: fc.constant('truncate' as const), keep: fraction }),
          fc.record({
            kind: fc.constant('field' as const),
            pick: fc.nat(),
            value: fieldValue,
            float: floatValue,
          }),
        ),
        async (name, change) => {
          fc.pre(cannotLengthen(name, change));
          const original = await originalDuration(name);
          fc.pre(original !== null);
          const { bytes, label } = mutate(sample(name), name, change);

          const { result } = await validateTimed(bytes, 'smallest');

          const measured = result.report.durationSec;
          if (measured !== null && original !== null) {
            expect(measured, `${name}: ${label}`).toBeLessThanOrEqual(original + tolerance(original));
          }
        },
      ),
      {
        numRuns: 300,
        examples: [
          // Found by this property: a fact chunk's frame count was trusted over the bytes present.
          ['speech-ms-adpcm.wav', tamper('speech-ms-adpcm.wav', 'fact frames', 49_353n)],
          ['speech-ima-adpcm.wav', tamper('speech-ima-adpcm.wav', 'fact frames', 3n * 48_984n)],
          ['mp3-in-wav.wav', tamper('mp3-in-wav.wav', 'fact frames', 0xffff_ffffn)],
        ],
      },
    );
  });
});
