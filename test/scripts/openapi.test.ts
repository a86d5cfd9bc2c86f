import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import {
  listVoicesQuerySchema,
  MAX_SPEECH_CHARACTERS,
  speechRequestSchema,
  uploadRequestSchema,
} from '../../functions/api/schemas';
import { VOICE_ID_PATTERN } from '../../functions/shared/voices/record';
import packageJson from '../../package.json' with { type: 'json' };
import { buildOpenApiDocument } from '../../scripts/openapi/document';

type JsonObject = Record<string, unknown>;

const root = new URL('../../', import.meta.url);
/** The fresh document as JSON would carry it (no `undefined`s). */
const document = JSON.parse(JSON.stringify(buildOpenApiDocument())) as JsonObject;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectAt(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

/** Resolves a local reference (`#/a/b~1c`) in `doc`; undefined when it points at nothing. */
function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  const tokens = ref === '#' ? [] : ref.slice(2).split('/');
  let node: unknown = doc;
  for (const token of tokens) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

function deref(doc: JsonObject, value: unknown): unknown {
  let node = value;
  for (let hops = 0; isObject(node) && typeof node.$ref === 'string'; hops += 1) {
    if (hops > 20) throw new Error(`reference loop at ${node.$ref}`);
    node = resolvePointer(doc, node.$ref);
  }
  return node;
}

function operationsOf(doc: JsonObject): { path: string; method: string; operation: JsonObject }[] {
  const paths = isObject(doc.paths) ? doc.paths : {};
  return Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => isObject(item) && isObject(item[method])).map((method) => ({
      path,
      method,
      operation: (item as JsonObject)[method] as JsonObject,
    })),
  );
}

/**
 * The structural rules of OpenAPI 3.1 this project's document relies on; returns every problem found.
 * Not a full validator: what a mistake in the generator could plausibly break.
 */
function openApiProblems(doc: JsonObject): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) {
    problems.push(`openapi is ${String(doc.openapi)}, not 3.1.x`);
  }
  const info = doc.info;
  if (!isObject(info) || typeof info.title !== 'string' || typeof info.version !== 'string') {
    problems.push('info needs a title and a version');
  }
  if (!isObject(doc.paths)) problems.push('paths is missing');

  // Every $ref, anywhere, resolves inside the document.
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) {
      for (const [index, entry] of node.entries()) walk(entry, `${where}/${index}`);
    }
    if (!isObject(node)) return;
    if ('$ref' in node) {
      if (typeof node.$ref !== 'string' || resolvePointer(doc, node.$ref) === undefined) {
        problems.push(`${where}: $ref ${String(node.$ref)} does not resolve`);
      }
    }
    for (const [key, value] of Object.entries(node)) walk(value, `${where}/${key}`);
  };
  walk(doc, '#');

  const schemes =
    isObject(doc.components) && isObject(doc.components.securitySchemes)
      ? doc.components.securitySchemes
      : {};
  const checkSecurity = (security: unknown, where: string) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) return problems.push(`${where}: security is not a list`);
    for (const requirement of security) {
      for (const name of Object.keys(objectAt(requirement, where))) {
        if (!Object.hasOwn(schemes, name)) problems.push(`${where}: security scheme ${name} is not defined`);
      }
    }
  };
  checkSecurity(doc.security, '#/security');

  const operationIds = new Map<string, string>();
  for (const [path, rawItem] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const item = objectAt(rawItem, path);
    const templated = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string));
    const itemParameters = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      if (!isObject(item[method])) continue;
      const operation = item[method];
      const where = `${method.toUpperCase()} ${path}`;
      if (typeof operation.operationId !== 'string') problems.push(`${where}: no operationId`);
      else if (operationIds.has(operation.operationId)) {
        problems.push(
          `${where}: operationId ${operation.operationId} is also ${operationIds.get(operation.operationId)}`,
        );
      } else operationIds.set(operation.operationId, where);

      const parameters = [
        ...itemParameters,
        ...(Array.isArray(operation.parameters) ? operation.parameters : []),
      ]
        .map((parameter) => deref(doc, parameter))
        .filter(isObject);
      for (const parameter of parameters) {
        if (
          typeof parameter.name !== 'string' ||
          !['query', 'header', 'path', 'cookie'].includes(String(parameter.in))
        ) {
          problems.push(`${where}: parameter ${JSON.stringify(parameter)} needs a name and a valid "in"`);
        }
        if (!('schema' in parameter) && !('content' in parameter)) {
          problems.push(`${where}: parameter ${String(parameter.name)} has neither schema nor content`);
        }
        if (parameter.in === 'path' && parameter.required !== true) {
          problems.push(`${where}: path parameter ${String(parameter.name)} must be required`);
        }
      }
      const declared = new Set(parameters.filter((p) => p.in === 'path').map((p) => String(p.name)));
      for (const name of templated)
        if (!declared.has(name)) problems.push(`${where}: {${name}} is not declared`);
      for (const name of declared)
        if (!templated.has(name)) problems.push(`${where}: ${name} is not in the path`);

      if (operation.requestBody !== undefined) {
        const body = objectAt(deref(doc, operation.requestBody), `${where} requestBody`);
        if (!isObject(body.content) || Object.keys(body.content).length === 0) {
          problems.push(`${where}: requestBody has no content`);
        }
      }
      const responses = operation.responses;
      if (!isObject(responses) || Object.keys(responses).length === 0) {
        problems.push(`${where}: no responses`);
        continue;
      }
      for (const [status, rawResponse] of Object.entries(responses)) {
        if (status !== 'default' && !/^[1-5](\d\d|XX)$/.test(status))
          problems.push(`${where}: status ${status}`);
        const response = deref(doc, rawResponse);
        if (!isObject(response) || typeof response.description !== 'string') {
          problems.push(`${where} ${status}: a response needs a description`);
        }
      }
      checkSecurity(operation.security, where);
    }
  }
  return problems;
}

