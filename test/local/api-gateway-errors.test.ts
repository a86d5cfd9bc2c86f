import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GATEWAY_ERRORS, type GatewayErrorAnswer } from '../../functions/shared/contract';
import { startLocalApiGateway } from '../../local/api-gateway';
import { closeGateways, expectJsonError, gateways, recordingHandler, start } from './api-gateway-support';

afterEach(async () => {
  await closeGateways();
  vi.restoreAllMocks();
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
      await expectGatewayError(await fetch(`${gateway.url}${path}`), GATEWAY_ERRORS.noRoute);
    }
    expect(calls).toEqual([]);
  });

  it('answers a method the resource does not have as the deployed API does, without invoking the handler', async () => {
    const { handler, calls } = recordingHandler();
    const { gateway } = await start(handler);

    const speech = await fetch(`${gateway.url}/v1/voices/vc_1/speech`);
    await expectGatewayError(speech, GATEWAY_ERRORS.noRoute);

    const put = await fetch(`${gateway.url}/voices`, { method: 'PUT', body: '{}' });
    await expectGatewayError(put, GATEWAY_ERRORS.noRoute);

    const options = await fetch(`${gateway.url}/voices/vc_1`, { method: 'OPTIONS' });
    await expectGatewayError(options, GATEWAY_ERRORS.noRoute);

    const head = await fetch(`${gateway.url}/voices`, { method: 'HEAD' });
    expect(head.status).toBe(GATEWAY_ERRORS.noRoute.statusCode);
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
    await expectGatewayError(declared, GATEWAY_ERRORS.requestTooLarge);

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
    await expectGatewayError(streamed, GATEWAY_ERRORS.requestTooLarge);
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

    await expectGatewayError(response, GATEWAY_ERRORS.timeout);
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

    await expectGatewayError(response, GATEWAY_ERRORS.integrationFailed);
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
      await expectGatewayError(await fetch(`${gateway.url}/voices`), GATEWAY_ERRORS.integrationFailed);
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

/** The answer the stack's gateway responses give (GATEWAY_ERRORS): status, code, message and retryability. */
async function expectGatewayError(response: Response, answer: GatewayErrorAnswer): Promise<void> {
  const message = await expectJsonError(response, answer.statusCode, {
    code: answer.code,
    retryable: answer.retryable,
  });
  expect(message).toBe(answer.message);
}
