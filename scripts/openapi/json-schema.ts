import * as z from 'zod/mini';
import { SCHEMA_NOTES, type SchemaNote } from './schemas';

/**
 * zod schemas as JSON Schema 2020-12 (OpenAPI 3.1's own dialect) with the descriptions and refinements of
 * schemas.ts, refusing any zod refinement the document could not show.
 */

export type JsonObject = Record<string, unknown>;

export const SCHEMA_REF = '#/components/schemas/';

/**
 * The named schemas as JSON Schema 2020-12 for `components.schemas`: one zod registry per view, so a schema
 * inside another named one (a voice in a list) becomes a `$ref`.
 */
export function componentSchemas(
  io: 'input' | 'output',
  named: Readonly<Record<string, z.core.$ZodType>>,
): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const converted = convert(Object.keys(named).join(', '), (override) =>
    z.toJSONSchema(registry, { ...CONVERSION, io, override, uri: (id) => `${SCHEMA_REF}${id}` }),
  );
  return Object.fromEntries(
    Object.entries(converted.schemas).map(([id, schema]) => [
      id,
      withoutDocumentKeywords(schema as JsonObject),
    ]),
  );
}

/** One schema converted on its own (the list query, whose properties become parameters). */
export function toJsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonObject {
  return withoutDocumentKeywords(
    convert('the list query', (override) =>
      z.toJSONSchema(schema, { ...CONVERSION, io, override }),
    ) as JsonObject,
  );
}

const CONVERSION = {
  target: 'draft-2020-12',
  unrepresentable: 'throw',
  cycles: 'throw',
  reused: 'inline',
} as const;

type Override = (context: {
  zodSchema: z.core.$ZodTypes;
  jsonSchema: z.core.JSONSchema.BaseSchema;
  path: (string | number)[];
}) => void;

/**
 * Runs a conversion with SCHEMA_NOTES applied, and fails when a zod refinement has no JSON Schema in them:
 * the document would silently accept what the handler refuses.
 */
function convert<T>(what: string, run: (override: Override) => T): T {
  const refined = new Map<z.core.$ZodType, string>();
  const result = run(({ zodSchema, jsonSchema, path }) => {
    if (hasRefinements(zodSchema)) refined.set(zodSchema, ['#', ...path].join('/'));
    const note = SCHEMA_NOTES.get(zodSchema);
    if (note) addNote(jsonSchema as JsonObject, note);
  });
  // Each `.refine` clones the schema, and zod visits every clone: only the last one, the one in use, counts.
  const inUse = [...refined].filter(
    ([schema]) => ![...refined.keys()].some((other) => other._zod.parent === schema),
  );
  const unexplained = inUse.filter(([schema]) => SCHEMA_NOTES.get(schema)?.refinement === undefined);
  if (unexplained.length > 0) {
    throw new Error(
      `zod refinements JSON Schema cannot show, in ${what} at ${unexplained.map(([, where]) => where).join(', ')}: give ` +
        'the refined schema a `refinement` in SCHEMA_NOTES (scripts/openapi/schemas.ts).',
    );
  }
  return result;
}

function addNote(jsonSchema: JsonObject, note: SchemaNote): void {
  const additions: JsonObject = { ...note.refinement };
  if (note.description !== undefined) additions.description = note.description;
  for (const [keyword, value] of Object.entries(additions)) {
    if (keyword in jsonSchema && JSON.stringify(jsonSchema[keyword]) !== JSON.stringify(value)) {
      throw new Error(
        `SCHEMA_NOTES would replace "${keyword}" in ${JSON.stringify(jsonSchema).slice(0, 200)}`,
      );
    }
    jsonSchema[keyword] = value;
  }
}

function hasRefinements(schema: z.core.$ZodType): boolean {
  return (schema._zod.def.checks ?? []).some((check) => check._zod.def.check === 'custom');
}

/** `$schema` and `$id` belong to a standalone document; inside OpenAPI 3.1 they would only mislead. */
function withoutDocumentKeywords(schema: JsonObject): JsonObject {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}
