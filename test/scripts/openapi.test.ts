import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listVoicesQuerySchema } from '../../functions/api/schemas';
import { VOICE_ID_PATTERN } from '../../functions/shared/voices/record';
import packageJson from '../../package.json' with { type: 'json' };
import { buildOpenApiDocument } from '../../scripts/openapi/document';
import {
  componentSchema,
  deref,
  document,
  type JsonObject,
  objectAt,
  openApiProblems,
  operation,
  operationsOf,
  responseOf,
} from './openapi-support';

const root = new URL('../../', import.meta.url);

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
    'post /voices/{voiceId}/speech': ['200', '400', '404', '409', '410', '413', '422', '503'],
    'post /uploads': ['201', '400', '413', '422'],
  };
  const everywhere = ['401', '403', '429', '500', '502', '504'];

  it.each(Object.entries(statuses))('%s answers its statuses, errors in the error shape', (route, own) => {
    const [method, path] = route.split(' ') as [string, string];
    const responses = objectAt(operation(method, path).responses, 'responses');
    expect(Object.keys(responses).sort()).toEqual([...own, ...everywhere].sort());
    for (const status of Object.keys(responses).filter((code) => Number(code) >= 400)) {
      // A deleted voice's record comes with its 410, in a body that extends the error shape.
      const body = route === 'get /voices/{voiceId}' && status === '410' ? 'DeletedVoiceBody' : 'ErrorBody';
      expect(responseOf(method, path, status).content).toEqual({
        'application/json': { schema: { $ref: `#/components/schemas/${body}` } },
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

  it('answers speech as streamed audio or JSON, with X-Cache, and no redirect', () => {
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
    const headers = objectAt(responseOf('post', '/voices/{voiceId}/speech', '200').headers, 'headers');
    expect(headers['X-Cache']).toMatchObject({ schema: { enum: ['hit', 'partial', 'miss'] } });
    expect(() => responseOf('post', '/voices/{voiceId}/speech', '303')).toThrow();
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
