/**
 * The one retry policy of voicedrop: capped exponential backoff with jitter, never sooner than a
 * provider's `Retry-After`, and one `sleep`. Used by the provider HTTP client (retries inside one call),
 * the clone pipeline's redeliveries (retries across queue deliveries) and local mode's queue.
 */

export interface Backoff {
  /** The first retry's delay before jitter, in ms. */
  readonly baseMs: number;
  /** No delay is longer than this, in ms. */
  readonly maxMs: number;
  /**
   * `full`: anywhere from 0 to the exponential delay (spreads retries most, for many callers of one
   * provider); `equal`: half fixed, half random (never comes back at once, for a queue).
   */
  readonly jitter: 'full' | 'equal';
}

/** The delay before retry number `retry` (1 for the first): base · 2^(retry − 1), capped, with jitter. */
export function backoffDelayMs(retry: number, policy: Backoff, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  return policy.jitter === 'full' ? random() * exponential : exponential / 2 + (random() * exponential) / 2;
}

/** The backoff delay, but never sooner than the provider asked (a `Retry-After: 0` does not spin). */
export function retryDelayMs(
  retry: number,
  policy: Backoff,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  return Math.max(retryAfterMs ?? 0, backoffDelayMs(retry, policy, random));
}

/** An HTTP `Retry-After` header in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Waits `ms`; with a signal, rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
