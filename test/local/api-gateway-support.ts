import { request as httpRequest } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect } from 'vitest';
import type { Log } from '../../functions/shared/logger';
import {
  type LocalApiGateway,
  type LocalApiGatewayOptions,
  startLocalApiGateway,
} from '../../local/api-gateway';

/** What the local API gateway tests share: gateways with a recording log, recording handlers, raw requests. */

export type Handler = LocalApiGatewayOptions['handler'];

/** The gateways a test opened (`start` adds its own), closed by closeGateways after each test. */
export const gateways: LocalApiGateway[] = [];

/** Closes every gateway of `gateways` (each test file calls it after each test). */
export async function closeGateways(): Promise<void> {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
}

export function recordingLog() {
  const entries: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  const log: Log = {
    debug: () => {},
    info: () => {},
    warn: (message, attributes) => entries.push({ level: 'warn', message, attributes }),
    error: (message, attributes) => entries.push({ level: 'error', message, attributes }),
  };
  return { log, entries };
}

export async function start(handler: Handler, options: Partial<LocalApiGatewayOptions> = {}) {
  const { log, entries } = recordingLog();
  const gateway = await startLocalApiGateway({ port: 0, handler, log, ...options });
  gateways.push(gateway);
  return { gateway, entries };
}

/** A handler that keeps every event and context it receives and answers 200 with an empty JSON object. */
export function recordingHandler(result: APIGatewayProxyResult = { statusCode: 200, body: '{}' }) {
  const calls: { event: APIGatewayProxyEvent; context: Context; remainingMs: number }[] = [];
  const handler: Handler = async (event, context) => {
    calls.push({ event, context, remainingMs: context.getRemainingTimeInMillis() });
    return result;
  };
  return { handler, calls };
}

export function onlyCall<T>(calls: readonly T[]): T {
  expect(calls).toHaveLength(1);
  return calls[0] as T;
}

/** node:http rather than fetch where the exact header lines matter: fetch lower-cases names. */
export function rawRequest(
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

export async function expectJsonError(
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
