import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import {
  listVoicesQuerySchema,
  MAX_SPEECH_CHARACTERS,
  speechRequestSchema,
  uploadRequestSchema,
} from '../../functions/api/schemas';
import { schemaFailures } from './json-schema-check';
import { document, type JsonObject, operation } from './openapi-support';

/** Whether the generated JSON Schema and the zod schema the handler parses with agree about `value`. */
function agreement(schema: z.ZodMiniType, component: unknown, value: unknown) {
  return {
    value: typeof value === 'string' && value.length > 40 ? `${value.slice(0, 20)}…(${value.length})` : value,
    zod: schema.safeParse(value).success,
    jsonSchema: schemaFailures(document, component, value).length === 0,
  };
}

const repeat = (text: string, times: number) => text.repeat(times);

describe('the JSON Schemas accept what the handler accepts', () => {
  const speechBodies: unknown[] = [
    { text: 'Hello' },
    { text: 'Hello', format: 'mp3', language: 'en', speed: 1.5, sampleRate: 24_000, delivery: 'url' },
    { text: 'Hi', language: 'auto' },
    { text: 'Hi', language: 'eng' },
    { text: 'Hi', language: 'EN' },
    { text: 'Hi', language: 'e' },
    { text: 'Hi', language: null },
    {},
    { text: '' },
    { text: ' \n\t\r' },
    { text: '\u00a0\u2003\u2028\ufeff' },
    { text: '\u200b' },
    { text: '  x  ' },
    { text: repeat('a', MAX_SPEECH_CHARACTERS) },
    { text: repeat('a', MAX_SPEECH_CHARACTERS + 1) },
    { text: repeat('😀', MAX_SPEECH_CHARACTERS) },
    { text: repeat('😀', MAX_SPEECH_CHARACTERS + 1) },
    { text: 42 },
    { text: 'Hi', format: 'ogg' },
    { text: 'Hi', format: null },
    { text: 'Hi', speed: 0.5 },
    { text: 'Hi', speed: 2 },
    { text: 'Hi', speed: 0.49 },
    { text: 'Hi', speed: 2.01 },
    { text: 'Hi', speed: '1' },
    { text: 'Hi', sampleRate: 44_100 },
    { text: 'Hi', sampleRate: 22_050 },
    { text: 'Hi', sampleRate: '16000' },
    { text: 'Hi', delivery: 'email' },
    { text: 'Hi', extra: true },
    null,
    [],
    'Hello',
  ];

  it('speech requests', () => {
    const results = speechBodies.map((body) =>
      agreement(speechRequestSchema, { $ref: '#/components/schemas/SpeechRequest' }, body),
    );
    expect(results.filter((result) => result.zod).length).toBeGreaterThanOrEqual(8);
    expect(results.filter((result) => !result.zod).length).toBeGreaterThanOrEqual(8);
    for (const result of results) expect(result.jsonSchema, JSON.stringify(result.value)).toBe(result.zod);
  });

  const uploadBodies: unknown[] = [
    { fileName: 'zoe.wav' },
    {
      fileName: 'Zoë (take 2).wav',
      provider: 'typecast',
      displayName: 'Zoë',
      language: 'en',
      model: 'ssfm-v30',
      accent: 'british',
      description: 'warm',
      tags: ['warm', 'calm'],
      sizeBytes: 1_000,
      contentType: 'audio/wav',
    },
    { fileName: '...' },
    { fileName: '.' },
    { fileName: '..' },
    { fileName: 'a/b.wav' },
    { fileName: 'a\\b.wav' },
    { fileName: 'a\u0007b.wav' },
    { fileName: 'a\u007fb.wav' },
    { fileName: '' },
    { fileName: repeat('x', 255) },
    { fileName: repeat('x', 256) },
    // Lengths are code points to both (zod 4 counts them too): 251 emoji are 502 UTF-16 code units.
    { fileName: `${repeat('😀', 251)}.wav` },
    { fileName: `${repeat('😀', 252)}.wav` },
    { fileName: 'a.wav', provider: 'elevenlabs' },
    { fileName: 'a.wav', displayName: '' },
    { fileName: 'a.wav', tags: 'a,b' },
    { fileName: 'a.wav', tags: Array.from({ length: 50 }, () => 'a') },
    { fileName: 'a.wav', tags: Array.from({ length: 51 }, () => 'a') },
    { fileName: 'a.wav', tags: [repeat('x', 101)] },
    { fileName: 'a.wav', tags: 5 },
    { fileName: 'a.wav', sizeBytes: 0 },
    { fileName: 'a.wav', sizeBytes: -1 },
    { fileName: 'a.wav', sizeBytes: 1.5 },
    { fileName: 'a.wav', sizeBytes: 2 ** 53 },
    { fileName: 'a.wav', unknown: 1 },
    {},
  ];

  it('upload requests', () => {
    const results = uploadBodies.map((body) =>
      agreement(uploadRequestSchema, { $ref: '#/components/schemas/UploadRequest' }, body),
    );
    for (const result of results) expect(result.jsonSchema, JSON.stringify(result.value)).toBe(result.zod);
  });

  it('list queries (typed values, as a client sends them)', () => {
    const parameters = operation('get', '/voices').parameters as JsonObject[];
    /** A query with unknown names is refused, as the description says (the zod schema is strict). */
    const queryFailures = (query: JsonObject) =>
      Object.entries(query).flatMap(([name, value]) => {
        const parameter = parameters.find((candidate) => candidate.name === name);
        return parameter ? schemaFailures(document, parameter.schema, value, name) : [`${name}: unknown`];
      });
    const queries: JsonObject[] = [
      {},
      { limit: 1 },
      { limit: 100 },
      { limit: 0 },
      { limit: 101 },
      { limit: 2.5 },
      { status: 'ready', provider: 'smallest', cursor: 'abc' },
      { status: 'gone' },
      { provider: 'elevenlabs' },
      { cursor: '' },
      { cursor: repeat('c', 2_049) },
      { other: 'x' },
    ];
    for (const query of queries) {
      expect(queryFailures(query).length === 0, JSON.stringify(query)).toBe(
        listVoicesQuerySchema.safeParse(query).success,
      );
    }
  });
});
