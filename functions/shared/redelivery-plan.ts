import type { SQSBatchResponse } from 'aws-lambda';
import type { Backoff } from './retry';

/*
 * How a queue consumer (the clone and webhook functions; local/queue.ts locally) has SQS see a message
 * again: the plan (which message, retry or requeue, after how long). Free of SDK imports, so the
 * clone pipeline loads no SQS client for it; functions/shared/sqs-redeliveries.ts applies it on SQS.
 */

/**
 * The one cap on any redelivery delay, in seconds: SQS takes up to 15 minutes for a message delay (and
 * 12 hours for a visibility timeout); 15 minutes is plenty for every queue here.
 */
export const MAX_REDELIVERY_DELAY_SECONDS = 900;

export interface RetryBackoff {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

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
export interface RedeliveryPlan extends SQSBatchResponse {
  readonly redeliveries: readonly Redelivery[];
}
