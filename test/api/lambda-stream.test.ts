import { PassThrough } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { Hono } from 'hono/tiny';
import { describe, expect, it } from 'vitest';
import { streamingHandler } from '../../functions/api/lambda-stream';
import { silentLog } from '../../functions/shared/logger';
import { localResponseStreamRuntime } from '../../local/api-gateway/response-stream';

// The streaming adapter with a minimal app: what a route leaves for after its response.
const event = {
  httpMethod: 'POST',
  path: '/work',
  headers: { host: 'example.test' },
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  body: null,
  isBase64Encoded: false,
} as unknown as APIGatewayProxyEvent;
const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

describe('streamingHandler', () => {
  it('ends the response first, then waits for the work a route left for after it before returning', async () => {
    const steps: string[] = [];
    let finishWork: () => void = () => undefined;
    const app = new Hono();
    app.post('/work', (c) => {
      c.executionCtx.waitUntil(
        new Promise<void>((resolve) => {
          finishWork = () => {
            steps.push('work done');
            resolve();
          };
        }),
      );
      return c.body('all of it');
    });
    const responseStream = new PassThrough();
    const chunks: Buffer[] = [];
    responseStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    responseStream.on('end', () => steps.push('response ended'));

    const handled = streamingHandler(app, localResponseStreamRuntime, silentLog)(
      event,
      responseStream,
      context,
    ).then(() => steps.push('handler returned'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(steps).toEqual(['response ended']);
    expect(Buffer.concat(chunks).toString()).toContain('all of it');

    finishWork();
    await handled;
    expect(steps).toEqual(['response ended', 'work done', 'handler returned']);
  });

  it('returns once the work is settled even when it fails', async () => {
    const app = new Hono();
    app.post('/work', (c) => {
      c.executionCtx.waitUntil(Promise.reject(new Error('usage could not be written')));
      return c.body('ok');
    });
    const responseStream = new PassThrough();
    responseStream.resume();
    await expect(
      streamingHandler(app, localResponseStreamRuntime, silentLog)(event, responseStream, context),
    ).resolves.toBeUndefined();
  });
});
