/**
 * DynamoDB's attribute values ↔ plain JavaScript values, as @aws-sdk/util-dynamodb's `marshall` and
 * `unmarshall` do them (and so @aws-sdk/lib-dynamodb), without the SDK in the Lambda bundles. Same
 * mapping, same refusals:
 *
 * | JavaScript | attribute value |
 * |---|---|
 * | `null` | `{ NULL: true }` |
 * | boolean | `{ BOOL }` |
 * | number (finite, within ±MAX_SAFE_INTEGER unless `allowImpreciseNumbers`), bigint | `{ N }` (a string) |
 * | string | `{ S }` |
 * | Uint8Array and the other typed arrays, ArrayBuffer, DataView, Buffer | `{ B }` |
 * | array | `{ L }` (functions left out, and `undefined` with `removeUndefinedValues`) |
 * | plain object (or with a null prototype), Map | `{ M }` (same) |
 * | non-empty Set of strings / numbers or bigints / binaries | `{ SS }` / `{ NS }` / `{ BS }` |
 *
 * Back from the wire, numbers beyond ±MAX_SAFE_INTEGER come back as bigint, sets as Set. The SDK's
 * `NumberValue` and `wrapNumbers` are not offered: voicedrop stores no numbers that need them.
 */

/** What `marshall` accepts; the same names and meaning as util-dynamodb's `marshallOptions`. */
export interface MarshallOptions {
  /** Turns empty strings, binaries and sets into `{ NULL: true }` instead of storing (or refusing) them. */
  readonly convertEmptyValues?: boolean;
  /** Leaves out `undefined` values in maps, lists and sets instead of refusing them. */
  readonly removeUndefinedValues?: boolean;
  /** Stores a class instance's own and inherited enumerable properties as a map instead of refusing it. */
  readonly convertClassInstanceToMap?: boolean;
  /** Stores numbers beyond ±MAX_SAFE_INTEGER as they print instead of refusing them. */
  readonly allowImpreciseNumbers?: boolean;
  /** Ignored here: `marshallItem` always returns the item's attribute map (a top-level `M`'s content). */
  readonly convertTopLevelContainer?: boolean;
}

/** One DynamoDB attribute value as it travels in JSON (binaries as bytes until JSON encodes them). */
export type AttributeValue =
  | { readonly NULL: true }
  | { readonly BOOL: boolean }
  | { readonly N: string }
  | { readonly S: string }
  | { readonly B: unknown }
  | { readonly L: AttributeValue[] }
  | { readonly M: Record<string, AttributeValue> }
  | { readonly NS: string[] }
  | { readonly SS: string[] }
  | { readonly BS: unknown[] };

