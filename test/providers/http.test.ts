import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../functions/shared/providers/errors';
import {
  createProviderHttp,
  type FailedResponse,
  failureDetails,
  kindForStatus,
  type ProviderRequest,
} from '../../functions/shared/providers/http';
import type { ProviderClientOptions } from '../../functions/shared/providers/types';

/** A real server on port 0 whose nth request gets the nth script entry (the last one repeats). */
type Script = (request: IncomingMessage, response: ServerResponse) => void;

const servers: { close(): Promise<void> }[] = [];

async function scriptedServer(...script: Script[]) {
  const hits: { at: number; headers: IncomingMessage['headers'] }[] = [];
  const server = createServer((request, response) => {
    hits.push({ at: Date.now(), headers: request.headers });
    request.resume();
    const step = script[Math.min(hits.length, script.length) - 1];
    step?.(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const handle = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(handle);
  return handle;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  vi.restoreAllMocks();
});

const answer =
  (status: number, body = '{}', headers: Record<string, string> = {}): Script =>
  (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  };
const hang: Script = () => {};
const reset: Script = (request) => request.socket.destroy();

const mapError = (failure: FailedResponse) =>
  new ProviderError({
    ...failureDetails('smallest', failure),
    kind: kindForStatus(failure.status),
    message: 'failed',
  });

function client(baseUrl: string, options: Partial<ProviderClientOptions> = {}) {
  return createProviderHttp({
    provider: 'smallest',
    title: 'Test provider',
    client: {
      apiKey: async () => 'key-1',
      baseUrl,
      timeoutMs: 1_000,
      retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 50 },
      ...options,
    },
    authorize: (apiKey) => ({ 'x-key': apiKey }),
    mapError,
  });
}

const read: ProviderRequest = { operation: 'list', method: 'GET', path: '/', idempotent: true };
const clone: ProviderRequest = {
  operation: 'clone',
  method: 'POST',
  path: '/',
  body: 'x',
  idempotent: false,
};

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => {
      if (!(error instanceof ProviderError)) throw error;
      return error;
    },
  );

