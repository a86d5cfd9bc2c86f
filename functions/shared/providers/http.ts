import { type Backoff, parseRetryAfter, retryDelayMs, sleep } from '../retry';
import { AttemptTimer, type ProviderBodyStream, readBodyStream } from './body-stream';
import { ProviderError, type ProviderErrorDetails, type ProviderErrorKind } from './errors';
import { MultipartBody } from './multipart';
import type { CallOptions, ProviderClientOptions, ProviderName } from './types';

/** What a call does at the provider; decides messages and, for some statuses, the error kind. */
export type ProviderOperation = 'clone' | 'speech' | 'delete' | 'list';

export interface ProviderRequest {
  readonly operation: ProviderOperation;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Appended to the base URL, e.g. `/waves/v1/voice-cloning`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent again on every attempt, so it must be re-readable (a string, or a multipart body that restreams). */
  readonly body?: string | MultipartBody;
  /**
   * False when a second request may create a second billable thing (a clone). Such a request is
   * retried only when the provider certainly did not act on it: a 429, or a connection that was never
   * established. Everything else is thrown at once so the caller can reconcile first.
   */
  readonly idempotent: boolean;
}

export interface ProviderResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** A non-2xx answer, with what the retry loop already read from it. */
export interface FailedResponse extends ProviderResponse {
  readonly operation: ProviderOperation;
  readonly retryAfterMs?: number;
  readonly requestId?: string;
}

/** Turns a non-2xx answer into the vendor-independent error (one per vendor, in `<vendor>/errors.ts`). */
export type ErrorMapper = (failure: FailedResponse) => ProviderError;

export interface ProviderHttpConfig {
  readonly provider: ProviderName;
  /** Human name for messages. */
  readonly title: string;
  readonly client: ProviderClientOptions;
  /** The provider's auth header(s) for a key. */
  readonly authorize: (apiKey: string) => Record<string, string>;
  readonly mapError: ErrorMapper;
}

/** A 2xx whose body is read as it arrives (see `ProviderHttp.stream`). */
export interface ProviderStreamResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: ProviderBodyStream;
}

export interface ProviderHttp {
  /** Sends with per-attempt deadline, retries and one key refresh after a 401; throws ProviderError. */
  send(request: ProviderRequest, options?: CallOptions): Promise<ProviderResponse>;
  /**
   * The same request, retried and mapped exactly as `send` does until the provider answers 2xx; that
   * answer's body is then handed over unread, to be read as it arrives. `timeoutMs` bounds the wait for the
   * answer and then each wait for the next chunk; a failure while reading throws a non-retryable
   * ProviderError that says it happened mid-stream (the caller has already used part of the body).
   */
  stream(request: ProviderRequest, options?: CallOptions): Promise<ProviderStreamResponse>;
}

/** One attempt's outcome: done (a 2xx, in the caller's form) or a failed answer for the error mapper. */
type AttemptOutcome<T> = { readonly done: T } | { readonly failed: ProviderResponse };

export const DEFAULT_RETRY = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 } as const;

/** Bytes of a response body kept on errors for logs. */
export const RESPONSE_BODY_PREVIEW_CHARS = 500;

/**
 * Error codes that prove the request never reached the provider (no connection was made), so even a
 * clone may be sent again.
 */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

const OPERATION_VERBS: Readonly<Record<ProviderOperation, string>> = {
  clone: 'clone the voice',
  speech: 'synthesize speech',
  delete: 'delete the voice',
  list: 'list voices',
};

export function describeOperation(operation: ProviderOperation): string {
  return OPERATION_VERBS[operation];
}

export function createProviderHttp(config: ProviderHttpConfig): ProviderHttp {
  const http = resolveHttpInstance(config);
  // Plain closures over `http`, not methods: they work when detached from the returned object.
  return {
    send: (request, options = {}) =>
      retrying(http, request, options, (apiKey, signal) => attempt(http, request, apiKey, signal)),
    stream: (request, options = {}) =>
      retrying(http, request, options, (apiKey, signal) => streamAttempt(http, request, apiKey, signal)),
  };
}

