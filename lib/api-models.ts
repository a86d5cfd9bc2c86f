import { type JsonSchema, JsonSchemaVersion } from 'aws-cdk-lib/aws-apigateway';
import * as z from 'zod';

/**
 * The JSON Schema draft-4 keywords API Gateway's request validator understands (its models are draft 4).
 * Anything else in a generated schema is a newer keyword the validator would silently ignore, so it fails
 * the synth instead of weakening validation unnoticed.
 */
export const DRAFT_4_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema',
  'title',
  'description',
  'default',
  'type',
  'enum',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'items',
  'additionalItems',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);

/**
 * Newer keywords that only annotate (draft 7's content keywords, 2019's `deprecated`, …): left out and
 * listed, since the handler still checks, say, a base64 string.
 */
const ANNOTATIONS: ReadonlySet<string> = new Set([
  'contentEncoding',
  'contentMediaType',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
]);

/** Keywords whose value maps names chosen by the schema's author (property names) to subschemas. */
const SUBSCHEMA_MAPS: ReadonlySet<string> = new Set(['properties', 'patternProperties']);
/** Keywords whose value is one subschema, or a list of them. */
const SUBSCHEMAS: ReadonlySet<string> = new Set(['items', 'additionalItems', 'additionalProperties', 'not']);
const SUBSCHEMA_LISTS: ReadonlySet<string> = new Set(['allOf', 'anyOf', 'oneOf']);

type JsonObject = Record<string, unknown>;

/** A zod schema cannot become an API Gateway model without losing validation. */
export class UnrepresentableModelError extends Error {
  constructor(
    readonly modelName: string,
    readonly problems: readonly string[],
  ) {
    super(
      `API model ${modelName} cannot be expressed in JSON Schema draft 4:\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'UnrepresentableModelError';
  }
}

export interface ApiGatewayModelSchema {
  /** The model schema, in CDK's spelling of JSON Schema draft 4. */
  readonly schema: JsonSchema;
  /**
   * Checks of the zod schema the model leaves to the handler, each as `<JSON pointer>: <why>`: checks API
   * Gateway would read differently from zod, so keeping them could refuse requests the handler accepts.
   */
  readonly handlerOnlyChecks: readonly string[];
}

/**
 * An API Gateway model schema (JSON Schema draft 4) for what a client may send: zod's `input` view, so
 * fields with defaults are optional, converted with zod's own draft-4 target. The handler parses with the
 * same zod schema, so the gateway rejects early what the handler would reject anyway; what JSON Schema
 * cannot express (zod refinements such as "not only whitespace") stays with the handler.
 *
 * The gateway must never refuse a request the handler would accept, so checks API Gateway's validator reads
 * differently are left out (and listed): a `pattern` whose regular expression has flags (`u`, `i`, …) or
 * syntax newer than ECMAScript 5 (`\p{…}`, `\u{…}`, lookbehind, named groups), since JSON Schema patterns
 * carry no flags and without `u` the class `[^\p{Cc}]` excludes the letters p, C, c and braces instead of
 * control characters; and `format`, whose formats are not zod's. Draft-4 spellings the converter might leave in newer form are rewritten (`const` becomes a
 * one-value `enum`, numeric `exclusiveMinimum`/`exclusiveMaximum` become a bound plus the boolean flag);
 * newer annotations (`contentEncoding`, …) are left out and listed; references, and validation keywords
 * draft 4 lacks, throw: API Gateway would ignore them, and the model would no longer say what zod says.
 */
export function apiGatewayModelSchema(modelName: string, schema: z.core.$ZodType): ApiGatewayModelSchema {
  // A set: zod may run the override more than once for one subschema.
  const handlerOnlyChecks = new Set<string>();
  const generated = z.toJSONSchema(schema, {
    target: 'draft-04',
    io: 'input',
    unrepresentable: 'throw',
    // A model is one self-contained document: no `$ref`s into definitions that a later edit could break.
    reused: 'inline',
    cycles: 'throw',
    override: ({ zodSchema, jsonSchema, path }) => {
      const dropped = dropUnportablePatterns(zodSchema, jsonSchema as JsonObject);
      for (const source of dropped) {
        handlerOnlyChecks.add(
          `${pointer(path)}: pattern /${source}/ is not portable to API Gateway's validator`,
        );
      }
    },
  }) as JsonObject;
  const problems: string[] = [];
  const converted = toDraft4(generated, '#', problems, handlerOnlyChecks);
  if (problems.length > 0) throw new UnrepresentableModelError(modelName, problems);
  return {
    schema: { ...converted, schema: JsonSchemaVersion.DRAFT4, title: modelName },
    handlerOnlyChecks: [...handlerOnlyChecks],
  };
}

