import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { speechRequestSchema, uploadRequestSchema } from '../../functions/api/schemas';
import { apiGatewayModelSchema, isPortablePattern, UnrepresentableModelError } from '../../lib/api-models';

type Schema = Record<string, unknown>;

/**
 * The draft-4 subset the project's models use, read the way API Gateway reads a model: `pattern` as a
 * regular expression without flags. Returns the failures, like the gateway's validationErrorString.
 */
function gatewayFailures(schema: Schema, value: unknown, where = '#'): string[] {
  const failures: string[] = [];
  const types = schema.type === undefined ? [] : ([] as unknown[]).concat(schema.type);
  const typeOf = (candidate: unknown) =>
    candidate === null
      ? 'null'
      : Array.isArray(candidate)
        ? 'array'
        : Number.isInteger(candidate)
          ? 'integer'
          : typeof candidate;
  const actual = typeOf(value);
  if (
    types.length > 0 &&
    !types.some((type) => type === actual || (type === 'number' && actual === 'integer'))
  ) {
    return [`${where}: is ${actual}, not ${types.join('|')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) failures.push(`${where}: not in enum`);
  if (typeof value === 'string') {
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength)
      failures.push(`${where}: too short`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength)
      failures.push(`${where}: too long`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
      failures.push(`${where}: does not match ${schema.pattern}`);
    }
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      failures.push(`${where}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      failures.push(`${where}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      failures.push(`${where}: too many`);
    if (schema.items) {
      value.forEach((item, index) => {
        failures.push(...gatewayFailures(schema.items as Schema, item, `${where}/${index}`));
      });
    }
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) {
      if (!(name in object)) failures.push(`${where}: missing ${name}`);
    }
    for (const [name, property] of Object.entries(object)) {
      const propertySchema = properties[name];
      if (propertySchema) failures.push(...gatewayFailures(propertySchema, property, `${where}/${name}`));
      else if (schema.additionalProperties === false) failures.push(`${where}: unknown ${name}`);
    }
  }
  if (Array.isArray(schema.anyOf)) {
    const branches = (schema.anyOf as Schema[]).map((branch) => gatewayFailures(branch, value, where));
    if (branches.every((branch) => branch.length > 0)) failures.push(`${where}: matches no anyOf branch`);
  }
  for (const branch of (schema.allOf ?? []) as Schema[])
    failures.push(...gatewayFailures(branch, value, where));
  return failures;
}

function modelOf(name: string, schema: z.core.$ZodType): Schema {
  return apiGatewayModelSchema(name, schema).schema as unknown as Schema;
}

describe('Function: apiGatewayModelSchema', () => {
  describe('the speech and upload models', () => {
    const speechBodies: unknown[] = [
      { text: 'Hello there.' },
      { text: 'Bonjour à tous 👋', format: 'mp3', language: 'fr', speed: 1.25, sampleRate: 24_000 },
      { text: 'Long text, stored.', delivery: 'url', format: 'wav', language: 'auto', speed: 0.5 },
    ];
    const uploadBodies: unknown[] = [
      { fileName: 'recording.wav' },
      { fileName: 'Ünïcødé clip {take 2}.mp3', provider: 'typecast', displayName: 'Clip', sizeBytes: 1_000 },
      { fileName: 'alice.m4a', tags: ['warm', 'calm'], language: 'en', contentType: 'audio/mp4' },
      { fileName: 'bob.webm', tags: 'a,b', description: 'Bob reading', accent: 'scottish', model: 'x' },
    ];

    it('accepts every body the handler accepts (the gateway must never refuse first)', () => {
      for (const [name, schema, bodies] of [
        ['SpeechRequest', speechRequestSchema, speechBodies],
        ['UploadRequest', uploadRequestSchema, uploadBodies],
      ] as const) {
        const model = modelOf(name, schema);
        for (const body of bodies) {
          expect(schema.safeParse(body).success, JSON.stringify(body)).toBe(true);
          expect(gatewayFailures(model, body), JSON.stringify(body)).toEqual([]);
        }
      }
    });

    it('refuses early what the handler refuses for its shape', () => {
      const speech = modelOf('SpeechRequest', speechRequestSchema);
      const upload = modelOf('UploadRequest', uploadRequestSchema);

      expect(gatewayFailures(speech, {})).toEqual(['#: missing text']);
      expect(gatewayFailures(speech, { text: 'hi', format: 'ogg' })).toEqual(['#/format: not in enum']);
      expect(gatewayFailures(speech, { text: 'hi', speed: 3 })).toEqual(['#/speed: above maximum']);
      expect(gatewayFailures(speech, { text: 'hi', sampleRate: 22_050 })).toEqual([
        '#/sampleRate: not in enum',
      ]);
      expect(gatewayFailures(speech, { text: 'hi', voice: 'x' })).toEqual(['#: unknown voice']);
      expect(gatewayFailures(upload, { fileName: '' })).toEqual(['#/fileName: too short']);
      expect(gatewayFailures(upload, { fileName: 'a.wav', provider: 'elevenlabs' })).toEqual([
        '#/provider: not in enum',
      ]);
    });

    it('makes fields with defaults optional, as the handler parses them', () => {
      const speech = modelOf('SpeechRequest', speechRequestSchema);

      expect(speech.required).toEqual(['text']);
      expect(speech.additionalProperties).toBe(false);
      expect(modelOf('UploadRequest', uploadRequestSchema).required).toEqual(['fileName']);
    });

    it('declares draft 4 in CDK spelling and names the model', () => {
      const speech = modelOf('SpeechRequest', speechRequestSchema);

      expect(speech.schema).toBe('http://json-schema.org/draft-04/schema#');
      expect(speech.title).toBe('SpeechRequest');
      expect(speech).not.toHaveProperty('$schema');
    });
  });

  it('rewrites const as a one-value enum and exclusive bounds as draft-4 flags', () => {
    const model = modelOf(
      'Example',
      z.strictObject({ kind: z.literal('x'), weight: z.number().gt(0).lt(5) }),
    );
    const properties = model.properties as Record<string, Schema>;

    expect(properties.kind).toEqual({ type: 'string', enum: ['x'] });
    expect(properties.weight).toEqual({
      type: 'number',
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 5,
      exclusiveMaximum: true,
    });
    expect(JSON.stringify(model)).not.toContain('"const"');
  });

  it('inlines a subschema used twice instead of referring to it', () => {
    const shared = z.string().max(5);
    const model = modelOf('Example', z.strictObject({ first: shared, second: shared }));

    expect(JSON.stringify(model)).not.toMatch(/\$ref|definitions|\$defs/);
    expect(model.properties).toEqual({
      first: { type: 'string', maxLength: 5 },
      second: { type: 'string', maxLength: 5 },
    });
  });

  it('keeps a plain pattern and leaves a pattern with flags or Unicode escapes to the handler', () => {
    const result = apiGatewayModelSchema(
      'Example',
      z.strictObject({
        code: z.string().regex(/^[a-z]{2}$/),
        caseless: z.string().regex(/^abc$/i),
        printable: z.string().regex(/^[^\p{Cc}]+$/u),
      }),
    );
    const properties = result.schema.properties ?? {};

    expect(properties.code?.pattern).toBe('^[a-z]{2}$');
    expect(properties.caseless).toEqual({ type: 'string' });
    expect(properties.printable).toEqual({ type: 'string' });
    expect([...result.handlerOnlyChecks].sort()).toEqual([
      "#/properties/caseless: pattern /^abc$/ is not portable to API Gateway's validator",
      "#/properties/printable: pattern /^[^\\p{Cc}]+$/ is not portable to API Gateway's validator",
    ]);
  });

  it('leaves out a format and a newer annotation, and lists them', () => {
    const result = apiGatewayModelSchema(
      'Example',
      z.strictObject({ data: z.string().base64(), at: z.iso.date() }),
    );

    expect(result.handlerOnlyChecks).toEqual(
      expect.arrayContaining([expect.stringMatching(/^#\/properties\/data.*contentEncoding/)]),
    );
    expect(JSON.stringify(result.schema)).not.toMatch(/contentEncoding|"format"/);
  });

  it('throws, naming the model and every place, when a validation keyword is newer than draft 4', () => {
    const schema = z.strictObject({
      first: z.object({}).meta({ propertyNames: { maxLength: 3 } }),
      second: z.array(z.string()).meta({ contains: { const: 'x' } }),
    });

    expect(() => apiGatewayModelSchema('Example', schema)).toThrow(UnrepresentableModelError);
    expect(() => apiGatewayModelSchema('Example', schema)).toThrow(
      'API model Example cannot be expressed in JSON Schema draft 4:\n' +
        '  - #/properties/first: "propertyNames" is not a JSON Schema draft-4 keyword API Gateway validates\n' +
        '  - #/properties/second: "contains" is not a JSON Schema draft-4 keyword API Gateway validates',
    );
  });
});

describe('Function: isPortablePattern', () => {
  it('accepts ECMAScript 5 patterns without flags that change what they match', () => {
    expect(isPortablePattern(/^vc_[a-z2-7]{26}$/)).toBe(true);
    expect(isPortablePattern(/^(auto|[a-z]{2,3})$/g)).toBe(true);
    expect(isPortablePattern(/^[^/\\]+\.(wav|mp3)$/)).toBe(true);
  });

  it('refuses flags that change matching and syntax an ECMAScript 5 engine reads differently', () => {
    expect(isPortablePattern(/abc/i)).toBe(false);
    expect(isPortablePattern(/^a.b$/s)).toBe(false);
    expect(isPortablePattern(/^\p{L}+$/u)).toBe(false);
    expect(isPortablePattern(/\u{1F600}/u)).toBe(false);
    expect(isPortablePattern(/(?<=a)b/)).toBe(false);
    expect(isPortablePattern(/(?<year>\d{4})/)).toBe(false);
  });
});