/** What every call of one `createProviderHttp` shares: its config, with the client's defaults filled in once. */
interface ProviderHttpInstance {
  readonly config: ProviderHttpConfig;
  readonly fetchImplementation: typeof globalThis.fetch;
  readonly maxAttempts: number;
  readonly backoff: Backoff;
}

function resolveHttpInstance(config: ProviderHttpConfig): ProviderHttpInstance {
  const { client } = config;
  const baseDelayMs = client.retry?.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = client.retry?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  return {
    config,
    fetchImplementation: client.fetch ?? globalThis.fetch,
    maxAttempts: Math.max(1, client.retry?.maxAttempts ?? DEFAULT_RETRY.maxAttempts),
    backoff: { baseMs: baseDelayMs, maxMs: maxDelayMs, jitter: 'full' },
  };
}

/** One request to the provider, with the attempt's key and signal. */
function fetchOnce(
  http: ProviderHttpInstance,
  request: ProviderRequest,
  apiKey: string,
  signal: AbortSignal,
): Promise<Response> {
  // Called as a plain function, never as a method of `http`.
  const fetchImplementation = http.fetchImplementation;
  return fetchImplementation(
    `${http.config.client.baseUrl}${request.path}`,
    requestInit(http, request, apiKey, signal),
  );
}

function requestInit(
  http: ProviderHttpInstance,
  request: ProviderRequest,
  apiKey: string,
  signal: AbortSignal,
): RequestInit {
  const multipart = request.body instanceof MultipartBody ? request.body : undefined;
  return {
    method: request.method,
    headers: {
      ...request.headers,
      ...(multipart
        ? { 'Content-Type': multipart.contentType, 'Content-Length': String(multipart.length) }
        : {}),
      ...http.config.authorize(apiKey),
    },
    body: multipart ? multipart.stream() : (request.body as string | undefined),
    // Required by fetch for a streamed request body.
    ...(multipart ? { duplex: 'half' as const } : {}),
    signal,
  };
}

async function attempt(
  http: ProviderHttpInstance,
  request: ProviderRequest,
  apiKey: string,
  signal?: AbortSignal,
): Promise<AttemptOutcome<ProviderResponse>> {
  const timeout = AbortSignal.timeout(http.config.client.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    const response = await fetchOnce(http, request, apiKey, combined);
    // Reading the body is part of the attempt: a provider that stalls mid-body hits the same deadline.
    const body = new Uint8Array(await response.arrayBuffer());
    const answer = { status: response.status, headers: response.headers, body };
    return isSuccess(answer.status) ? { done: answer } : { failed: answer };
  } catch (error) {
    if (signal?.aborted) throw abortedError(http, request, error);
    throw transportError(http, error, request, timeout.aborted);
  }
}

