import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Log } from '../../functions/shared/logger';
import {
  type LocalApiGateway,
  type LocalApiGatewayOptions,
  startLocalApiGateway,
} from '../../local/api-gateway';

type Handler = LocalApiGatewayOptions['handler'];

const gateways: LocalApiGateway[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  vi.restoreAllMocks();
});

function recordingLog() {
  const entries: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  const log: Log = {
    debug: () => {},
    info: () => {},
    warn: (message, attributes) => entries.push({ level: 'warn', message, attributes }),
    error: (message, attributes) => entries.push({ level: 'error', message, attributes }),
  };
  return { log, entries };
}

async function start(handler: Handler, options: Partial<LocalApiGatewayOptions> = {}) {
  const { log, entries } = recordingLog();
  const gateway = await startLocalApiGateway({ port: 0, handler, log, ...options });
  gateways.push(gateway);
  return { gateway, entries };
}

/** A handler that keeps every event and context it receives and answers 200 with an empty JSON object. */
function recordingHandler(result: APIGatewayProxyResult = { statusCode: 200, body: '{}' }) {
  const calls: { event: APIGatewayProxyEvent; context: Context; remainingMs: number }[] = [];
  const handler: Handler = async (event, context) => {
    calls.push({ event, context, remainingMs: context.getRemainingTimeInMillis() });
    return result;
  };
  return { handler, calls };
}

function onlyCall<T>(calls: readonly T[]): T {
  expect(calls).toHaveLength(1);
  return calls[0] as T;
}

/** node:http rather than fetch where the exact header lines matter: fetch lower-cases names. */
function rawRequest(
  url: string,
  options: { method: string; headers: Record<string, string | string[]>; body?: Buffer },
): Promise<{ statusCode: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: options.method, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ statusCode: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

async function expectJsonError(
  response: Response,
  status: number,
  expected: { code: string; retryable: boolean },
): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { error: { code: string; message: string; retryable: boolean } };
  expect(body.error).toMatchObject(expected);
  expect(typeof body.error.message).toBe('string');
  return body.error.message;
}