describe('Function: createProviderHttp', () => {
  it('retries a 503 on an idempotent request and returns the answer that follows', async () => {
    const server = await scriptedServer(answer(503), answer(503), answer(200, '{"ok":true}'));

    const response = await client(server.url).send(read);

    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(response.body)).toBe('{"ok":true}');
    expect(server.hits).toHaveLength(3);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const server = await scriptedServer(answer(502));

    const error = await failureOf(
      client(server.url, { retry: { maxAttempts: 3, baseDelayMs: 1 } }).send(read),
    );

    expect(error).toMatchObject({ kind: 'unavailable', statusCode: 502, retryable: true });
    expect(server.hits).toHaveLength(3);
  });

  it('throws a 5xx on a clone at once, marked outcome-unknown, so the caller reconciles first', async () => {
    const server = await scriptedServer(answer(500));

    const error = await failureOf(client(server.url).send(clone));

    expect(error).toMatchObject({ kind: 'unavailable', outcomeUnknown: true });
    expect(server.hits).toHaveLength(1);
  });

  it('retries a clone after a 429, which proves the provider did nothing', async () => {
    const server = await scriptedServer(answer(429), answer(200));

    await client(server.url).send(clone);

    expect(server.hits).toHaveLength(2);
  });

  it('retries a clone when the connection is refused, since nothing was sent', async () => {
    const server = await scriptedServer(answer(200));
    const url = server.url;
    await server.close();
    const calls = vi.fn(globalThis.fetch);

    const error = await failureOf(
      client(url, { fetch: calls, retry: { maxAttempts: 3, baseDelayMs: 1 } }).send(clone),
    );

    expect(error).toMatchObject({ kind: 'network', providerCode: 'ECONNREFUSED' });
    expect(calls).toHaveBeenCalledTimes(3);
  });

  it('throws a connection reset on a clone at once: the provider may have acted', async () => {
    const server = await scriptedServer(reset, answer(200));

    const error = await failureOf(client(server.url).send(clone));

    expect(error).toMatchObject({ kind: 'network', outcomeUnknown: true, retryable: true });
    expect(server.hits).toHaveLength(1);
  });

  it('retries a connection reset on an idempotent request', async () => {
    const server = await scriptedServer(reset, answer(200));

    await client(server.url).send(read);

    expect(server.hits).toHaveLength(2);
  });

  it('never retries a permanent 4xx', async () => {
    const server = await scriptedServer(answer(400, '{"error":"bad"}'));

    const error = await failureOf(client(server.url).send(read));

    expect(error).toMatchObject({ kind: 'invalid_request', retryable: false, statusCode: 400 });
    expect(server.hits).toHaveLength(1);
  });

  it('waits what Retry-After says before the next attempt', async () => {
    const server = await scriptedServer(answer(429, '{}', { 'retry-after': '1' }), answer(200));

    await client(server.url, { retry: { maxDelayMs: 5_000 } }).send(read);

    const [first, second] = server.hits;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once, with the wait attached, when Retry-After exceeds the backoff cap', async () => {
    const server = await scriptedServer(answer(429, '{}', { 'retry-after': '120' }), answer(200));
    const started = Date.now();

    const error = await failureOf(client(server.url).send(read));

    expect(error).toMatchObject({ kind: 'rate_limited', retryAfterMs: 120_000 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(server.hits).toHaveLength(1);
  });

  it("gives up at once when Retry-After reaches past the caller's deadline", async () => {
    const server = await scriptedServer(answer(503, '{}', { 'retry-after': '2' }), answer(200));

    const error = await failureOf(
      client(server.url, { retry: { maxDelayMs: 10_000 } }).send(read, { deadline: Date.now() + 1_000 }),
    );

    expect(error).toMatchObject({ kind: 'unavailable', retryAfterMs: 2_000 });
    expect(server.hits).toHaveLength(1);
  });

  it('ends a stalled attempt at timeoutMs and retries it when idempotent', async () => {
    const server = await scriptedServer(hang, answer(200));

    const response = await client(server.url, { timeoutMs: 100 }).send(read);

    expect(response.status).toBe(200);
    expect(server.hits).toHaveLength(2);
  });

  it('reports a stalled clone as a timeout whose outcome is unknown, without retrying', async () => {
    const server = await scriptedServer(hang, answer(200));

    const error = await failureOf(client(server.url, { timeoutMs: 100 }).send(clone));

    expect(error).toMatchObject({ kind: 'timeout', outcomeUnknown: true });
    expect(error.message).toContain('may still finish');
    expect(server.hits).toHaveLength(1);
  });

  it('never retries when the caller aborts mid-request', async () => {
    const server = await scriptedServer(hang, answer(200));

    const error = await failureOf(client(server.url).send(read, { signal: AbortSignal.timeout(50) }));

    expect(error).toMatchObject({ kind: 'aborted', retryable: false, outcomeUnknown: false });
    expect(server.hits).toHaveLength(1);
  });

  it('stops sleeping between attempts as soon as the caller aborts', async () => {
    const server = await scriptedServer(answer(503), answer(200));
    const started = Date.now();

    const error = await failureOf(
      client(server.url, { retry: { baseDelayMs: 20_000, maxDelayMs: 20_000 } }).send(read, {
        signal: AbortSignal.timeout(100),
      }),
    );

    expect(error.kind).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.hits).toHaveLength(1);
  });

  it('does not even send when the caller has already given up', async () => {
    const server = await scriptedServer(answer(200));

    const error = await failureOf(client(server.url).send(read, { signal: AbortSignal.abort() }));

    expect(error.kind).toBe('aborted');
    expect(server.hits).toHaveLength(0);
  });

  it('after a 401 fetches the key again once and retries with the new key', async () => {
    const server = await scriptedServer(answer(401), answer(200));
    const apiKey = vi.fn(async (options?: { refresh?: boolean }) => (options?.refresh ? 'key-2' : 'key-1'));

    await client(server.url, { apiKey }).send(clone);

    expect(apiKey).toHaveBeenCalledWith({ refresh: true });
    expect(apiKey).toHaveBeenCalledTimes(2);
    expect(server.hits.map((hit) => hit.headers['x-key'])).toEqual(['key-1', 'key-2']);
  });

  it('after a 401 does not retry when the refreshed key is the same', async () => {
    const server = await scriptedServer(answer(401));
    const apiKey = vi.fn(async () => 'key-1');

    const error = await failureOf(client(server.url, { apiKey }).send(read));

    expect(error).toMatchObject({ kind: 'auth', retryable: false });
    expect(apiKey).toHaveBeenCalledTimes(2);
    expect(server.hits).toHaveLength(1);
  });

  it('refreshes the key only once per call, even if the new key is rejected too', async () => {
    const server = await scriptedServer(answer(401));
    let version = 0;
    const apiKey = vi.fn(async () => `key-${++version}`);

    const error = await failureOf(client(server.url, { apiKey }).send(read));

    expect(error.kind).toBe('auth');
    expect(server.hits).toHaveLength(2);
  });

  it('keeps only the first 500 characters of an error body, for logs', async () => {
    const server = await scriptedServer(answer(400, 'x'.repeat(5_000)));

    const error = await failureOf(client(server.url).send(read));

    expect(error.responseBody?.length).toBeLessThanOrEqual(501);
    expect(error.responseBody?.startsWith('xxxx')).toBe(true);
  });

  it('spaces attempts with full-jitter exponential backoff under the cap', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const server = await scriptedServer(answer(503));

    await failureOf(
      client(server.url, { retry: { maxAttempts: 5, baseDelayMs: 40, maxDelayMs: 60 } }).send(read),
    );

    const gaps = server.hits.slice(1).map((hit, index) => hit.at - (server.hits[index]?.at ?? 0));
    // Ceilings 40, then capped at 60 (uncapped: 80, 160, 320); random() near 1 picks the ceiling.
    expect(server.hits).toHaveLength(5);
    expect(gaps[0]).toBeGreaterThanOrEqual(35);
    expect(gaps[1]).toBeGreaterThanOrEqual(55);
    expect(gaps[3]).toBeGreaterThanOrEqual(55);
    expect(gaps[3]).toBeLessThan(250);
  });
});

