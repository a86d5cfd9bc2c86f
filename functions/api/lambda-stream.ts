/**
 * The api app behind API Gateway's response streaming (REST, `responseTransferMode: STREAM`): Lambda
 * invokes a handler wrapped by `awslambda.streamifyResponse` with the same proxy event as always and a
 * response stream; the answer is a JSON prelude (status, headers) followed by the body as it is produced
 * (`awslambda.HttpResponseStream.from`). Local mode calls the same handler with a stand-in for both.
 *
 * Written here rather than taken from `hono/aws-lambda`'s `streamHandle` because that one writes the text
 * "Internal Server Error" into a body that fails midway, so a client would get damaged audio that ends
 * normally. Here a failure after the first byte destroys the stream: the client sees a truncated body.
 * A caller that goes away (the stream closes early) aborts the request's signal, which stops synthesis.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { errorMessage } from '../shared/errors';
import type { Log } from '../shared/logger';

export interface HttpResponseMetadata {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
}

/** What the Lambda Node.js runtime offers as the global `awslambda` (or local mode's stand-in). */
export interface ResponseStreamRuntime {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  readonly HttpResponseStream: { from(stream: Writable, metadata: HttpResponseMetadata): Writable };
}

export type StreamingHandler = (
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context: Context,
) => Promise<void>;

/** What a route hands over to finish after its response (Hono's `c.executionCtx.waitUntil`). */
export interface AfterResponse {
  waitUntil(work: Promise<unknown>): void;
  passThroughOnException(): void;
  readonly props: unknown;
}

interface FetchApp {
  fetch(
    request: Request,
    env: { lambdaContext: Context; event: APIGatewayProxyEvent },
    executionContext: AfterResponse,
  ): Response | Promise<Response>;
}

/** `afterEach` runs once the response has ended, well or not (publishing metrics, say). */
export function streamingHandler(
  app: FetchApp,
  runtime: ResponseStreamRuntime,
  logger: Log,
  afterEach: () => void = () => undefined,
): StreamingHandler {
  return runtime.streamifyResponse(async (event, responseStream, context) => {
    try {
      await respond(app, runtime, logger, event, responseStream, context);
    } finally {
      afterEach();
    }
  });
}

async function respond(
  app: FetchApp,
  runtime: ResponseStreamRuntime,
  logger: Log,
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context: Context,
): Promise<void> {
  // Work a route leaves for after its response (usage, metrics): the caller has the whole body while it
  // runs, and the invocation waits for it, since Lambda waits for nothing once the handler has returned.
  const pending: Promise<unknown>[] = [];
  const afterResponse: AfterResponse = {
    waitUntil: (work) => {
      pending.push(work);
    },
    passThroughOnException: () => undefined,
    props: {},
  };
  try {
    await relay(app, runtime, logger, { event, context, afterResponse }, responseStream);
  } finally {
    await Promise.allSettled(pending);
  }
}

async function relay(
  app: FetchApp,
  runtime: ResponseStreamRuntime,
  logger: Log,
  invocation: { event: APIGatewayProxyEvent; context: Context; afterResponse: AfterResponse },
  responseStream: Writable,
): Promise<void> {
  const { event, context } = invocation;
  const caller = new AbortController();
  let done = false;
  const hungUp = () => {
    if (!done) caller.abort(new Error('the caller closed the connection'));
  };
  responseStream.once('close', hungUp);
  responseStream.once('error', hungUp);

  const response = await app.fetch(
    requestOf(event, caller.signal),
    { lambdaContext: context, event },
    invocation.afterResponse,
  );
  const stream = runtime.HttpResponseStream.from(responseStream, {
    statusCode: response.status,
    headers: Object.fromEntries(response.headers),
  });
  try {
    if (response.body) {
      for await (const chunk of response.body) {
        if (caller.signal.aborted) break;
        if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
      }
    }
    done = true;
    stream.end();
    if (!stream.writableFinished) await once(stream, 'finish');
  } catch (error) {
    done = true;
    logger.error('response stream ended early', {
      path: event.path,
      error: errorMessage(error),
    });
    // Ends the response without its proper end, so the caller can tell it is incomplete.
    stream.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/** The fetch Request an API Gateway (REST, payload 1.0) proxy event stands for. */
export function requestOf(event: APIGatewayProxyEvent, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) headers.append(name, value);
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name)) headers.set(name, value);
  }
  const query = new URLSearchParams();
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    for (const value of values ?? []) query.append(name, value);
  }
  if (!event.multiValueQueryStringParameters) {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
      if (value !== undefined) query.append(name, value);
    }
  }
  const search = query.size > 0 ? `?${query}` : '';
  const url = `https://${headers.get('host') ?? 'localhost'}${event.path}${search}`;
  const hasBody =
    event.body !== null && event.body !== undefined && !['GET', 'HEAD'].includes(event.httpMethod);
  const body = hasBody
    ? event.isBase64Encoded
      ? Buffer.from(event.body as string, 'base64')
      : (event.body as string)
    : undefined;
  return new Request(url, { method: event.httpMethod, headers, body, signal });
}
