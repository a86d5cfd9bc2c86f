import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_SLOW_FAULT_MS,
  type PendingFault,
  type SimulatorFault,
  type SimulatorRoute,
  type SimulatorRouteOrOther,
  simulatorFaultSchema,
} from './faults';
import { flattenHeaders, type ParsedBody, readBody } from './request-body';
import { deliver, injectFault, reset, type Served, send, takeFault, wait } from './served';
import type { SimulatorStream } from './stream';

/**
 * The plumbing both provider simulators share: a node:http server on 127.0.0.1, multipart and JSON
 * bodies (request-body.ts), API-key checks, per-key concurrency, fault injection (faults.ts), the
 * `/__sim/*` admin routes and a request log. Each vendor supplies only its routes and documented answers
 * (`<vendor>/simulator.ts`, written from docs/providers.md). Nothing under functions/ imports this folder,
 * so busboy, lamejs and music-metadata stay out of the Lambda bundles.
 */

export interface RecordedRequest {
  readonly route: SimulatorRouteOrOther;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, string>>;
  readonly files: readonly {
    fieldName: string;
    filename: string;
    mimeType: string;
    size: number;
    truncated: boolean;
  }[];
  readonly json?: unknown;
  /** The status answered; undefined while in flight, or when the request hung or was dropped. */
  status?: number;
  /** Set when the body was sent over time (a stream, or a body fault): its bytes sent so far. */
  bytesSent?: number;
  /** True when the client closed the connection before a streamed body ended. */
  clientClosed?: boolean;
}

export interface SimulatorState<Clone> {
  /** Live clones by provider voice id. */
  readonly clones: Map<string, Clone>;
  /** Requests received per route, including rejected and faulted ones. */
  readonly counts: Record<SimulatorRouteOrOther, number>;
  /** 429 answers sent (concurrency and injected). */
  rateLimited: number;
  /** The most requests of each route that were being answered at once (all keys, faulted ones included). */
  readonly peakInFlight: Record<SimulatorRouteOrOther, number>;
  /** The most recent requests, oldest first. */
  readonly requests: RecordedRequest[];
  readonly faults: PendingFault[];
}

export interface SimulatorRequest extends ParsedBody {
  readonly method: string;
  readonly url: URL;
  readonly route: SimulatorRouteOrOther;
  readonly headers: IncomingHttpHeaders;
  readonly apiKey: string;
}

export interface SimulatorReply {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  readonly body?: Uint8Array | string;
  /** A body sent over time (streaming speech): the headers go at once, the pieces when due. */
  readonly stream?: SimulatorStream;
}

export interface SimulatorContext {
  readonly baseUrl: string;
  /**
   * Waits the route's latency plus any `slow` fault, then says whether to act: false when the client
   * has gone and the fault does not ask for `completeClone` (the provider noticed the disconnect).
   */
  settle(latencyMs: number): Promise<boolean>;
}

/** A vendor's answer to one route; undefined when the client left and nothing is to be sent. */
export type SimulatorRouteHandler = (
  request: SimulatorRequest,
  context: SimulatorContext,
) => Promise<SimulatorReply | undefined>;

export interface SimulatorVendor<Clone> {
  readonly maxUploadBytes: number;
  routeOf(method: string, pathname: string): SimulatorRouteOrOther;
  /** The caller's key when the auth header carries an accepted one, else the documented 401. */
  authenticate(
    headers: IncomingHttpHeaders,
  ): { readonly apiKey: string } | { readonly reply: SimulatorReply };
  readonly concurrency: {
    readonly routes: readonly SimulatorRoute[];
    readonly limit: number;
    reply(): SimulatorReply;
  };
  /** The answer to an injected `status` fault. */
  faultReply(fault: SimulatorFault): SimulatorReply;
  handle: SimulatorRouteHandler;
  /** `POST /__sim/clones`: adds a clone as if made earlier (e.g. a lightning-large-only one). */
  seed(input: unknown): Clone;
  /** Extra `/__sim/*` routes (e.g. sample downloads); undefined → 404. */
  admin?(method: string, url: URL): SimulatorReply | undefined;
  /** Clears vendor state beyond the shared state. */
  reset?(): void;
}

export interface SimulatorHandle<Clone> {
  /** Base URL, e.g. http://127.0.0.1:40123 (no trailing slash). */
  readonly url: string;
  readonly state: SimulatorState<Clone>;
  injectFault(fault: SimulatorFault): void;
  clearFaults(): void;
  /** Forgets clones, counts, faults and the request log; keeps the options. */
  reset(): void;
  /** Stops the server and cuts every open connection, hanging requests included. */
  close(): Promise<void>;
}