describe('local API gateway: the event the handler receives', () => {
  it('builds a REST API proxy event with the resource template, decoded path parameters and a UTF-8 body', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);
    const voiceId = 'голос 声';
    const encodedPath = `/voices/${encodeURIComponent(voiceId)}/speech`;

    const response = await fetch(`${gateway.url}/v1${encodedPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'voicedrop-test' },
      body: JSON.stringify({ text: 'Привет', format: 'wav' }),
    });

    expect(response.status).toBe(200);
    const { event, context } = onlyCall(calls);
    expect(event.resource).toBe('/voices/{voiceId}/speech');
    // REST APIs hand over the path still percent-encoded and the parameters decoded.
    expect(event.path).toBe(encodedPath);
    expect(event.httpMethod).toBe('POST');
    expect(event.pathParameters).toEqual({ voiceId });
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.stageVariables).toBeNull();
    expect(event.isBase64Encoded).toBe(false);
    expect(JSON.parse(event.body ?? '')).toEqual({ text: 'Привет', format: 'wav' });
    expect(event.requestContext).toMatchObject({
      accountId: '000000000000',
      apiId: 'local',
      stage: 'v1',
      httpMethod: 'POST',
      path: `/v1${encodedPath}`,
      resourcePath: '/voices/{voiceId}/speech',
      protocol: 'HTTP/1.1',
      domainName: new URL(gateway.url).host,
      identity: { sourceIp: '127.0.0.1', userAgent: 'voicedrop-test' },
    });
    expect(event.requestContext.requestId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(Math.abs(event.requestContext.requestTimeEpoch - Date.now())).toBeLessThan(5_000);
    expect(event.requestContext.requestTime).toMatch(
      /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/,
    );
    expect(response.headers.get('x-amzn-requestid')).toBe(event.requestContext.requestId);
    expect(context.awsRequestId).toBe(event.requestContext.requestId);
    expect(context.functionName).toBe('voicedrop-api-local');
    expect(context.callbackWaitsForEmptyEventLoop).toBe(true);
  });

  it('accepts the same routes with and without the stage prefix', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    await fetch(`${gateway.url}/voices/vc_1`);
    await fetch(`${gateway.url}/v1/voices/vc_1`);

    expect(calls).toHaveLength(2);
    for (const { event } of calls) {
      expect(event.resource).toBe('/voices/{voiceId}');
      expect(event.path).toBe('/voices/vc_1');
      expect(event.requestContext.path).toBe('/v1/voices/vc_1');
      expect(event.pathParameters).toEqual({ voiceId: 'vc_1' });
      expect(event.body).toBeNull();
    }
  });

  it('decodes query parameters, keeping the last value of a repeated name and every value in the multi-value map', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    await fetch(
      `${gateway.url}/v1/voices?status=ready&tag=a&tag=b%20c&note=hello+world%21&name=${encodeURIComponent('Алиса')}`,
    );

    const { event } = onlyCall(calls);
    expect(event.resource).toBe('/voices');
    expect(event.pathParameters).toBeNull();
    expect(event.queryStringParameters).toEqual({
      status: 'ready',
      tag: 'b c',
      note: 'hello world!',
      name: 'Алиса',
    });
    expect(event.multiValueQueryStringParameters).toEqual({
      status: ['ready'],
      tag: ['a', 'b c'],
      note: ['hello world!'],
      name: ['Алиса'],
    });
  });

  it('passes header names as the client sent them, the last value in headers and all in multiValueHeaders', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    const response = await rawRequest(`${gateway.url}/v1/voices`, {
      method: 'GET',
      headers: { 'X-Voicedrop-Trace': ['first', 'second'], Accept: 'application/json' },
    });

    expect(response.statusCode).toBe(200);
    const { event } = onlyCall(calls);
    expect(event.headers['X-Voicedrop-Trace']).toBe('second');
    expect(event.multiValueHeaders['X-Voicedrop-Trace']).toEqual(['first', 'second']);
    expect(event.headers.Accept).toBe('application/json');
    expect(event.headers['x-voicedrop-trace']).toBeUndefined();
    expect(event.headers['X-Forwarded-For']).toBe('127.0.0.1');
    expect(event.headers['X-Forwarded-Proto']).toBe('http');
  });

  it('hands an audio/wav request body over base64-encoded, byte for byte', async () => {
    const { handler, calls } = recordingHandler({ statusCode: 201, body: '{}' });
    const { gateway } = await start(handler);
    const audio = randomBytes(4_096);

    const response = await fetch(`${gateway.url}/v1/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'audio/wav; codecs=1' },
      body: audio,
    });

    expect(response.status).toBe(201);
    const { event } = onlyCall(calls);
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').equals(audio)).toBe(true);
  });

  it('gives the handler a remaining time that counts down from the gateway timeout', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler, { timeoutMs: 5_000 });

    await fetch(`${gateway.url}/voices`);

    const { remainingMs, context } = onlyCall(calls);
    expect(remainingMs).toBeGreaterThan(4_000);
    expect(remainingMs).toBeLessThanOrEqual(5_000);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(remainingMs);
  });
});

