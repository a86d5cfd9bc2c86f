import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VOICEDROP_MARSHALL_OPTIONS } from '../../functions/shared/aws/dynamodb';
import {
  type MarshallOptions,
  marshallItem,
  unmarshallItem,
} from '../../functions/shared/aws/dynamodb-values';

/** What util-dynamodb does with the same options (a copy each time: lib-dynamodb mutates its options). */
function sdkMarshall(item: Record<string, unknown>, options: MarshallOptions) {
  return marshall(item, { ...options, convertTopLevelContainer: false });
}

/** Either the result or the fact that it threw, for comparing refusals too. */
function outcome<T>(run: () => T): { value: T } | { threw: true } {
  try {
    return { value: run() };
  } catch {
    return { threw: true };
  }
}

const leaf = fc.oneof(
  fc.string(),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 8 }),
  fc.uniqueArray(fc.string(), { minLength: 0, maxLength: 4 }).map((values) => new Set(values)),
  fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 4 }).map((values) => new Set(values)),
  fc.constant(new Date(0)),
  fc.constant(() => 1),
);

const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
})).value;

const item = fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 6 });

const OPTION_SETS: readonly MarshallOptions[] = [
  VOICEDROP_MARSHALL_OPTIONS,
  {},
  { removeUndefinedValues: true, convertEmptyValues: true },
  { convertClassInstanceToMap: true, removeUndefinedValues: true },
  { allowImpreciseNumbers: true, removeUndefinedValues: true },
];

describe('marshallItem / unmarshallItem (util-dynamodb without the SDK)', () => {
  it.each(OPTION_SETS.map((options) => [JSON.stringify(options), options] as const))(
    'marshalls and refuses exactly as util-dynamodb with %s',
    (_, options) => {
      fc.assert(
        fc.property(item, (input) => {
          expect(outcome(() => marshallItem(input, options))).toEqual(
            outcome(() => sdkMarshall(input, options)),
          );
        }),
        { numRuns: 300 },
      );
    },
  );

  it('reads back what util-dynamodb reads back, bigints and sets included', () => {
    fc.assert(
      fc.property(item, (input) => {
        const wire = outcome(() => sdkMarshall(input, VOICEDROP_MARSHALL_OPTIONS));
        if (!('value' in wire)) return;
        expect(unmarshallItem(wire.value)).toEqual(unmarshall(wire.value));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses class instances, special numbers and empty sets with voicedrop’s options', () => {
    expect(() => marshallItem({ at: new Date(0) }, VOICEDROP_MARSHALL_OPTIONS)).toThrow(/Unsupported type/);
    expect(() => marshallItem({ n: Number.NaN }, VOICEDROP_MARSHALL_OPTIONS)).toThrow(/NaN/);
    expect(() => marshallItem({ n: 2 ** 60 }, VOICEDROP_MARSHALL_OPTIONS)).toThrow(/MAX_SAFE_INTEGER/);
    expect(() => marshallItem({ s: new Set() }, VOICEDROP_MARSHALL_OPTIONS)).toThrow(/non-empty set/);
    expect(marshallItem({ a: undefined, b: [undefined, 1] }, VOICEDROP_MARSHALL_OPTIONS)).toEqual({
      b: { L: [{ N: '1' }] },
    });
  });

  it('reads large numbers as bigint and leaves out nothing', () => {
    expect(
      unmarshallItem({ big: { N: '12345678901234567890' }, small: { N: '-1.5' }, ns: { NS: ['1', '2'] } }),
    ).toEqual({ big: 12345678901234567890n, small: -1.5, ns: new Set([1, 2]) });
  });
});
