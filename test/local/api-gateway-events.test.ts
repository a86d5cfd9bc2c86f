import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeGateways, onlyCall, rawRequest, recordingHandler, start } from './api-gateway-support';

afterEach(async () => {
  await closeGateways();
  vi.restoreAllMocks();
});

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
