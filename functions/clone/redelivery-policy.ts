/**
 * When the clone pipeline sees a message again, and how: capped exponential backoff for a failed delivery
 * (the shared retry policy, functions/shared/retry.ts), a requeue for an upload that only waits, and one
 * cap for every delay. functions/clone/redeliveries.ts applies the plan on SQS, local/queue.ts locally.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import { VoicedropError } from '../shared/errors';
import { isProviderError } from '../shared/providers/errors';
import type { ProviderName } from '../shared/providers/types';
import { type Backoff, retryDelayMs } from '../shared/retry';

export interface RetryBackoff {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { baseSeconds: 10, maxSeconds: 900 };

/**
 * The one cap on any redelivery delay: SQS takes up to 12 hours for a visibility timeout and 15 minutes
 * for a message delay; 15 minutes is plenty here.
 */
const MAX_REDELIVERY_DELAY_SECONDS = 900;

/** A redelivery backoff as the shared retry policy: equal jitter, so a retry never comes back at once. */
export function redeliveryPolicy(backoff: RetryBackoff): Backoff {
  return { baseMs: backoff.baseSeconds * 1_000, maxMs: backoff.maxSeconds * 1_000, jitter: 'equal' };
}

/**
 * What the queue adapter (SQS in AWS, LocalQueue locally) does with a message the handler did not finish.
 * `retry`: it stays a batch item failure and becomes visible again after `delaySeconds` (SQS
 * ChangeMessageVisibility), counting as a delivery. `requeue`: nothing failed, the upload only waits (for
 * a provider slot, for a lost answer's grace period); the adapter sends the body again with `delaySeconds`
 * and acknowledges this one, so waiting never uses up deliveries. If the requeue cannot be sent, the
 * message stays a batch item failure.
 */
export interface Redelivery {
  readonly messageId: string;
  readonly kind: 'retry' | 'requeue';
  readonly delaySeconds: number;
}

/** The SQS batch response plus how to redeliver each message in it. */
export interface CloneBatchResult extends SQSBatchResponse {
  readonly redeliveries: readonly Redelivery[];
}

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
