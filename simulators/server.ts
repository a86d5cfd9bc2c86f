import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEFAULT_SLOW_FAULT_MS,
  isBodyFault,
  type PendingFault,
  type SimulatorFault,
  type SimulatorRoute,
  type SimulatorRouteOrOther,
  simulatorFaultSchema,
} from './faults';
import { flattenHeaders, type ParsedBody, readBody } from './request-body';
import { type SimulatorStream, writeStream } from './stream';

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

export async function serveSimulator<Clone>(
  vendor: SimulatorVendor<Clone>,
  state: SimulatorState<Clone>,
  port = 0,
): Promise<SimulatorHandle<Clone>> {
  const inFlight = new Map<string, number>();
  const routeInFlight: Record<SimulatorRouteOrOther, number> = {
    clone: 0,
    speech: 0,
    delete: 0,
    list: 0,
    other: 0,
  };
  const timers = new Set<NodeJS.Timeout>();
  let baseUrl = '';

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  function injectFault(fault: SimulatorFault): void {
    state.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  function takeFault(route: SimulatorRouteOrOther, path: string): PendingFault | undefined {
    if (route === 'other') return undefined;
    const index = state.faults.findIndex(
      (fault) => (fault.route === '*' || fault.route === route) && (fault.path ?? path) === path,
    );
    const fault = state.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) state.faults.splice(index, 1);
    return fault;
  }

  function reset(): void {
    state.clones.clear();
    for (const key of Object.keys(state.counts) as SimulatorRouteOrOther[]) {
      state.counts[key] = 0;
      state.peakInFlight[key] = routeInFlight[key];
    }
    state.rateLimited = 0;
    state.requests.length = 0;
    state.faults.length = 0;
    inFlight.clear();
    vendor.reset?.();
  }

  function send(response: ServerResponse, reply: SimulatorReply, recorded?: RecordedRequest): void {
    if (response.destroyed || response.headersSent) return;
    if (reply.status === 429) state.rateLimited += 1;
    if (recorded) recorded.status = reply.status;
    const headers: Record<string, string> = { ...reply.headers };
    let body: Uint8Array | string | undefined = reply.body;
    if (reply.json !== undefined) {
      body = JSON.stringify(reply.json);
      headers['content-type'] ??= 'application/json';
    }
    response.writeHead(reply.status, headers);
    response.end(body);
  }

  /** Sends a reply, over time when it streams or a body fault strikes it. */
  async function deliver(
    response: ServerResponse,
    reply: SimulatorReply,
    recorded: RecordedRequest,
    fault: PendingFault | undefined,
  ): Promise<void> {
    const bodyFault = isBodyFault(fault) && reply.status >= 200 && reply.status < 300 ? fault : undefined;
    if (!reply.stream && !bodyFault) {
      send(response, reply, recorded);
      return;
    }
    if (response.destroyed || response.headersSent) return;
    recorded.status = reply.status;
    recorded.bytesSent = 0;
    const plain = reply.json !== undefined ? JSON.stringify(reply.json) : reply.body;
    const stream: SimulatorStream = reply.stream ?? {
      pieces: plain === undefined ? [] : [{ atMs: 0, bytes: Buffer.from(plain) }],
    };
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.json !== undefined) headers['content-type'] ??= 'application/json';
    response.writeHead(reply.status, headers);
    response.flushHeaders();
    await writeStream(response, stream, wait, bodyFault, (outcome) => {
      recorded.bytesSent = outcome.bytesSent;
      recorded.clientClosed = outcome.clientClosed;
    });
  }

  async function onAdmin(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/__sim/state') {
      send(response, { status: 200, json: snapshot(state) });
      return;
    }
    if (path === '/__sim/faults' && method === 'DELETE') {
      state.faults.length = 0;
      send(response, { status: 204 });
      return;
    }
    if (path === '/__sim/reset' && method === 'POST') {
      reset();
      send(response, { status: 204 });
      return;
    }
    if ((path === '/__sim/faults' || path === '/__sim/clones') && method === 'POST') {
      const body = await readBody(request, 1024 * 1024);
      if (path === '/__sim/faults') {
        const parsed = simulatorFaultSchema.safeParse(body.json);
        if (!parsed.success) {
          send(response, { status: 400, json: { error: 'invalid fault', issues: parsed.error.issues } });
          return;
        }
        injectFault(parsed.data);
        send(response, { status: 201, json: { fault: parsed.data } });
        return;
      }
      try {
        send(response, { status: 201, json: vendor.seed(body.json) });
      } catch (error) {
        send(response, {
          status: 400,
          json: { error: error instanceof Error ? error.message : String(error) },
        });
      }
      return;
    }
    send(
      response,
      vendor.admin?.(method, url) ?? { status: 404, json: { error: `no simulator route ${method} ${path}` } },
    );
  }

  async function onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', baseUrl);
    if (url.pathname.startsWith('/__sim/')) {
      await onAdmin(request, response, url);
      return;
    }
    const method = request.method ?? 'GET';
    const route = vendor.routeOf(method, url.pathname);
    state.counts[route] += 1;
    routeInFlight[route] += 1;
    state.peakInFlight[route] = Math.max(state.peakInFlight[route], routeInFlight[route]);
    let counted = true;
    const leave = () => {
      if (counted) routeInFlight[route] -= 1;
      counted = false;
    };
    response.on('close', leave);
    let clientGone = false;
    response.on('close', () => {
      if (!response.writableFinished) clientGone = true;
    });

    const fault = takeFault(route, url.pathname);
    if (fault?.type === 'drop' && !fault.completeClone) {
      request.socket.destroy();
      return;
    }

    const body = await readBody(request, vendor.maxUploadBytes);
    const recorded: RecordedRequest = {
      route,
      method,
      path: url.pathname + url.search,
      headers: flattenHeaders(request.headers),
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

    if (fault?.type === 'hang') return;
    if (fault?.type === 'status') {
      send(response, vendor.faultReply(fault), recorded);
      return;
    }

    const auth = vendor.authenticate(request.headers);
    if ('reply' in auth) {
      send(response, auth.reply, recorded);
      return;
    }

    const limited = route !== 'other' && vendor.concurrency.routes.includes(route);
    if (limited) {
      const current = inFlight.get(auth.apiKey) ?? 0;
      if (current >= vendor.concurrency.limit) {
        send(response, vendor.concurrency.reply(), recorded);
        return;
      }
      inFlight.set(auth.apiKey, current + 1);
    }

    let settled = false;
    const context: SimulatorContext = {
      baseUrl,
      async settle(latencyMs) {
        settled = true;
        await wait(latencyMs + (fault?.type === 'slow' ? (fault.delayMs ?? DEFAULT_SLOW_FAULT_MS) : 0));
        return !clientGone || fault?.completeClone === true;
      },
    };
    try {
      const reply = await vendor.handle(
        { method, url, route, headers: request.headers, apiKey: auth.apiKey, ...body },
        context,
      );
      if (fault?.type === 'slow' && !settled) await wait(fault.delayMs ?? DEFAULT_SLOW_FAULT_MS);
      if (fault?.type === 'drop') {
        request.socket.destroy();
        return;
      }
      // A stream holds its concurrency slot until it ends, as the providers count it.
      if (reply && !clientGone) await deliver(response, reply, recorded, fault);
    } finally {
      if (limited) inFlight.set(auth.apiKey, (inFlight.get(auth.apiKey) ?? 1) - 1);
    }
  }

  const server = createServer((request, response) => {
    onRequest(request, response).catch((error: unknown) => {
      // A simulator bug must show up as a 500 in the test that hit it, not as a hung request.
      send(response, { status: 500, json: { error: `simulator error: ${String(error)}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    state,
    injectFault,
    clearFaults: () => {
      state.faults.length = 0;
    },
    reset,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
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