async function streamAttempt(
  http: ProviderHttpInstance,
  request: ProviderRequest,
  apiKey: string,
  signal?: AbortSignal,
): Promise<AttemptOutcome<ProviderStreamResponse>> {
  const timer = new AttemptTimer(http.config.client.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
  let response: Response;
  try {
    response = await fetchOnce(http, request, apiKey, combined);
    if (!isSuccess(response.status)) {
      // An error answer is small: read it whole for the mapper, within the same deadline.
      const body = new Uint8Array(await response.arrayBuffer());
      timer.stop();
      return { failed: { status: response.status, headers: response.headers, body } };
    }
  } catch (error) {
    timer.stop();
    if (signal?.aborted) throw abortedError(http, request, error);
    throw transportError(http, error, request, timer.fired);
  }
  const body = readBodyStream(response, timer, (error, receivedBytes) =>
    midStreamError(http, request, error, receivedBytes, signal, timer),
  );
  return { done: { status: response.status, headers: response.headers, body } };
}

function midStreamError(
  http: ProviderHttpInstance,
  request: ProviderRequest,
  error: unknown,
  receivedBytes: number,
  signal: AbortSignal | undefined,
  timer: AttemptTimer,
): ProviderError {
  if (signal?.aborted) return abortedError(http, request, error);
  const { provider, title } = http.config;
  const verb = describeOperation(request.operation);
  const after = `after ${receivedBytes} bytes`;
  if (timer.fired) {
    return new ProviderError({
      provider,
      kind: 'timeout',
      retryable: false,
      message: `${title} stopped sending mid-stream while trying to ${verb} (nothing for ${formatSeconds(http.config.client.timeoutMs)}, ${after}).`,
      cause: error,
    });
  }
  const code = networkErrorCode(error);
  return new ProviderError({
    provider,
    kind: 'network',
    retryable: false,
    message: `The connection to ${title} was cut mid-stream while trying to ${verb} (${after}${code ? `, ${code}` : ''}).`,
    providerCode: code,
    cause: error,
  });
}

function abortedError(http: ProviderHttpInstance, request: ProviderRequest, cause: unknown): ProviderError {
  return new ProviderError({
    provider: http.config.provider,
    kind: 'aborted',
    message: `The request to ${http.config.title} to ${describeOperation(request.operation)} was cancelled by the caller (usually because it ran out of time).`,
    cause,
  });
}

function transportError(
  http: ProviderHttpInstance,
  error: unknown,
  request: ProviderRequest,
  timedOut: boolean,
): ProviderError {
  const { provider, title } = http.config;
  const verb = describeOperation(request.operation);
  if (timedOut) {
    return new ProviderError({
      provider,
      kind: 'timeout',
      message: `${title} did not answer within ${formatSeconds(http.config.client.timeoutMs)} while trying to ${verb}; it may still finish the request.`,
      cause: error,
    });
  }
  const code = networkErrorCode(error);
  const sent = code === undefined || !NOT_SENT_CODES.has(code);
  return new NetworkProviderError(
    {
      provider,
      kind: 'network',
      message: `Could not reach ${title} to ${verb}${code ? ` (${code})` : ''}.`,
      providerCode: code,
      cause: error,
    },
    sent,
  );
}

function shouldRetry(error: ProviderError, request: ProviderRequest): boolean {
  if (error.kind === 'aborted' || !error.retryable) return false;
  if (request.idempotent) return true;
  // A clone is sent again only when the provider certainly did not create anything.
  if (error.kind === 'rate_limited') return true;
  return error instanceof NetworkProviderError && !error.requestSent;
}

/** The retry loop of `send` and `stream`: one attempt after another until one is done or must be thrown. */
async function retrying<T>(
  http: ProviderHttpInstance,
  request: ProviderRequest,
  options: CallOptions,
  once: (apiKey: string, signal?: AbortSignal) => Promise<AttemptOutcome<T>>,
): Promise<T> {
  const { config } = http;
  const { client } = config;
  const { signal, deadline } = options;
  if (signal?.aborted) throw abortedError(http, request, signal.reason);
  let apiKey = await client.apiKey();
  let refreshed = false;
  let failedAttempts = 0;

  for (;;) {
    let error: ProviderError;
    try {
      const outcome = await once(apiKey, signal);
      if ('done' in outcome) return outcome.done;
      const response = outcome.failed;
      error = config.mapError({
        ...response,
        operation: request.operation,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        requestId: response.headers.get('x-request-id') ?? undefined,
      });
      if (response.status === 401 && !refreshed) {
        // The cached key may have been rotated: fetch it again once, and retry only if it changed.
        refreshed = true;
        const fresh = await client.apiKey({ refresh: true });
        if (fresh !== apiKey) {
          apiKey = fresh;
          continue;
        }
      }
    } catch (caught) {
      if (!(caught instanceof ProviderError)) throw caught;
      error = caught;
    }

    failedAttempts += 1;
    if (failedAttempts >= http.maxAttempts || !shouldRetry(error, request)) throw error;

    const delayMs = retryDelayMs(failedAttempts, http.backoff, error.retryAfterMs);
    const remainingMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
    // Never sleep past the cap or the caller's deadline: the caller (a queue) can wait longer than we can.
    if (delayMs > http.backoff.maxMs || delayMs >= remainingMs) throw error;
    await sleep(delayMs, signal).catch(() => {
      throw abortedError(http, request, signal?.reason);
    });
  }
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** A network failure that knows whether any byte of the request can have reached the provider. */
class NetworkProviderError extends ProviderError {
  readonly requestSent: boolean;

  constructor(details: ProviderErrorDetails, requestSent: boolean) {
    super(details);
    this.requestSent = requestSent;
  }
}

function networkErrorCode(error: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: Error{ code } }), sometimes nested.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current instanceof AggregateError) {
      const inner = current.errors.find((item) => typeof (item as { code?: unknown }).code === 'string');
      if (inner) return (inner as { code: string }).code;
    }
    current = current.cause;
  }
  return undefined;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/** The response body as text for logs, cut to a few hundred characters. */
