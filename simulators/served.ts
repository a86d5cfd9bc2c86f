import type { ServerResponse } from 'node:http';
import { isBodyFault, type PendingFault, type SimulatorFault, type SimulatorRouteOrOther } from './faults';
import type { RecordedRequest, SimulatorReply, SimulatorState, SimulatorVendor } from './server';
import { type SimulatorStream, writeStream } from './stream';

/**
 * The bookkeeping of one running simulator (server.ts): its timers, faults, reset, and the two ways
 * an answer leaves it (`send` at once, `deliver` over time).
 */

/** One running simulator: the vendor, the shared state and the server's own bookkeeping. */
export interface Served<Clone> {
  readonly vendor: SimulatorVendor<Clone>;
  readonly state: SimulatorState<Clone>;
  /** Requests in flight per API key, on the vendor's concurrency-limited routes. */
  readonly inFlight: Map<string, number>;
  /** Requests in flight per route (all keys, faulted ones included). */
  readonly routeInFlight: Record<SimulatorRouteOrOther, number>;
  readonly timers: Set<NodeJS.Timeout>;
  baseUrl: string;
}

/** Resolves after `ms`; `close()` clears the timer (the promise then never resolves). */
export function wait(served: Served<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ms <= 0) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      served.timers.delete(timer);
      resolve();
    }, ms);
    served.timers.add(timer);
  });
}

export function injectFault(state: SimulatorState<unknown>, fault: SimulatorFault): void {
  state.faults.push({ ...fault, remaining: fault.times ?? 1 });
}

export function takeFault(
  state: SimulatorState<unknown>,
  route: SimulatorRouteOrOther,
  path: string,
): PendingFault | undefined {
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

export function reset(served: Served<unknown>): void {
  const { state } = served;
  state.clones.clear();
  for (const key of Object.keys(state.counts) as SimulatorRouteOrOther[]) {
    state.counts[key] = 0;
    state.peakInFlight[key] = served.routeInFlight[key];
  }
  state.rateLimited = 0;
  state.requests.length = 0;
  state.faults.length = 0;
  served.inFlight.clear();
  served.vendor.reset?.();
}

export function send(
  state: SimulatorState<unknown>,
  response: ServerResponse,
  reply: SimulatorReply,
  recorded?: RecordedRequest,
): void {
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
export async function deliver(
  served: Served<unknown>,
  response: ServerResponse,
  reply: SimulatorReply,
  recorded: RecordedRequest,
  fault: PendingFault | undefined,
): Promise<void> {
  const bodyFault = isBodyFault(fault) && reply.status >= 200 && reply.status < 300 ? fault : undefined;
  if (!reply.stream && !bodyFault) {
    send(served.state, response, reply, recorded);
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
  await writeStream(
    response,
    stream,
    (ms) => wait(served, ms),
    bodyFault,
    (outcome) => {
      recorded.bytesSent = outcome.bytesSent;
      recorded.clientClosed = outcome.clientClosed;
    },
  );
}
