import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { API_GATEWAY_TIMEOUT_MS, BINARY_MEDIA_TYPES } from '../functions/shared/contract';
import type { Log } from '../functions/shared/logger';

/**
 * A local stand-in for the deployed REST API (API Gateway v1, Lambda proxy integration, payload format
 * 1.0): it turns each HTTP request into the event API Gateway would send the api Lambda, and the Lambda's
 * result back into an HTTP response, so `npm start` runs the api handler unchanged.
 *
 * There is no authorization here. The deployed API requires IAM (SigV4) on every route; locally the port
 * is bound to 127.0.0.1 only, so nothing beyond this machine can reach it.
 */

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LocalApiGatewayOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly handler: ApiHandler;
  /**
   * Request bodies whose Content-Type matches one of these reach the handler base64-encoded, as the
   * deployed API's `binaryMediaTypes` make API Gateway do. `type/*` and `*\/*` wildcards work.
   * @default BINARY_MEDIA_TYPES (functions/shared/contract.ts), as the stack sets them
   */
  readonly binaryMediaTypes?: readonly string[];
  /**
   * Requests are accepted with and without this prefix (`/voices` and `/v1/voices`); the event's
   * `requestContext.path` always carries it, as on the deployed stage.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * API Gateway's integration timeout: a handler that takes longer gets a 504 (and keeps running).
   * @default API_GATEWAY_TIMEOUT_MS (29 s)
   */
  readonly timeoutMs?: number;
  /**
   * API Gateway's payload limit: a larger request body gets a 413 without invoking the handler.
   * @default 10 MiB
   */
  readonly maxBodyBytes?: number;
  /** @default warnings and errors as JSON lines on stderr */
  readonly log?: Log;
}