const BINARY_TYPES: ReadonlySet<string> = new Set([
  'ArrayBuffer',
  'Blob',
  'Buffer',
  'DataView',
  'File',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

const UNDEFINED_REFUSED =
  'Pass options.removeUndefinedValues=true to remove undefined values from map/array/set.';

/** An item, key or expression value map → its attribute map (what `marshall(item)` returns). */
export function marshallItem(
  item: Readonly<Record<string, unknown>>,
  options: MarshallOptions = {},
): Record<string, AttributeValue> {
  const value = toAttribute(item, options);
  if ('M' in value) return value.M;
  throw new Error(`Expected an object to marshall as an item, got ${describe(item)}.`);
}

/** An attribute map from DynamoDB → the plain item (what `unmarshall(map)` returns). */
export function unmarshallItem(map: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return fromAttribute({ M: map }) as Record<string, unknown>;
}

function constructorName(value: unknown): string | undefined {
  return (value as { constructor?: { name?: string } } | null | undefined)?.constructor?.name;
}

function isBinary(value: unknown): boolean {
  const name = constructorName(value);
  return name !== undefined && BINARY_TYPES.has(name);
}

function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function toAttribute(data: unknown, options: MarshallOptions): AttributeValue {
  if (data === undefined) throw new Error(UNDEFINED_REFUSED);
  if (data === null) return { NULL: true };
  if (Array.isArray(data)) {
    return {
      L: data
        .filter(
          (entry) => typeof entry !== 'function' && !(options.removeUndefinedValues && entry === undefined),
        )
        .map((entry) => toAttribute(entry, options)),
    };
  }
  const name = constructorName(data);
  if (name === 'Set') return toSetAttribute(data as Set<unknown>, options);
  if (name === 'Map') return { M: toMap((data as Map<string, unknown>).entries(), options) };
  if (name === 'Object' || (typeof data === 'object' && !(data as object).constructor)) {
    return { M: toMap(enumerableEntries(data as object), options) };
  }
  if (isBinary(data)) {
    if ((data as { length?: number }).length === 0 && options.convertEmptyValues) return { NULL: true };
    return { B: data };
  }
  if (typeof data === 'boolean' || name === 'Boolean') return { BOOL: (data as boolean).valueOf() };
  if (typeof data === 'number' || name === 'Number') return { N: numberText(data as number, options) };
  if (typeof data === 'bigint') return { N: data.toString() };
  if (typeof data === 'string' || name === 'String') {
    if ((data as string).length === 0 && options.convertEmptyValues) return { NULL: true };
    return { S: (data as string).toString() };
  }
  if (options.convertClassInstanceToMap && typeof data === 'object') {
    return { M: toMap(enumerableEntries(data), options) };
  }
  throw new Error(
    `Unsupported type passed: ${describe(data)}. Pass options.convertClassInstanceToMap=true to marshall typeof object as map attribute.`,
  );
}

function* enumerableEntries(data: object): Iterable<[string, unknown]> {
  // for…in, as util-dynamodb: inherited enumerable properties included.
  for (const key in data) yield [key, (data as Record<string, unknown>)[key]];
}

function toMap(
  entries: Iterable<[string, unknown]>,
  options: MarshallOptions,
): Record<string, AttributeValue> {
  const map: Record<string, AttributeValue> = {};
  for (const [key, value] of entries) {
    if (typeof value === 'function') continue;
    if (value === undefined && options.removeUndefinedValues) continue;
    map[key] = toAttribute(value, options);
  }
  return map;
}

function toSetAttribute(set: Set<unknown>, options: MarshallOptions): AttributeValue {
  const values = options.removeUndefinedValues ? [...set].filter((value) => value !== undefined) : [...set];
  if (values.includes(undefined)) throw new Error(UNDEFINED_REFUSED);
  if (values.length === 0) {
    if (options.convertEmptyValues) return { NULL: true };
    throw new Error('Pass a non-empty set, or options.convertEmptyValues=true.');
  }
  const [first] = values;
  if (typeof first === 'number') return { NS: values.map((value) => numberText(value as number, options)) };
  if (typeof first === 'bigint') return { NS: values.map((value) => (value as bigint).toString()) };
  if (typeof first === 'string') return { SS: values.map((value) => (value as string).toString()) };
  if (isBinary(first)) return { BS: values };
  throw new Error('Only Number Set (NS), Binary Set (BS) or String Set (SS) are allowed.');
}

function numberText(value: number, options: MarshallOptions): string {
  const text = value.toString();
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') {
    throw new Error(`Special numeric value ${text} is not allowed`);
  }
  if (!options.allowImpreciseNumbers) {
    if (Number(value) > Number.MAX_SAFE_INTEGER) {
      throw new Error(
        `Number ${text} is greater than Number.MAX_SAFE_INTEGER. Store it as a string or bigint.`,
      );
    }
    if (Number(value) < Number.MIN_SAFE_INTEGER) {
      throw new Error(
        `Number ${text} is lesser than Number.MIN_SAFE_INTEGER. Store it as a string or bigint.`,
      );
    }
  }
  return text;
}

function fromAttribute(data: Readonly<Record<string, unknown>>): unknown {
  for (const [type, value] of Object.entries(data)) {
    if (value === undefined) continue;
    switch (type) {
      case 'NULL':
        return null;
      case 'BOOL':
        return Boolean(value);
      case 'N':
        return fromNumber(value as string);
      case 'B':
        return value;
      case 'S':
        return value;
      case 'L':
        return (value as Record<string, unknown>[]).map(fromAttribute);
      case 'M': {
        const item: Record<string, unknown> = {};
        for (const [key, inner] of Object.entries(value as Record<string, Record<string, unknown>>)) {
          item[key] = fromAttribute(inner);
        }
        return item;
      }
      case 'NS':
        return new Set((value as string[]).map(fromNumber));
      case 'BS':
      case 'SS':
        return new Set(value as unknown[]);
      default:
        throw new Error(`Unsupported type passed: ${type}`);
    }
  }
  throw new Error(`No value defined: ${JSON.stringify(data)}`);
}

function fromNumber(text: string): number | bigint {
  const number = Number(text);
  const largeFinite =
    (number > Number.MAX_SAFE_INTEGER || number < Number.MIN_SAFE_INTEGER) && Number.isFinite(number);
  if (!largeFinite) return number;
  try {
    return BigInt(text);
  } catch {
    throw new Error(
      `${text} can't be converted to BigInt: DynamoDB holds a number JavaScript cannot represent exactly.`,
    );
  }
}