const REQUEST_LOG_SIZE = 200;
/** Headers that carry keys: kept in memory for tests, masked in `GET /__sim/state`. */
const SECRET_HEADERS = new Set(['authorization', 'x-api-key']);

export function createSimulatorState<Clone>(): SimulatorState<Clone> {
  return {
    clones: new Map(),
    counts: { clone: 0, speech: 0, delete: 0, list: 0, other: 0 },
    rateLimited: 0,
    peakInFlight: { clone: 0, speech: 0, delete: 0, list: 0, other: 0 },
    requests: [],
    faults: [],
  };
}

/** Whether the client of one request has gone (its response closed before it finished). */
interface Client {
  gone: boolean;
}

export async function serveSimulator<Clone>(
  vendor: SimulatorVendor<Clone>,
  state: SimulatorState<Clone>,
  port = 0,
): Promise<SimulatorHandle<Clone>> {
  const served: Served<Clone> = {
    vendor,
    state,
    inFlight: new Map(),
    routeInFlight: { clone: 0, speech: 0, delete: 0, list: 0, other: 0 },
    timers: new Set(),
    baseUrl: '',
  };
  const server = createServer((request, response) => {
    onRequest(served, request, response).catch((error: unknown) => {
      // A simulator bug must show up as a 500 in the test that hit it, not as a hung request.
      send(state, response, { status: 500, json: { error: `simulator error: ${String(error)}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  served.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: served.baseUrl,
    state,
    injectFault: (fault) => injectFault(state, fault),
    clearFaults: () => {
      state.faults.length = 0;
    },
    reset: () => reset(served),
    async close() {
      for (const timer of served.timers) clearTimeout(timer);
      served.timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

async function onAdmin(
  served: Served<unknown>,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  const { state, vendor } = served;
  const method = request.method ?? 'GET';
  const path = url.pathname;
  if (method === 'GET' && path === '/__sim/state') {
    send(state, response, { status: 200, json: snapshot(state) });
    return;
  }
  if (path === '/__sim/faults' && method === 'DELETE') {
    state.faults.length = 0;
    send(state, response, { status: 204 });
    return;
  }
  if (path === '/__sim/reset' && method === 'POST') {
    reset(served);
    send(state, response, { status: 204 });
    return;
  }
  if ((path === '/__sim/faults' || path === '/__sim/clones') && method === 'POST') {
    const body = await readBody(request, 1024 * 1024);
    send(
      state,
      response,
      path === '/__sim/faults' ? addFault(state, body.json) : seedClone(vendor, body.json),
    );
    return;
  }
  send(
    state,
    response,
    vendor.admin?.(method, url) ?? { status: 404, json: { error: `no simulator route ${method} ${path}` } },
  );
}

/** `POST /__sim/faults`. */
function addFault(state: SimulatorState<unknown>, json: unknown): SimulatorReply {
  const parsed = simulatorFaultSchema.safeParse(json);
  if (!parsed.success) return { status: 400, json: { error: 'invalid fault', issues: parsed.error.issues } };
  injectFault(state, parsed.data);
  return { status: 201, json: { fault: parsed.data } };
}

/** `POST /__sim/clones`. */
function seedClone(vendor: SimulatorVendor<unknown>, json: unknown): SimulatorReply {
  try {
    return { status: 201, json: vendor.seed(json) };
  } catch (error) {
    return { status: 400, json: { error: error instanceof Error ? error.message : String(error) } };
  }
}

/** One provider request, in its steps: count, fault, record, admit, handle (with latency), reply. */
async function onRequest(
  served: Served<unknown>,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', served.baseUrl);
  if (url.pathname.startsWith('/__sim/')) {
    await onAdmin(served, request, response, url);
    return;
  }
  const method = request.method ?? 'GET';
  const route = served.vendor.routeOf(method, url.pathname);
  const client = track(served, route, response);

  const fault = takeFault(served.state, route, url.pathname);
  if (fault?.type === 'drop' && !fault.completeClone) {
    request.socket.destroy();
    return;
  }

  const body = await readBody(request, served.vendor.maxUploadBytes);
  const recorded = record(served.state, route, method, url, request.headers, body);

  if (fault?.type === 'hang') return;
  const admitted = admit(served, route, request.headers, fault);
  if ('reply' in admitted) {
    send(served.state, response, admitted.reply, recorded);
    return;
  }
  const { apiKey, limited } = admitted;
  try {
    const simulatorRequest = { method, url, route, headers: request.headers, apiKey, ...body };
    await answer(served, simulatorRequest, request, response, recorded, fault, client);
  } finally {
    if (limited) served.inFlight.set(apiKey, (served.inFlight.get(apiKey) ?? 1) - 1);
  }
}

/** Counts the request and its route's in-flight peak; the returned client tells when it has gone. */
function track(served: Served<unknown>, route: SimulatorRouteOrOther, response: ServerResponse): Client {
  const { state, routeInFlight } = served;
  state.counts[route] += 1;
  routeInFlight[route] += 1;
  state.peakInFlight[route] = Math.max(state.peakInFlight[route], routeInFlight[route]);
  let counted = true;
  const leave = () => {
    if (counted) routeInFlight[route] -= 1;
    counted = false;
  };
  response.on('close', leave);
  const client: Client = { gone: false };
  response.on('close', () => {
    if (!response.writableFinished) client.gone = true;
  });
  return client;
}

/** Adds the request to the log (the most recent REQUEST_LOG_SIZE). */
function record(
  state: SimulatorState<unknown>,
  route: SimulatorRouteOrOther,
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: ParsedBody,
): RecordedRequest {
  const recorded: RecordedRequest = {
    route,
    method,
    path: url.pathname + url.search,
    headers: flattenHeaders(headers),
    fields: body.fields,
    files: body.files.map((file) => ({
      fieldName: file.fieldName,
      filename: file.filename,
      mimeType: file.mimeType,
      size: file.bytes.byteLength,
      truncated: file.truncated,
    })),
    json: body.json,
  };
  state.requests.push(recorded);
  if (state.requests.length > REQUEST_LOG_SIZE) state.requests.shift();
  return recorded;
}

/**
 * The answers before the vendor's handler, in order: an injected `status` fault, the auth check, the
 * per-key concurrency limit. Admitted on a limited route, the request holds a slot (release it).
 */
function admit(
  served: Served<unknown>,
  route: SimulatorRouteOrOther,
  headers: IncomingHttpHeaders,
  fault: PendingFault | undefined,
): { readonly reply: SimulatorReply } | { readonly apiKey: string; readonly limited: boolean } {
  const { vendor, inFlight } = served;
  if (fault?.type === 'status') return { reply: vendor.faultReply(fault) };

  const auth = vendor.authenticate(headers);
  if ('reply' in auth) return { reply: auth.reply };

  const limited = route !== 'other' && vendor.concurrency.routes.includes(route);
  if (limited) {
    const current = inFlight.get(auth.apiKey) ?? 0;
    if (current >= vendor.concurrency.limit) return { reply: vendor.concurrency.reply() };
    inFlight.set(auth.apiKey, current + 1);
  }
  return { apiKey: auth.apiKey, limited };
}

/** Runs the vendor's handler with the latency (and `slow` fault), then drops or delivers its reply. */
async function answer(
  served: Served<unknown>,
  simulatorRequest: SimulatorRequest,
  request: IncomingMessage,
  response: ServerResponse,
  recorded: RecordedRequest,
  fault: PendingFault | undefined,
  client: Client,
): Promise<void> {
  let settled = false;
  const context: SimulatorContext = {
    baseUrl: served.baseUrl,
    async settle(latencyMs) {
      settled = true;
      await wait(served, latencyMs + (fault?.type === 'slow' ? (fault.delayMs ?? DEFAULT_SLOW_FAULT_MS) : 0));
      return !client.gone || fault?.completeClone === true;
    },
  };
  const reply = await served.vendor.handle(simulatorRequest, context);
  if (fault?.type === 'slow' && !settled) await wait(served, fault.delayMs ?? DEFAULT_SLOW_FAULT_MS);
  if (fault?.type === 'drop') {
    request.socket.destroy();
    return;
  }
  // A stream holds its concurrency slot until it ends, as the providers count it.
  if (reply && !client.gone) await deliver(served, response, reply, recorded, fault);
}

function snapshot<Clone>(state: SimulatorState<Clone>) {
  return {
    clones: [...state.clones.values()],
    counts: state.counts,
    rateLimited: state.rateLimited,
    peakInFlight: state.peakInFlight,
    faults: state.faults,
    requests: state.requests.map((request) => ({
      ...request,
      headers: Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [
          name,
          SECRET_HEADERS.has(name) ? '***' : value,
        ]),
      ),
    })),
  };
}