/**
 * The JSON Schema 2020-12 keywords the generated schemas use, with their standard meaning (lengths in code
 * points, patterns as Unicode regular expressions). Any other keyword fails the test: an unknown keyword
 * silently ignored would make agreement meaningless.
 */
function schemaFailures(doc: JsonObject, rawSchema: unknown, value: unknown, where = '#'): string[] {
  const schema = deref(doc, rawSchema);
  if (schema === true) return [];
  if (schema === false) return [`${where}: nothing is allowed`];
  if (!isObject(schema)) throw new Error(`${where}: not a schema`);
  const failures: string[] = [];
  const fail = (message: string) => failures.push(`${where}: ${message}`);
  const typeOf = (candidate: unknown) =>
    candidate === null ? 'null' : Array.isArray(candidate) ? 'array' : typeof candidate;
  const sub = (subschema: unknown, subvalue: unknown, at: string) =>
    schemaFailures(doc, subschema, subvalue, at);

  for (const [keyword, argument] of Object.entries(schema)) {
    switch (keyword) {
      case 'description':
      case 'default':
      case 'title':
        break;
      case 'type': {
        const types = ([] as unknown[]).concat(argument);
        const actual = typeOf(value);
        const ok = types.some(
          (type) =>
            type === actual || (type === 'integer' && typeof value === 'number' && Number.isInteger(value)),
        );
        if (!ok) fail(`is ${actual}, not ${types.join('|')}`);
        break;
      }
      case 'enum':
        if (!(argument as unknown[]).some((option) => JSON.stringify(option) === JSON.stringify(value))) {
          fail('not one of the enum');
        }
        break;
      case 'const':
        if (JSON.stringify(argument) !== JSON.stringify(value)) fail('not the const');
        break;
      case 'minimum':
        if (typeof value === 'number' && value < (argument as number)) fail(`below ${argument}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (argument as number)) fail(`above ${argument}`);
        break;
      case 'exclusiveMinimum':
        if (typeof value === 'number' && value <= (argument as number)) fail(`not above ${argument}`);
        break;
      case 'exclusiveMaximum':
        if (typeof value === 'number' && value >= (argument as number)) fail(`not below ${argument}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (argument as number)) fail('too short');
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > (argument as number)) fail('too long');
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(argument as string, 'u').test(value))
          fail(`not /${argument}/`);
        break;
      case 'properties':
        if (isObject(value)) {
          for (const [name, subschema] of Object.entries(argument as JsonObject)) {
            if (Object.hasOwn(value, name)) failures.push(...sub(subschema, value[name], `${where}/${name}`));
          }
        }
        break;
      case 'required':
        if (isObject(value)) {
          for (const name of argument as string[])
            if (!Object.hasOwn(value, name)) fail(`${name} is missing`);
        }
        break;
      case 'additionalProperties':
        if (isObject(value)) {
          const known = isObject(schema.properties) ? schema.properties : {};
          for (const [name, property] of Object.entries(value)) {
            if (!Object.hasOwn(known, name)) failures.push(...sub(argument, property, `${where}/${name}`));
          }
        }
        break;
      case 'propertyNames':
        if (isObject(value))
          for (const name of Object.keys(value)) failures.push(...sub(argument, name, where));
        break;
      case 'items':
        if (Array.isArray(value)) {
          for (const [index, entry] of value.entries())
            failures.push(...sub(argument, entry, `${where}/${index}`));
        }
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < (argument as number)) fail('too few items');
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > (argument as number)) fail('too many items');
        break;
      case 'allOf':
        for (const subschema of argument as unknown[]) failures.push(...sub(subschema, value, where));
        break;
      case 'anyOf':
        if (!(argument as unknown[]).some((subschema) => sub(subschema, value, where).length === 0)) {
          fail('matches none of anyOf');
        }
        break;
      case 'oneOf':
        if (
          (argument as unknown[]).filter((subschema) => sub(subschema, value, where).length === 0).length !==
          1
        ) {
          fail('does not match exactly one of oneOf');
        }
        break;
      case 'not':
        if (sub(argument, value, where).length === 0) fail('matches "not"');
        break;
      default:
        throw new Error(`${where}: the test's validator does not know the keyword "${keyword}"`);
    }
  }
  return failures;
}

