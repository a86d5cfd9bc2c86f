import { describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfter, retryDelayMs, sleep } from '../../functions/shared/retry';

describe('Function: backoffDelayMs', () => {
  const policy = { baseMs: 1_000, maxMs: 8_000 } as const;

  it('doubles from the base up to the cap', () => {
    const highest = (retry: number) => backoffDelayMs(retry, { ...policy, jitter: 'full' }, () => 1);
    expect([1, 2, 3, 4, 5, 10].map(highest)).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('spreads full jitter from 0, equal jitter from half the delay', () => {
    expect(backoffDelayMs(3, { ...policy, jitter: 'full' }, () => 0)).toBe(0);
    expect(backoffDelayMs(3, { ...policy, jitter: 'equal' }, () => 0)).toBe(2_000);
    expect(backoffDelayMs(3, { ...policy, jitter: 'equal' }, () => 1)).toBe(4_000);
  });
});

describe('Function: retryDelayMs', () => {
  it('never comes back sooner than Retry-After, nor sooner than the backoff', () => {
    const policy = { baseMs: 1_000, maxMs: 8_000, jitter: 'equal' } as const;
    expect(retryDelayMs(1, policy, 30_000, () => 1)).toBe(30_000);
    expect(retryDelayMs(1, policy, 0, () => 1)).toBe(1_000);
    expect(retryDelayMs(1, policy, undefined, () => 0)).toBe(500);
  });
});

describe('Function: sleep', () => {
  it('waits, and stops at once with the reason when its signal aborts', async () => {
    const started = Date.now();
    await sleep(30);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);

    const controller = new AbortController();
    const waiting = sleep(10_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
  });
});

describe('Function: parseRetryAfter', () => {
  const now = Date.parse('2026-08-01T12:00:00Z');

  it('reads delta seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('0', now)).toBe(0);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter('Sat, 01 Aug 2026 12:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Sat, 01 Aug 2026 11:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