export interface LocalApiGateway {
  /** `http://127.0.0.1:<port>`, without the stage prefix. */
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

const LOCAL_ACCOUNT_ID = '000000000000';
const LOCAL_REGION = 'us-east-1';
const FUNCTION_NAME = 'voicedrop-api-local';

interface Route {
  readonly resource: string;
  readonly segments: readonly string[];
  readonly methods: readonly string[];
}

/** The resources and methods of the deployed REST API (README, "HTTPS API"). */
const ROUTES: readonly Route[] = [
  route('/voices', ['GET']),
  route('/voices/{voiceId}', ['GET', 'DELETE']),
  route('/voices/{voiceId}/speech', ['POST']),
  route('/uploads', ['POST']),
];

function route(resource: string, methods: readonly string[]): Route {
  return { resource, segments: resource.split('/').slice(1), methods };
}

interface Invocation {
  readonly timer: NodeJS.Timeout;
}

export async function startLocalApiGateway(options: LocalApiGatewayOptions): Promise<LocalApiGateway> {
  const settings: Settings = {
    handler: options.handler,
    binaryMediaTypes: options.binaryMediaTypes ?? BINARY_MEDIA_TYPES,
    stageName: options.stageName ?? 'v1',
    timeoutMs: options.timeoutMs ?? API_GATEWAY_TIMEOUT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    log: options.log ?? stderrLog,
    pending: new Set<Invocation>(),
    warnedAboutBinaryAccept: false,
    port: 0,
  };
  const server = createServer((request, response) => {
    serve(settings, request, response).catch((error: unknown) => {
      // A client that hangs up mid-request is not the gateway's failure.
      if (response.destroyed || request.socket.destroyed) return;
      settings.log.error('local API gateway failed to answer a request', { error: stackOf(error) });
      if (response.headersSent) {
        response.destroy();
      } else {
        sendError(response, 502, 'internal_error', 'Internal server error', true, '');
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the local API has no authentication.
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  settings.port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${settings.port}`,
    close: async () => {
      // A request still waiting for its handler holds a timer that would keep the process alive for up to
      // timeoutMs after close.
      for (const invocation of settings.pending) clearTimeout(invocation.timer);
      settings.pending.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() alone waits for requests in flight, and a handler may never answer.
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Settings {
  readonly handler: ApiHandler;
  readonly binaryMediaTypes: readonly string[];
  readonly stageName: string;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly log: Log;
  readonly pending: Set<Invocation>;
  warnedAboutBinaryAccept: boolean;
  port: number;
}

async function serve(settings: Settings, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestTimeEpoch = Date.now();
  const requestId = randomUUID();
  const method = (request.method ?? 'GET').toUpperCase();
  const { rawPath, rawQuery } = splitTarget(request.url ?? '/');
  const stagePrefix = `/${settings.stageName}`;
  const path =
    rawPath === stagePrefix
      ? '/'
      : rawPath.startsWith(`${stagePrefix}/`)
        ? rawPath.slice(stagePrefix.length)
        : rawPath;

  const match = matchRoute(path);
  if (!match) {
    sendError(response, 404, 'not_found', `No route ${method} ${path}`, false, requestId);
    return;
  }
  // API Gateway answers a method the resource does not have with 403 "Missing Authentication Token",
  // which sends people looking for a credentials problem; a 405 with Allow says what is actually wrong.
  if (!match.route.methods.includes(method)) {
    response.setHeader('Allow', match.route.methods.join(', '));
    sendError(
      response,
      405,
      'method_not_allowed',
      `${method} is not allowed on ${match.route.resource}; allowed: ${match.route.methods.join(', ')}`,
      false,
      requestId,
    );
    return;
  }
  let pathParameters: Record<string, string> | null;
  try {
    pathParameters = decodePathParameters(match.rawParameters);
  } catch {
    sendError(
      response,
      400,
      'invalid_request',
      'The request path is not valid percent-encoded UTF-8',
      false,
      requestId,
    );
    return;
  }

  const body = await readBody(request, settings.maxBodyBytes);
  if (body === 'too_large') {
    sendError(
      response,
      413,
      'request_too_large',
      `The request body is larger than ${settings.maxBodyBytes} bytes, the API's payload limit`,
      false,
      requestId,
    );
    return;
  }

  const contentType = request.headers['content-type'];
  const binary = contentType !== undefined && matchesMediaType(contentType, settings.binaryMediaTypes);
  const { headers, multiValueHeaders } = requestHeaders(request, settings.port);
  const query = queryParameters(rawQuery);
  const event: APIGatewayProxyEvent = {
    resource: match.route.resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multiple,
    pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: undefined,
      domainName: request.headers.host ?? `127.0.0.1:${settings.port}`,
      domainPrefix: 'local',
      extendedRequestId: requestId,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `${stagePrefix}${path === '/' ? '' : path}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: formatRequestTime(new Date(requestTimeEpoch)),
      requestTimeEpoch,
      resourceId: 'local',
      resourcePath: match.route.resource,
      stage: settings.stageName,
    },
    body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: body.length > 0 && binary,
  };

  const outcome = await invoke(settings, event, requestId, requestTimeEpoch);
  if (response.destroyed) return;
  if (outcome.kind === 'timeout') {
    sendError(
      response,
      504,
      'gateway_timeout',
      `The API did not answer within ${settings.timeoutMs} ms`,
      true,
      requestId,
    );
    return;
  }
  if (outcome.kind === 'error') {
    settings.log.error('api handler threw; answered 502', {
      requestId,
      method,
      resource: match.route.resource,
      error: stackOf(outcome.error),
    });
    sendInternalError(response, requestId);
    return;
  }
  const checked = checkResult(outcome.result);
  if (typeof checked === 'string') {
    settings.log.error('api handler returned a malformed proxy result; answered 502', {
      requestId,
      method,
      resource: match.route.resource,
      problem: checked,
    });
    sendInternalError(response, requestId);
    return;
  }
  if (checked.isBase64Encoded) warnWhenDeployedApiWouldSendText(settings, request, requestId);
  try {
    writeResult(response, checked, requestId);
  } catch (error) {
    // Node refuses header names or values API Gateway would not send either (control characters, …).
    settings.log.error('api handler result could not be sent; answered 502', {
      requestId,
      error: stackOf(error),
    });
    if (!response.headersSent) sendInternalError(response, requestId);
    else response.destroy();
    return;
  }
  settings.log.debug('api request', {
    requestId,
    method,
    path,
    statusCode: checked.statusCode,
    durationMs: Date.now() - requestTimeEpoch,
  });
}

function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  // An absolute-form target (`GET http://host/path`) comes from clients that treat us as a proxy.
  const relative = target.startsWith('/') ? target : safeRelative(target);
  const withoutFragment = relative.split('#')[0] ?? '';
  const queryStart = withoutFragment.indexOf('?');
  if (queryStart < 0) return { rawPath: withoutFragment, rawQuery: '' };
  return { rawPath: withoutFragment.slice(0, queryStart), rawQuery: withoutFragment.slice(queryStart + 1) };
}

function safeRelative(target: string): string {
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
}

function matchRoute(path: string): { route: Route; rawParameters: Record<string, string> } | undefined {
  const segments = path.split('/').slice(1);
  for (const candidate of ROUTES) {
    if (candidate.segments.length !== segments.length) continue;
    const rawParameters: Record<string, string> = {};
    const matches = candidate.segments.every((templateSegment, index) => {
      const segment = segments[index] ?? '';
      if (templateSegment.startsWith('{') && templateSegment.endsWith('}')) {
        rawParameters[templateSegment.slice(1, -1)] = segment;
        return segment.length > 0;
      }
      return segment === templateSegment;
    });
    if (matches) return { route: candidate, rawParameters };
  }
  return undefined;
}

/** Throws URIError on malformed percent-encoding. Segments were split before decoding, so `%2F` stays in. */
function decodePathParameters(raw: Record<string, string>): Record<string, string> | null {
  const entries = Object.entries(raw);
  if (entries.length === 0) return null;
  return Object.fromEntries(entries.map(([name, value]) => [name, decodeURIComponent(value)]));
}

async function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<Buffer | 'too_large'> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  let tooLarge = Number.isFinite(declared) && declared > maxBodyBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversize body is still read to its end (and dropped): answering while the client is still sending
  // makes many clients report a broken connection instead of the 413.
  for await (const chunk of request) {
    const piece = chunk as Buffer;
    size += piece.length;
    if (size > maxBodyBytes) tooLarge = true;
    if (!tooLarge) chunks.push(piece);
  }
  if (tooLarge) return 'too_large';
  return Buffer.concat(chunks, size);
}

function requestHeaders(
  request: IncomingMessage,
  port: number,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    headers[name] = value;
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  };
  // rawHeaders keeps the names as the client sent them; API Gateway passes them on unchanged, with the
  // last value in `headers` and every value in `multiValueHeaders`.
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    add(request.rawHeaders[index] as string, request.rawHeaders[index + 1] as string);
  }
  // API Gateway adds these; handlers that build links back to the API read them.
  const sentName = (lowerName: string) =>
    Object.keys(headers).find((name) => name.toLowerCase() === lowerName);
  const sourceIp = request.socket.remoteAddress ?? '127.0.0.1';
  const forwardedFor = sentName('x-forwarded-for');
  if (forwardedFor === undefined) {
    add('X-Forwarded-For', sourceIp);
  } else {
    const appended = `${headers[forwardedFor]}, ${sourceIp}`;
    headers[forwardedFor] = appended;
    multiValueHeaders[forwardedFor] = [appended];
  }
  if (sentName('x-forwarded-proto') === undefined) add('X-Forwarded-Proto', 'http');
  if (sentName('x-forwarded-port') === undefined) add('X-Forwarded-Port', String(port));
  return { headers, multiValueHeaders };
}

/**
 * `+` reads as a space and malformed escapes stay as they are (URLSearchParams). API Gateway keeps the
 * last value of a repeated name in `queryStringParameters` and all of them in the multi-value map.
 */
function queryParameters(rawQuery: string): {
  single: Record<string, string> | null;
  multiple: Record<string, string[]> | null;
} {
  const parameters = new URLSearchParams(rawQuery);
  const single: Record<string, string> = {};
  const multiple: Record<string, string[]> = {};
  for (const [name, value] of parameters) {
    single[name] = value;
    const values = multiple[name];
    if (values) values.push(value);
    else multiple[name] = [value];
  }
  if (Object.keys(single).length === 0) return { single: null, multiple: null };
  return { single, multiple };
}

/** `audio/wav; codecs=1` matches `audio/wav`, `audio/*` and `*\/*`. */
function matchesMediaType(value: string, patterns: readonly string[]): boolean {
  const mediaType = (value.split(';')[0] ?? '').trim().toLowerCase();
  if (mediaType.length === 0) return false;
  return patterns.some((pattern) => {
    const normalized = pattern.trim().toLowerCase();
    if (normalized === '*/*') return true;
    if (normalized.endsWith('/*')) return mediaType.startsWith(normalized.slice(0, -1));
    return mediaType === normalized;
  });
}

type Outcome =
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout' };

function invoke(
  settings: Settings,
  event: APIGatewayProxyEvent,
  requestId: string,
  startedAt: number,
): Promise<Outcome> {
  const deadline = startedAt + settings.timeoutMs;
  const context = createContext(requestId, deadline);
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const timer = setTimeout(
      () => {
        settled = true;
        settings.pending.delete(invocation);
        resolve({ kind: 'timeout' });
      },
      Math.max(0, deadline - Date.now()),
    );
    const invocation: Invocation = { timer };
    settings.pending.add(invocation);
    const finish = (outcome: Outcome) => {
      if (settled) {
        // As in AWS, the function runs on after API Gateway has given up; its answer goes nowhere.
        settings.log.warn('api handler finished after the gateway timed out; its result was dropped', {
          requestId,
          afterMs: Date.now() - startedAt,
        });
        return;
      }
      settled = true;
      clearTimeout(timer);
      settings.pending.delete(invocation);
      resolve(outcome);
    };
    // Promise.resolve().then also turns a synchronous throw into a rejection.
    Promise.resolve()
      .then(() => settings.handler(event, context))
      .then(
        (result) => finish({ kind: 'result', result }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
  });
}

function createContext(requestId: string, deadline: number): Context {
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return (or throw from) the handler's promise`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${FUNCTION_NAME}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

interface CheckedResult {
  readonly statusCode: number;
  /** Lower-case name → the name as the handler wrote it and its values. */
  readonly headers: ReadonlyMap<string, { readonly name: string; readonly values: readonly string[] }>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The proxy result as API Gateway would accept it, or why API Gateway would call it malformed. */
function checkResult(result: unknown): CheckedResult | string {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return `expected an object, got ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}`;
  }
  const candidate = result as Record<string, unknown>;
  const { statusCode, body, isBase64Encoded } = candidate;
  // Informational codes cannot be a final response here; API Gateway has no use for them either.
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 200 ||
    statusCode > 599
  ) {
    return `statusCode must be an integer from 200 to 599, got ${JSON.stringify(statusCode)}`;
  }
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return `body must be a string, got ${typeof body}`;
  }
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    return `isBase64Encoded must be a boolean, got ${typeof isBase64Encoded}`;
  }
  const text = body ?? '';
  if (isBase64Encoded === true && !(text.length % 4 === 0 && BASE64.test(text))) {
    return 'isBase64Encoded is true but body is not base64';
  }
  const headers = new Map<string, { name: string; values: string[] }>();
  const single = candidate.headers;
  if (single !== undefined && single !== null) {
    if (typeof single !== 'object' || Array.isArray(single)) return 'headers must be an object';
    for (const [name, value] of Object.entries(single)) {
      if (!isHeaderValue(value)) return `header ${name} must be a string, number or boolean`;
      headers.set(name.toLowerCase(), { name, values: [String(value)] });
    }
  }
  const multiple = candidate.multiValueHeaders;
  if (multiple !== undefined && multiple !== null) {
    if (typeof multiple !== 'object' || Array.isArray(multiple)) return 'multiValueHeaders must be an object';
    for (const [name, values] of Object.entries(multiple)) {
      if (!Array.isArray(values) || !values.every(isHeaderValue)) {
        return `multiValueHeaders.${name} must be an array of strings, numbers or booleans`;
      }
      // API Gateway merges both maps; for a name in both, the multi-value list is what goes out.
      headers.set(name.toLowerCase(), { name, values: values.map(String) });
    }
  }
  return { statusCode, headers, body: text, isBase64Encoded: isBase64Encoded === true };
}

