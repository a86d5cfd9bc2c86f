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

/**
 * Writes `stream` to `response` (headers already written), pacing its pieces, stopping as soon as the
 * client leaves, and striking `fault` once `afterBytes` were sent (or at the end, when the body is
 * shorter). Resolves when the body ended, was cut, or the client left.
 */
export async function writeStream(
  response: ServerResponse,
  stream: SimulatorStream,
  wait: Wait,
  fault?: SimulatorFault & { readonly type: BodyFaultType },
  onProgress?: (outcome: BodyOutcome) => void,
): Promise<BodyOutcome> {
  let sent = 0;
  let gone = response.destroyed;
  const closed = new Promise<void>((resolve) => {
    if (gone) resolve();
    response.once('close', () => {
      if (!response.writableFinished) gone = true;
      resolve();
    });
  });
  const limit = fault ? (fault.afterBytes ?? 0) : Number.POSITIVE_INFINITY;
  const started = Date.now();
  const outcome = () => {
    const now = { bytesSent: sent, clientClosed: gone };
    onProgress?.(now);
    return now;
  };

  const write = async (bytes: Uint8Array) => {
    if (bytes.byteLength === 0 || gone) return;
    sent += bytes.byteLength;
    onProgress?.({ bytesSent: sent, clientClosed: false });
    // Respect backpressure: a client that reads slowly slows the stream, as TCP would.
    if (!response.write(bytes)) {
      await Promise.race([new Promise((resolve) => response.once('drain', resolve)), closed]);
    }
  };

  const strike = async (): Promise<BodyOutcome> => {
    switch (fault?.type) {
      case 'cut':
        // FIN after what was written (a reset could make the client drop bytes it already received).
        response.socket?.end();
        break;
      case 'stall':
        await closed;
        break;
      case 'errorEvent':
        if (!stream.errorEvent) {
          response.socket?.end();
          break;
        }
        await write(stream.errorEvent);
        response.end();
        break;
      default:
        response.end();
    }
    return outcome();
  };

  for (const piece of stream.pieces) {
    const due = started + piece.atMs - Date.now();
    if (due > 0) await Promise.race([wait(due), closed]);
    if (gone) return outcome();
    if (sent + piece.bytes.byteLength >= limit) {
      // An in-band error event comes between pieces (events), never inside one.
      if (fault?.type !== 'errorEvent') await write(piece.bytes.subarray(0, Math.max(0, limit - sent)));
      return gone ? outcome() : strike();
    }
    await write(piece.bytes);
    if (gone) return outcome();
  }
  if (fault) return strike();
  response.end();
  await closed;
  return outcome();
}
