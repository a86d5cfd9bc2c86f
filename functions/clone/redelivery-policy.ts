import { VoicedropError } from '../shared/errors';
import { isProviderError } from '../shared/providers/errors';
import type { ProviderName } from '../shared/providers/types';
import {
  MAX_REDELIVERY_DELAY_SECONDS,
  type Redelivery,
  type RetryBackoff,
  redeliveryPolicy,
} from '../shared/redelivery-plan';
import { retryDelayMs } from '../shared/retry';

/** The clone queue's backoff unless configuration says otherwise. */
export const DEFAULT_RETRY_BACKOFF: RetryBackoff = {
  baseSeconds: 10,
  maxSeconds: MAX_REDELIVERY_DELAY_SECONDS,
};

/** A problem a later delivery of the same message can fix: the message is reported as a batch item failure. */
export class RetryLaterError extends VoicedropError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: true, cause });
  }
}

/**
 * Nothing failed, the upload has to wait (for a provider slot, for a lost answer's grace period): it goes
 * back to the queue as a new message after `delaySeconds` (a `requeue`), which uses up no delivery.
 */
export class WaitInQueueError extends RetryLaterError {
  constructor(
    code: string,
    message: string,
    readonly delaySeconds: number,
  ) {
    super(code, message);
  }
}

/** No provider slot came free in time: the message waits in the queue instead of in this invocation. */
export class ProviderBusyError extends WaitInQueueError {
  constructor(provider: ProviderName, limit: number, delaySeconds: number) {
    super(
      'provider_busy',
      `Waiting for a free ${provider} slot (${limit} clone request${limit === 1 ? '' : 's'} at a time); the upload stays queued.`,
      delaySeconds,
    );
  }
}

/** When to see a message again after `error`, by what the error says about the provider and the record. */
export function redeliveryFor(
  error: unknown,
  messageId: string,
  receiveCount: number,
  dependencies: { readonly retryBackoff?: RetryBackoff },
): Redelivery {
  const backoff = dependencies.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
  if (error instanceof WaitInQueueError) {
    return { messageId, kind: 'requeue', delaySeconds: capped(error.delaySeconds) };
  }
  const retryAfterMs = isProviderError(error) ? error.retryAfterMs : undefined;
  const delayMs = retryDelayMs(receiveCount, redeliveryPolicy(backoff), retryAfterMs);
  return { messageId, kind: 'retry', delaySeconds: capped(delayMs / 1_000) };
}

/** Seconds to the millisecond, within 0 and the cap. */
function capped(seconds: number): number {
  return Math.max(0, Math.round(Math.min(MAX_REDELIVERY_DELAY_SECONDS, seconds) * 1_000) / 1_000);
}