function isHeaderValue(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** These describe the gateway's own connection to the client, so the gateway sets them, not the handler. */
const GATEWAY_OWNED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

function writeResult(response: ServerResponse, result: CheckedResult, requestId: string): void {
  const flat: string[] = [];
  for (const [lowerName, { name, values }] of result.headers) {
    if (GATEWAY_OWNED_HEADERS.has(lowerName)) continue;
    // One header line per value: Set-Cookie values must never be joined with commas.
    for (const value of values) flat.push(name, value);
  }
  flat.push('x-amzn-RequestId', requestId);
  const bodyless = result.statusCode === 204 || result.statusCode === 304;
  const payload = bodyless
    ? Buffer.alloc(0)
    : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (!bodyless) flat.push('Content-Length', String(payload.length));
  response.writeHead(result.statusCode, flat);
  response.end(payload);
}

/**
 * The deployed REST API decodes a base64 body only when the request's first Accept type matches its
 * binaryMediaTypes; otherwise the client receives the base64 text. Local mode always sends the bytes, so
 * it says once when a real deployment would not.
 */
function warnWhenDeployedApiWouldSendText(
  settings: Settings,
  request: IncomingMessage,
  requestId: string,
): void {
  if (settings.warnedAboutBinaryAccept) return;
  const accept = request.headers.accept;
  if (accept === undefined) return;
  const firstAccepted = accept.split(',')[0] ?? '';
  if (matchesMediaType(firstAccepted, settings.binaryMediaTypes)) return;
  settings.warnedAboutBinaryAccept = true;
  settings.log.warn(
    'binary response sent as bytes locally; the deployed API would send it as base64 text because the first Accept type is not a binary media type',
    { requestId, accept, binaryMediaTypes: settings.binaryMediaTypes },
  );
}

function sendInternalError(response: ServerResponse, requestId: string): void {
  sendError(response, 502, 'internal_error', 'Internal server error', true, requestId);
}

function sendError(
  response: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
  retryable: boolean,
  requestId: string,
): void {
  const payload = Buffer.from(JSON.stringify({ error: { code, message, retryable } }));
  response.statusCode = statusCode;
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Content-Length', payload.length);
  if (requestId) response.setHeader('x-amzn-RequestId', requestId);
  response.end(payload);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestTime` format: `09/Apr/2015:12:34:56 +0000`. */
function formatRequestTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

const stderrLog: Log = {
  debug() {},
  info() {},
  warn: (message, attributes) => writeStderr('WARN', message, attributes),
  error: (message, attributes) => writeStderr('ERROR', message, attributes),
};

function writeStderr(level: string, message: string, attributes?: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ level, message, ...attributes })}\n`);
}