describe('local API gateway: the response the client receives', () => {
  it('sends random bytes from a base64-encoded result back exactly, with a correct Content-Length', async () => {
    const audio = randomBytes(100_003);
    const { gateway, entries } = await start(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'audio/wav' },
      body: audio.toString('base64'),
      isBase64Encoded: true,
    }));

    const response = await fetch(`${gateway.url}/v1/voices/vc_1/speech`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'audio/wav' },
      body: '{"text":"hi","format":"wav"}',
    });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(response.headers.get('content-length')).toBe(String(audio.length));
    expect(Buffer.from(await response.arrayBuffer()).equals(audio)).toBe(true);
    expect(entries).toEqual([]);
  });

  it('warns once when the deployed API would send a binary result as base64 text (first Accept type not binary)', async () => {
    const { gateway, entries } = await start(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'audio/mpeg' },
      body: Buffer.from([0xff, 0xfb, 0x90, 0x00]).toString('base64'),
      isBase64Encoded: true,
    }));
    const speak = () =>
      fetch(`${gateway.url}/voices/vc_1/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: '*/*' },
        body: '{}',
      });

    const first = await speak();
    await speak();

    expect(Buffer.from(await first.arrayBuffer())).toEqual(Buffer.from([0xff, 0xfb, 0x90, 0x00]));
    expect(entries.filter((entry) => entry.level === 'warn')).toHaveLength(1);
    expect(entries[0]?.message).toMatch(/base64 text/);
  });

  it('passes a JSON result through with its status code, headers and UTF-8 body', async () => {
    const body = JSON.stringify({ voiceId: 'vc_1', displayName: 'Зоя 🎙' });
    const { gateway } = await start(async () => ({
      statusCode: 201,
      headers: {
        'Content-Type': 'application/json; charset=utf-8',
        'X-Voicedrop-Version': 3,
        'Cache-Control': 'no-store',
      },
      body,
    }));

    const response = await fetch(`${gateway.url}/uploads`, { method: 'POST', body: '{}' });

    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-voicedrop-version')).toBe('3');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    expect(await response.text()).toBe(body);
  });

  it('sends every multiValueHeaders value as its own header line, and prefers them over headers of the same name', async () => {
    const { gateway } = await start(async () => ({
      statusCode: 200,
      headers: { 'Content-Type': 'text/plain', Vary: 'Accept' },
      multiValueHeaders: {
        'Set-Cookie': ['a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2; Path=/'],
        vary: ['Accept', 'Origin'],
      },
      body: 'ok',
    }));

    const response = await fetch(`${gateway.url}/voices`);

    expect(response.headers.getSetCookie()).toEqual([
      'a=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
      'b=2; Path=/',
    ]);
    expect(response.headers.get('vary')).toBe('Accept, Origin');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('ok');
  });

  it('answers a result with only multiValueHeaders and no body (the shape hono/aws-lambda returns)', async () => {
    const { gateway } = await start(async () => ({
      statusCode: 204,
      multiValueHeaders: { 'x-voicedrop-deleted': ['vc_1'] },
      body: '',
    }));

    const response = await fetch(`${gateway.url}/voices/vc_1`, { method: 'DELETE' });

    expect(response.status).toBe(204);
    expect(response.headers.get('x-voicedrop-deleted')).toBe('vc_1');
    expect(await response.text()).toBe('');
  });
});

describe('local API gateway: errors', () => {
  it('answers 404 for an unknown path without invoking the handler', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    for (const path of [
      '/nope',
      '/v1/nope',
      '/v1',
      '/voices/vc_1/speech/extra',
      '/voices//speech',
      '/v2/voices',
    ]) {
      const message = await expectJsonError(await fetch(`${gateway.url}${path}`), 404, {
        code: 'not_found',
        retryable: false,
      });
      expect(message).toMatch(/^No route GET /);
    }
    expect(calls).toEqual([]);
  });

  it('answers 405 with Allow for a method the resource does not have, without invoking the handler', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    const speech = await fetch(`${gateway.url}/v1/voices/vc_1/speech`);
    await expectJsonError(speech, 405, { code: 'method_not_allowed', retryable: false });
    expect(speech.headers.get('allow')).toBe('POST');

    const put = await fetch(`${gateway.url}/voices`, { method: 'PUT', body: '{}' });
    await expectJsonError(put, 405, { code: 'method_not_allowed', retryable: false });
    expect(put.headers.get('allow')).toBe('GET');

    const options = await fetch(`${gateway.url}/voices/vc_1`, { method: 'OPTIONS' });
    await expectJsonError(options, 405, { code: 'method_not_allowed', retryable: false });
    expect(options.headers.get('allow')).toBe('GET, DELETE');

    const head = await fetch(`${gateway.url}/voices`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(calls).toEqual([]);
  });

  it('answers 413 for a body over the payload limit, declared or streamed, and accepts one at the limit', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler, { maxBodyBytes: 1_024 });

    const declared = await fetch(`${gateway.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'audio/wav' },
      body: randomBytes(1_025),
    });
    await expectJsonError(declared, 413, { code: 'request_too_large', retryable: false });

    const chunks = [randomBytes(600), randomBytes(600)];
    const streamed = await fetch(`${gateway.url}/uploads`, {
      method: 'POST',
      headers: { 'content-type': 'audio/wav' },
      body: new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    await expectJsonError(streamed, 413, { code: 'request_too_large', retryable: false });
    expect(calls).toEqual([]);

    const atLimit = await fetch(`${gateway.url}/uploads`, { method: 'POST', body: randomBytes(1_024) });
    expect(atLimit.status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it('answers 504 when the handler takes longer than the timeout, and drops its late result', async () => {
    let finishLate: () => void = () => {};
    const late = new Promise<void>((resolve) => {
      finishLate = resolve;
    });
    const { gateway, entries } = await start(
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        finishLate();
        return { statusCode: 200, body: 'too late' };
      },
      { timeoutMs: 50 },
    );

    const startedAt = Date.now();
    const response = await fetch(`${gateway.url}/voices`);

    await expectJsonError(response, 504, { code: 'gateway_timeout', retryable: true });
    expect(Date.now() - startedAt).toBeLessThan(250);
    await late;
    await vi.waitFor(() =>
      expect(entries.map((entry) => entry.message)).toContain(
        'api handler finished after the gateway timed out; its result was dropped',
      ),
    );
  });

  it('answers 502 when the handler throws, logging the error without sending it to the client', async () => {
    const { gateway, entries } = await start(async () => {
      throw new Error('connection to db-internal.local refused');
    });

    const response = await fetch(`${gateway.url}/voices/vc_1`);

    const message = await expectJsonError(response, 502, { code: 'internal_error', retryable: true });
    expect(message).toBe('Internal server error');
    const [entry] = entries;
    expect(entry?.level).toBe('error');
    expect(String(entry?.attributes?.error)).toContain('connection to db-internal.local refused');
  });

  it('writes the error to stderr when no log is given', async () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const gateway = await startLocalApiGateway({
      port: 0,
      handler: () => {
        throw new TypeError('synchronous failure in the handler');
      },
    });
    gateways.push(gateway);

    const response = await fetch(`${gateway.url}/voices`);

    expect(response.status).toBe(502);
    expect(await response.text()).not.toContain('synchronous failure');
    expect(written.join('')).toContain('synchronous failure in the handler');
  });

  it('answers 502 for malformed results', async () => {
    const malformed: unknown[] = [
      undefined,
      'OK',
      { statusCode: '200', body: '' },
      { statusCode: 200, body: { not: 'a string' } },
      { statusCode: 200, body: 'not base64!', isBase64Encoded: true },
      { statusCode: 200, headers: { 'X-Nested': { a: 1 } }, body: '' },
      { statusCode: 200, multiValueHeaders: { 'Set-Cookie': 'a=1' }, body: '' },
      { statusCode: 200, headers: { 'X-Broken': 'line\nbreak' }, body: '' },
    ];
    let next = 0;
    const { gateway, entries } = await start(async () => malformed[next++] as APIGatewayProxyResult);

    for (const _ of malformed) {
      await expectJsonError(await fetch(`${gateway.url}/voices`), 502, {
        code: 'internal_error',
        retryable: true,
      });
    }
    expect(entries.filter((entry) => entry.level === 'error')).toHaveLength(malformed.length);
  });

  it('answers 400 for a path parameter that is not valid percent-encoding', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    const response = await fetch(`${gateway.url}/voices/%E5%A3`);

    await expectJsonError(response, 400, { code: 'invalid_request', retryable: false });
    expect(calls).toEqual([]);
  });
});