export function previewBody(body: Uint8Array): string | undefined {
  if (body.byteLength === 0) return undefined;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(
    body.subarray(0, RESPONSE_BODY_PREVIEW_CHARS * 4),
  );
  return text.length > RESPONSE_BODY_PREVIEW_CHARS ? `${text.slice(0, RESPONSE_BODY_PREVIEW_CHARS)}…` : text;
}

/** JSON from a body, or undefined when it is empty or not JSON (proxies answer HTML). */
export function readJson(body: Uint8Array): unknown {
  if (body.byteLength === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
}

/** The kind a status means when the vendor's body says nothing more specific. */
export function kindForStatus(status: number): ProviderErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 410) return 'gone';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'unavailable';
  return 'invalid_request';
}

/**
 * The error for a status the vendor's own mapper has nothing more specific to say about: a rejected key,
 * a rate limit, a server error, or a refusal quoting the provider's message (`said`).
 */
export function statusError(
  details: Omit<ProviderErrorDetails, 'kind' | 'message'>,
  title: string,
  said: string | undefined,
): ProviderError {
  const status = details.statusCode ?? 0;
  const quoted = said ? `: ${said}` : '';
  const kind = kindForStatus(status);
  const messages: Partial<Record<ProviderErrorKind, string>> = {
    auth: `${title} rejected the API key; put a valid key into the provider secret${quoted}.`,
    rate_limited: `${title} is busy (too many concurrent requests for this key); try again shortly.`,
    unavailable: `${title} had a server error (HTTP ${status}); try again later.`,
  };
  return new ProviderError({
    ...details,
    kind,
    message: messages[kind] ?? `${title} refused the request (HTTP ${status})${quoted}.`,
  });
}

/** Fields every vendor mapper copies from a failed response onto its ProviderError. */
export function failureDetails(provider: ProviderName, failure: FailedResponse) {
  return {
    provider,
    statusCode: failure.status,
    responseBody: previewBody(failure.body),
    retryAfterMs: failure.retryAfterMs,
    requestId: failure.requestId,
  };
}

/** A 2xx whose body does not match the contract. */
export function invalidResponse(
  provider: ProviderName,
  title: string,
  operation: ProviderOperation,
  response: ProviderResponse,
  cause?: unknown,
): ProviderError {
  return new ProviderError({
    provider,
    kind: 'invalid_response',
    message: `${title} answered the request to ${describeOperation(operation)} with something voicedrop does not understand.`,
    statusCode: response.status,
    responseBody: previewBody(response.body),
    requestId: response.headers.get('x-request-id') ?? undefined,
    cause,
  });
}