describe('Function: createProviderHttp stream()', () => {
  it('retries as send() does, then hands over the 2xx body before it has ended', async () => {
    let finish: () => void = () => {};
    const server = await scriptedServer(
      answer(503),
      answer(429, '{}', { 'retry-after': '0' }),
      (_request, response) => {
        response.writeHead(200, { 'content-type': 'audio/wav' });
        response.write('first');
        finish = () => response.end('last');
      },
    );

    const response = await client(server.url).stream(read);
    const iterator = response.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    finish();
    const rest: string[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      rest.push(new TextDecoder().decode(next.value));
    }

    expect(response.status).toBe(200);
    expect(server.hits).toHaveLength(3);
    expect(new TextDecoder().decode(first.value)).toBe('first');
    expect(rest.join('')).toBe('last');
  });

  it('throws a non-retryable timeout when the body stalls longer than timeoutMs between chunks', async () => {
    const server = await scriptedServer((_request, response) => {
      response.writeHead(200);
      response.write('some');
    });

    const response = await client(server.url, { timeoutMs: 150 }).stream(read);
    const chunks: Uint8Array[] = [];
    const error = await failureOf(
      (async () => {
        for await (const chunk of response.body) chunks.push(chunk);
      })(),
    );

    expect(chunks).toHaveLength(1);
    expect(error).toMatchObject({ kind: 'timeout', retryable: false });
    expect(error.message).toContain('mid-stream');
  });
});