describe('local API gateway: listening and closing', () => {
  it('listens on 127.0.0.1 only', async () => {
    const { gateway } = await start(recordingHandler().handler);
    const { hostname, port } = new URL(gateway.url);
    expect(hostname).toBe('127.0.0.1');

    const otherAddresses = Object.values(networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .filter((address) => !address.internal)
      .map((address) => address.address);
    for (const address of [...otherAddresses, '::1']) {
      await expect(canConnect(address, Number(port))).resolves.toBe(false);
    }
    await expect(canConnect('127.0.0.1', Number(port))).resolves.toBe(true);
  });

  it('closes promptly with an idle keep-alive connection and a request still in the handler', async () => {
    let handlerCalled: () => void = () => {};
    const called = new Promise<void>((resolve) => {
      handlerCalled = resolve;
    });
    const { gateway } = await start(async (event) => {
      if (event.resource === '/uploads') {
        handlerCalled();
        await new Promise(() => {});
      }
      return { statusCode: 200, body: '{}' };
    });
    const idle = await fetch(`${gateway.url}/voices`, { headers: { connection: 'keep-alive' } });
    await idle.text();
    const inFlight = fetch(`${gateway.url}/uploads`, { method: 'POST', body: '{}' });
    await called;

    const startedAt = Date.now();
    await gateways.splice(0)[0]?.close();

    expect(Date.now() - startedAt).toBeLessThan(1_000);
    await expect(inFlight).rejects.toThrow();
    await expect(canConnect('127.0.0.1', Number(new URL(gateway.url).port))).resolves.toBe(false);
  });
});

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
