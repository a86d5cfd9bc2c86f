/**
 * A provider's answer body read as it arrives (`ProviderHttp.stream`): chunk by chunk, never buffered
 * whole, with a deadline on each wait and the connection closed as soon as the reader stops.
 */

/** The body of a streamed answer. Iterate it once; `cancel` (or leaving a `for await` early) closes it. */
export interface ProviderBodyStream extends AsyncIterable<Uint8Array> {
  /** Stops reading and closes the connection; safe to call more than once, and after the end. */
  cancel(): Promise<void>;
}

/**
 * One attempt's deadline, which can be rearmed: armed while waiting for the answer, for the first read,
 * and for every later read, but not while the consumer holds a chunk (its own pace is not the provider's).
 */
export class AttemptTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  /** True once the deadline passed (the request was then aborted). */
  fired = false;

  constructor(private readonly ms: number) {
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(): void {
    this.stop();
    this.timer = setTimeout(() => {
      this.fired = true;
      this.controller.abort(new DOMException('The provider did not answer in time', 'TimeoutError'));
    }, this.ms);
    // Like AbortSignal.timeout: a pending deadline alone does not keep the process alive.
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * The body of a 2xx `response`, read as it arrives. A read that fails is turned into the caller's error by
 * `failure` (with the bytes received so far). The timer, running since the request was sent, is rearmed so
 * that an answer nobody reads is closed after one more deadline instead of holding the connection.
 */
export function readBodyStream(
  response: Response,
  timer: AttemptTimer,
  failure: (error: unknown, receivedBytes: number) => Error,
): ProviderBodyStream {
  const reader = response.body?.getReader();
  let received = 0;
  let finished = false;
  timer.arm();

  async function cancel(): Promise<void> {
    timer.stop();
    if (finished) return;
    finished = true;
    await reader?.cancel().catch(() => undefined);
  }

  async function next(): Promise<IteratorResult<Uint8Array>> {
    if (finished || !reader) {
      timer.stop();
      return { done: true, value: undefined };
    }
    timer.arm();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          finished = true;
          timer.stop();
          return { done: true, value: undefined };
        }
        if (value.byteLength === 0) continue;
        timer.stop();
        received += value.byteLength;
        return { done: false, value };
      }
    } catch (error) {
      finished = true;
      timer.stop();
      throw failure(error, received);
    }
  }

  return {
    cancel,
    [Symbol.asyncIterator]: () => ({
      next,
      async return(): Promise<IteratorResult<Uint8Array>> {
        await cancel();
        return { done: true, value: undefined };
      },
    }),
  };
}
