import type { ServerResponse } from 'node:http';
import type { BodyFaultType, SimulatorFault } from './faults';

/**
 * A body sent over time (streaming speech), and the body faults (faults.ts) that strike a 200 answer
 * after some of its bytes. Used by ../server.ts for every answer that streams or meets a body fault.
 */

export interface SimulatorStreamPiece {
  /** When it is due, ms after the headers were sent. */
  readonly atMs: number;
  readonly bytes: Uint8Array;
}

export interface SimulatorStream {
  /** The body in order; each piece is written when due (all at once when every `atMs` is 0). */
  readonly pieces: readonly SimulatorStreamPiece[];
  /** What an `errorEvent` fault sends in-band before ending; without it, the fault cuts the connection. */
  readonly errorEvent?: Uint8Array;
}

/** What happened to a body, for the request log. */
export interface BodyOutcome {
  readonly bytesSent: number;
  /** True when the client went away before the body ended. */
  readonly clientClosed: boolean;
}

type Wait = (ms: number) => Promise<void>;
type BodyFault = SimulatorFault & { readonly type: BodyFaultType };

/**
 * Writes `stream` to `response` (headers already written), pacing its pieces, stopping as soon as the
 * client leaves, and striking `fault` once `afterBytes` were sent (or at the end, when the body is
 * shorter). Resolves when the body ended, was cut, or the client left.
 */
export async function writeStream(
  response: ServerResponse,
  stream: SimulatorStream,
  wait: Wait,
  fault?: BodyFault,
  onProgress?: (outcome: BodyOutcome) => void,
): Promise<BodyOutcome> {
  const body = new BodyWriter(response, stream, fault, onProgress);
  const limit = fault ? (fault.afterBytes ?? 0) : Number.POSITIVE_INFINITY;
  const started = Date.now();

  for (const piece of stream.pieces) {
    const due = started + piece.atMs - Date.now();
    if (due > 0) await Promise.race([wait(due), body.closed]);
    if (body.gone) return body.outcome();
    if (body.sent + piece.bytes.byteLength >= limit) {
      // An in-band error event comes between pieces (events), never inside one.
      if (fault?.type !== 'errorEvent') {
        await body.write(piece.bytes.subarray(0, Math.max(0, limit - body.sent)));
      }
      return body.gone ? body.outcome() : body.strike();
    }
    await body.write(piece.bytes);
    if (body.gone) return body.outcome();
  }
  if (fault) return body.strike();
  response.end();
  await body.closed;
  return body.outcome();
}

/** One body being written: the bytes sent so far, whether the client left, and the fault's strike. */
class BodyWriter {
  sent = 0;
  gone: boolean;
  /** Resolves when the response closes (finished, cut, or the client left). */
  readonly closed: Promise<void>;

  constructor(
    private readonly response: ServerResponse,
    private readonly stream: SimulatorStream,
    private readonly fault: BodyFault | undefined,
    private readonly onProgress: ((outcome: BodyOutcome) => void) | undefined,
  ) {
    this.gone = response.destroyed;
    this.closed = new Promise<void>((resolve) => {
      if (this.gone) resolve();
      response.once('close', () => {
        if (!response.writableFinished) this.gone = true;
        resolve();
      });
    });
  }

  outcome(): BodyOutcome {
    const now = { bytesSent: this.sent, clientClosed: this.gone };
    this.onProgress?.(now);
    return now;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.byteLength === 0 || this.gone) return;
    this.sent += bytes.byteLength;
    this.onProgress?.({ bytesSent: this.sent, clientClosed: false });
    // Respect backpressure: a client that reads slowly slows the stream, as TCP would.
    if (!this.response.write(bytes)) {
      await Promise.race([new Promise((resolve) => this.response.once('drain', resolve)), this.closed]);
    }
  }

  async strike(): Promise<BodyOutcome> {
    const { response } = this;
    switch (this.fault?.type) {
      case 'cut':
        // FIN after what was written (a reset could make the client drop bytes it already received).
        response.socket?.end();
        break;
      case 'stall':
        await this.closed;
        break;
      case 'errorEvent':
        if (!this.stream.errorEvent) {
          response.socket?.end();
          break;
        }
        await this.write(this.stream.errorEvent);
        response.end();
        break;
      default:
        response.end();
    }
    return this.outcome();
  }
}
