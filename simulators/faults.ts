import * as z from 'zod';

/**
 * Faults a test (or anyone, over `POST /__sim/faults`) can inject into a simulator: a status answered
 * instead of acting, a slow answer, a hang, a reset connection, and faults inside an answer's body (cut,
 * stalled, ended early, or an in-band error event) after some bytes, for streamed speech above all. Shared
 * by both vendors; each supplies only its error body for a `status` fault and its in-band error event.
 */

export const SIMULATOR_ROUTES = ['clone', 'speech', 'delete', 'list'] as const;
export type SimulatorRoute = (typeof SIMULATOR_ROUTES)[number];
/** Requests outside the four contract routes (retired routes, unknown paths, sample downloads). */
export type SimulatorRouteOrOther = SimulatorRoute | 'other';

/** Faults that strike inside a 200 answer's body, once `afterBytes` of it were sent. */
export const BODY_FAULT_TYPES = ['cut', 'stall', 'truncate', 'errorEvent'] as const;
export type BodyFaultType = (typeof BODY_FAULT_TYPES)[number];

export function isBodyFault(
  fault: SimulatorFault | undefined,
): fault is SimulatorFault & { type: BodyFaultType } {
  return fault !== undefined && (BODY_FAULT_TYPES as readonly string[]).includes(fault.type);
}

export interface SimulatorFault {
  /** Which requests it hits; `*` is any provider route. Streaming speech routes are `speech` too. */
  readonly route: SimulatorRoute | '*';
  /** Only requests to this exact path (e.g. `/waves/v1/tts/live`), to aim at one of a route's paths. */
  readonly path?: string;
  /**
   * `status`: answer `status` (default 500) with `body` or the vendor's error shape, without acting;
   * `slow`: act and answer `delayMs` late (the work is dropped if the client left, unless `completeClone`);
   * `hang`: never answer; `drop`: reset the connection (after acting, when `completeClone`).
   * Inside a 200 answer's body, after `afterBytes` (default 0) of it: `cut` resets the connection, `stall`
   * sends nothing more (until the client leaves), `truncate` ends the body cleanly, `errorEvent` sends the
   * vendor's in-band error (Smallest's SSE error event) before the piece that would pass `afterBytes`, and
   * ends; a vendor without one cuts instead. `cut` ends the connection (FIN) without ending the body.
   */
  readonly type: 'status' | 'slow' | 'hang' | 'drop' | BodyFaultType;
  /** With a body fault: bytes of the body sent before it strikes. */
  readonly afterBytes?: number;
  readonly status?: number;
  /** A JSON value (or a string sent as is) replacing the vendor's default error body. */
  readonly body?: unknown;
  /** The vendor's machine code in the default body (Smallest `error_code`, Typecast `error_code`). */
  readonly errorCode?: string;
  readonly retryAfterSec?: number;
  readonly delayMs?: number;
  /** Matching requests it applies to (default 1). */
  readonly times?: number;
  /** With `slow` or `drop`: the clone is created even though the client never sees the answer. */
  readonly completeClone?: boolean;
}

export const simulatorFaultSchema = z.object({
  route: z.enum([...SIMULATOR_ROUTES, '*']),
  path: z.string().startsWith('/').optional(),
  type: z.enum(['status', 'slow', 'hang', 'drop', ...BODY_FAULT_TYPES]),
  afterBytes: z.number().int().min(0).optional(),
  status: z.number().int().min(100).max(599).optional(),
  body: z.unknown().optional(),
  errorCode: z.string().optional(),
  retryAfterSec: z.number().min(0).optional(),
  delayMs: z.number().min(0).optional(),
  times: z.number().int().min(1).optional(),
  completeClone: z.boolean().optional(),
});

export interface PendingFault extends SimulatorFault {
  remaining: number;
}

/** How long a `slow` fault delays when it does not say. */
export const DEFAULT_SLOW_FAULT_MS = 1000;

/** The parts of a `status` fault's answer that do not depend on the vendor. */
export interface FaultAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The fault's own body, when it brings one: sent instead of the vendor's error shape. */
  readonly custom?: { readonly json: unknown } | { readonly body: string };
}

export function faultAnswer(fault: SimulatorFault): FaultAnswer {
  const status = fault.status ?? 500;
  const headers =
    fault.retryAfterSec === undefined ? undefined : { 'retry-after': String(fault.retryAfterSec) };
  if (fault.body === undefined) return { status, headers };
  return {
    status,
    headers,
    custom: typeof fault.body === 'string' ? { body: fault.body } : { json: fault.body },
  };
}

/** A generic message for a status without a vendor-specific one. */
export function genericStatusMessage(status: number): string {
  if (status === 429) return 'Too many requests';
  return status >= 500 ? 'Internal Server Error' : 'Bad Request';
}