function componentSchema(name: string): JsonObject {
  return objectAt(resolvePointer(document, `#/components/schemas/${name}`), name);
}

function operation(method: string, path: string): JsonObject {
  const found = operationsOf(document).find((entry) => entry.method === method && entry.path === path);
  if (!found) throw new Error(`no ${method} ${path}`);
  return found.operation;
}

function responseOf(method: string, path: string, status: string): JsonObject {
  const responses = objectAt(operation(method, path).responses, 'responses');
  return objectAt(deref(document, responses[status]), `${method} ${path} ${status}`);
}

describe('openapi.json', () => {
  it('is the document the schemas generate', () => {
    const committed: unknown = JSON.parse(readFileSync(new URL('openapi.json', root), 'utf8'));
    expect(
      committed,
      'openapi.json is out of date with functions/api/schemas.ts or scripts/openapi/: run npm run openapi',
    ).toEqual(document);
  });
});

describe('the OpenAPI document', () => {
  it('is structurally valid OpenAPI 3.1', () => {
    expect(openApiProblems(document)).toEqual([]);
  });

  it('has a checker that finds broken documents', () => {
    const broken = structuredClone(document);
    const paths = objectAt(broken.paths, 'paths');
    const voice = objectAt(paths['/voices/{voiceId}'], 'voice');
    delete voice.parameters;
    objectAt(voice.delete, 'delete').operationId = 'getVoice';
    objectAt(paths['/voices'], 'list').get = { operationId: 'list', responses: {} };
    objectAt(objectAt(broken.components, 'components').schemas, 'schemas').Voice = undefined;
    broken.openapi = '3.0.3';
    broken.security = [{ oauth: [] }];
    const problems = openApiProblems(JSON.parse(JSON.stringify(broken)) as JsonObject);
    for (const expected of [
      'not 3.1.x',
      '{voiceId} is not declared',
      'operationId getVoice is also GET /voices/{voiceId}',
      'GET /voices: no responses',
      '$ref #/components/schemas/Voice does not resolve',
      'security scheme oauth is not defined',
    ]) {
      expect(
        problems.some((problem) => problem.includes(expected)),
        expected,
      ).toBe(true);
    }
  });

  it('describes exactly the routes of the API app (functions/api/app.ts)', () => {
    const source = readFileSync(new URL('functions/api/app.ts', root), 'utf8');
    const appRoutes = [...source.matchAll(/\bapp\.(get|post|put|delete|patch)\(\s*'([^']+)'/g)].map(
      ([, method, path]) =>
        `${(method as string).toUpperCase()} ${(path as string).replace(/:(\w+)/g, '{$1}')}`,
    );
    const documented = operationsOf(document).map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(appRoutes.length).toBeGreaterThanOrEqual(5);
    expect(documented.sort()).toEqual(appRoutes.sort());
  });

  it('takes its version from package.json and its servers from the options', () => {
    expect(objectAt(document.info, 'info').version).toBe(packageJson.version);
    const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1';
    expect((buildOpenApiDocument({ serverUrl: url }) as JsonObject).servers).toEqual([{ url }]);
  });

  it('requires SigV4 on every route', () => {
    const schemes = objectAt(objectAt(document.components, 'components').securitySchemes, 'schemes');
    expect(schemes.sigv4).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    });
    expect(document.security).toEqual([{ sigv4: [] }]);
    for (const { operation: entry } of operationsOf(document)) expect(entry.security).toBeUndefined();
  });

  it('declares voiceId with its pattern and the list query from the zod schema', () => {
    expect(componentSchema('VoiceId').pattern).toBe(VOICE_ID_PATTERN.source);
    const parameters = (operation('get', '/voices').parameters as JsonObject[]).map((p) => p.name);
    expect(parameters).toEqual(Object.keys(listVoicesQuerySchema.shape));
  });

  const statuses: Record<string, string[]> = {
    'get /voices': ['200', '400'],
    'get /voices/{voiceId}': ['200', '404', '410'],
    'delete /voices/{voiceId}': ['200', '404', '409', '422', '503'],
    'post /voices/{voiceId}/speech': ['200', '303', '400', '404', '409', '410', '413', '422', '503'],
    'post /uploads': ['201', '400', '413', '422'],
  };
  const everywhere = ['401', '403', '429', '500', '502', '504'];

  it.each(Object.entries(statuses))('%s answers its statuses, errors in the error shape', (route, own) => {
    const [method, path] = route.split(' ') as [string, string];
    const responses = objectAt(operation(method, path).responses, 'responses');
    expect(Object.keys(responses).sort()).toEqual([...own, ...everywhere].sort());
    for (const status of Object.keys(responses).filter((code) => Number(code) >= 400)) {
      expect(responseOf(method, path, status).content).toEqual({
        'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } },
      });
    }
    const tooMany = objectAt(responseOf(method, path, '429').headers, 'headers');
    expect(deref(document, tooMany['Retry-After'])).toMatchObject({ required: true });
  });

  it("describes a provider's failures where the route calls the provider", () => {
    for (const [method, path] of [
      ['post', '/voices/{voiceId}/speech'],
      ['delete', '/voices/{voiceId}'],
    ] as const) {
      expect(responseOf(method, path, '429').description).toContain('provider_rate_limited');
      expect(responseOf(method, path, '502').description).toContain('provider_timeout');
      expect(responseOf(method, path, '503').description).toContain('provider_key_missing');
    }
    expect(responseOf('get', '/voices', '429').description).not.toContain('provider');
  });

  it('answers speech as audio or JSON, and a 303 with Location', () => {
    const content = objectAt(responseOf('post', '/voices/{voiceId}/speech', '200').content, 'content');
    expect(content['audio/wav']).toEqual({
      schema: { type: 'string', format: 'binary', contentMediaType: 'audio/wav' },
    });
    expect(content['audio/mpeg']).toEqual({
      schema: { type: 'string', format: 'binary', contentMediaType: 'audio/mpeg' },
    });
    expect(content['application/json']).toEqual({
      schema: { $ref: '#/components/schemas/SpeechUrlResponse' },
    });
    const redirect = responseOf('post', '/voices/{voiceId}/speech', '303');
    expect(objectAt(redirect.headers, 'headers').Location).toMatchObject({ required: true });
  });

  it('uses the input view for requests and the output view for answers', () => {
    // Defaults make request fields optional …
    expect(componentSchema('SpeechRequest').required).toEqual(['text']);
    expect(objectAt(componentSchema('SpeechRequest').properties, 'properties').format).toMatchObject({
      default: 'wav',
    });
    // … and a voice in a list is the one Voice schema.
    expect(componentSchema('VoiceList')).toMatchObject({
      properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Voice' } } },
    });
    for (const name of Object.keys(objectAt(objectAt(document.components, 'c').schemas, 's'))) {
      expect(componentSchema(name).$schema, name).toBeUndefined();
      expect(componentSchema(name).$id, name).toBeUndefined();
    }
  });
});

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