/** Flags that do not change what a regular expression matches. */
const NEUTRAL_FLAGS = /[dgy]/g;
/** ECMAScript 2015+ syntax, read differently (or not at all) by an ECMAScript 5 engine. */
const NEWER_SYNTAX = /\\[pPk]|\\u\{|\(\?</;

/** Whether API Gateway's ECMAScript 5 reading of a JSON Schema `pattern` (no flags) matches what zod does. */
export function isPortablePattern(regex: RegExp): boolean {
  return regex.flags.replace(NEUTRAL_FLAGS, '') === '' && !NEWER_SYNTAX.test(regex.source);
}

/**
 * zod writes a string's regular expressions as `pattern` (one) or an `allOf` of patterns (several), without
 * their flags, which only the RegExp objects on the zod schema know: the format's own, its checks', and any
 * a plugin put in the bag. Returns the sources removed.
 */
function dropUnportablePatterns(zodSchema: z.core.$ZodTypes, jsonSchema: JsonObject): string[] {
  const unportable = new Set(
    regularExpressionsOf(zodSchema)
      .filter((regex) => !isPortablePattern(regex))
      .map((regex) => regex.source),
  );
  const dropped: string[] = [];
  if (typeof jsonSchema.pattern === 'string' && unportable.has(jsonSchema.pattern)) {
    dropped.push(jsonSchema.pattern);
    delete jsonSchema.pattern;
  }
  if (Array.isArray(jsonSchema.allOf)) {
    const kept = (jsonSchema.allOf as JsonObject[]).filter((entry) => {
      if (typeof entry.pattern !== 'string' || !unportable.has(entry.pattern)) return true;
      dropped.push(entry.pattern);
      return false;
    });
    if (kept.length > 0) jsonSchema.allOf = kept;
    else delete jsonSchema.allOf;
  }
  return dropped;
}

function regularExpressionsOf(zodSchema: z.core.$ZodTypes): RegExp[] {
  const found: RegExp[] = [];
  const add = (value: unknown) => {
    if (value instanceof RegExp) found.push(value);
  };
  const definition = zodSchema._zod.def as {
    readonly pattern?: unknown;
    readonly checks?: readonly { readonly _zod: { readonly def: { readonly pattern?: unknown } } }[];
  };
  add(definition.pattern);
  for (const check of definition.checks ?? []) add(check._zod.def.pattern);
  const inBag = zodSchema._zod.bag.patterns;
  if (inBag instanceof Set) for (const regex of inBag) add(regex);
  return found;
}

function pointer(path: readonly (string | number)[]): string {
  return ['#', ...path.map(String)].join('/');
}

function toDraft4(
  node: JsonObject,
  where: string,
  problems: string[],
  handlerOnlyChecks: Set<string>,
): JsonSchema {
  const result: JsonObject = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === '$schema') continue;
    if (keyword === 'const') {
      result.enum = [value];
      continue;
    }
    if ((keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') && typeof value === 'number') {
      result[keyword === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      result[keyword] = true;
      continue;
    }
    if (keyword === 'pattern' && typeof value === 'string' && NEWER_SYNTAX.test(value)) {
      handlerOnlyChecks.add(`${where}: pattern /${value}/ is not portable to API Gateway's validator`);
      continue;
    }
    if (ANNOTATIONS.has(keyword)) {
      handlerOnlyChecks.add(`${where}: "${keyword}" is not a JSON Schema draft-4 keyword`);
      continue;
    }
    if (keyword === 'format') {
      handlerOnlyChecks.add(
        `${where}: format "${String(value)}" is checked by zod's rules, not API Gateway's`,
      );
      continue;
    }
    if (!DRAFT_4_KEYWORDS.has(keyword)) {
      problems.push(`${where}: "${keyword}" is not a JSON Schema draft-4 keyword API Gateway validates`);
      continue;
    }
    result[keyword] = convertValue(keyword, value, `${where}/${keyword}`, problems, handlerOnlyChecks);
  }
  // Cast: the converted object has only draft-4 keywords; `$schema` is set by the caller in CDK's spelling.
  return result as JsonSchema;
}

function convertValue(
  keyword: string,
  value: unknown,
  where: string,
  problems: string[],
  handlerOnlyChecks: Set<string>,
): unknown {
  if (SUBSCHEMA_MAPS.has(keyword)) {
    return Object.fromEntries(
      Object.entries(value as JsonObject).map(([name, subschema]) => [
        name,
        toDraft4(subschema as JsonObject, `${where}/${name}`, problems, handlerOnlyChecks),
      ]),
    );
  }
  if (SUBSCHEMA_LISTS.has(keyword) || (keyword === 'items' && Array.isArray(value))) {
    return (value as JsonObject[]).map((subschema, index) =>
      toDraft4(subschema, `${where}/${index}`, problems, handlerOnlyChecks),
    );
  }
  if (SUBSCHEMAS.has(keyword) && typeof value === 'object' && value !== null) {
    return toDraft4(value as JsonObject, where, problems, handlerOnlyChecks);
  }
  return value;
}
