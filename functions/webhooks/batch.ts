import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describeError, type Log } from '../shared/logger';
import {
  MAX_REDELIVERY_DELAY_SECONDS,
  type Redelivery,
  type RedeliveryPlan,
  type RetryBackoff,
  redeliveryPolicy,
} from '../shared/redelivery-plan';
import { backoffDelayMs, retryDelayMs } from '../shared/retry';
import { type DeliveryOutcome, deliverWebhook } from './deliver';
import { parseWebhookMessage, webhookPayload } from './payload';

/** Retries of a webhook: from 30 s doubling to 15 minutes (equal jitter), for at least 24 hours. */
export const WEBHOOK_RETRY_BACKOFF: RetryBackoff = {
  baseSeconds: 30,
  maxSeconds: MAX_REDELIVERY_DELAY_SECONDS,
};
/** How long a webhook is retried before it is dead-lettered. */
export const WEBHOOK_RETRY_HOURS = 24;

/**
 * The deliveries (the queue's maxReceiveCount) that retrying for `hours` takes even when every delay is
 * as short as the jitter allows (half the backoff): the first delivery, then retries until their delays
 * add up to `hours`.
 */
export function webhookMaxReceiveCount(backoff: RetryBackoff, hours = WEBHOOK_RETRY_HOURS): number {
  const policy = redeliveryPolicy(backoff);
  let waitedMs = 0;
  let deliveries = 1;
  while (waitedMs < hours * 3_600_000) {
    waitedMs += Math.min(
      MAX_REDELIVERY_DELAY_SECONDS * 1_000,
      backoffDelayMs(deliveries, policy, () => 0),
    );
    deliveries += 1;
  }
  return deliveries;
}

export interface WebhookEndpoint {
  /** Stable name of the endpoint (its rule and its secret): `endpoint-1`, … in cdk.json's order. */
  readonly id: string;
  readonly url: string;
}

export interface WebhookBatchDependencies {
  readonly endpoints: ReadonlyMap<string, WebhookEndpoint>;
  /** The endpoint's `whsec_…` secret (cached per cold start in AWS). */
  readonly secretOf: (endpointId: string) => Promise<string>;
  /** Keeps a message that must not be retried (refused, malformed) with the reason; throws when it cannot. */
  readonly deadLetter: (record: SQSRecord, reason: string) => Promise<void>;
  readonly retryBackoff?: RetryBackoff;
  readonly timeoutMs?: number;
  readonly log: Log;
  /** Counts for the dashboard and the alarm (WebhookDeliveriesFailed, WebhooksDelivered, WebhooksRefused). */
  readonly count?: (metric: 'WebhooksDelivered' | 'WebhookDeliveriesFailed' | 'WebhooksRefused') => void;
}

/**
 * One batch of the webhook queue: each message is one event for one endpoint, delivered on its own, so a
 * slow or failing endpoint never holds another back. A delivery to retry stays a batch item failure with a
 * redelivery plan (its visibility set to the backoff: applyRedeliveries, as for the clone queue); after
 * maxReceiveCount deliveries SQS moves it to the dead-letter queue. A refused delivery (4xx other than
 * 429, a redirect) or a malformed message goes to the dead letters at once.
 */
export async function handleWebhookBatch(
  event: SQSEvent,
  dependencies: WebhookBatchDependencies,
): Promise<RedeliveryPlan> {
  const results = await Promise.all(event.Records.map((record) => deliverRecord(record, dependencies)));
  const redeliveries = results.filter((result): result is Redelivery => result !== undefined);
  return {
    batchItemFailures: redeliveries.map((redelivery) => ({ itemIdentifier: redelivery.messageId })),
    redeliveries,
  };
}

async function deliverRecord(
  record: SQSRecord,
  dependencies: WebhookBatchDependencies,
): Promise<Redelivery | undefined> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;
  const retry = (retryAfterMs?: number): Redelivery => {
    const policy = redeliveryPolicy(dependencies.retryBackoff ?? WEBHOOK_RETRY_BACKOFF);
    const delayMs = retryDelayMs(receiveCount, policy, retryAfterMs);
    return {
      messageId: record.messageId,
      kind: 'retry',
      delaySeconds: Math.min(MAX_REDELIVERY_DELAY_SECONDS, delayMs / 1_000),
    };
  };
  const parsed = parseWebhookMessage(record.body);
  const endpoint = parsed.ok ? dependencies.endpoints.get(parsed.message.endpoint) : undefined;
  if (!parsed.ok || !endpoint) {
    const reason = parsed.ok ? `no webhook endpoint "${parsed.message.endpoint}"` : parsed.problem;
    return refuse(record, reason, dependencies, retry);
  }
  const { detail } = parsed.message;
  let outcome: DeliveryOutcome;
  try {
    outcome = await deliverWebhook({
      url: endpoint.url,
      secret: await dependencies.secretOf(endpoint.id),
      webhookId: detail.eventId,
      body: JSON.stringify(webhookPayload(detail)),
      timeoutMs: dependencies.timeoutMs,
    });
  } catch (error) {
    // The secret could not be read: retried like an endpoint that is down.
    outcome = { kind: 'retry', reason: String(describeError(error).message ?? error) };
  }
  const fields = { webhookId: detail.eventId, endpoint: endpoint.id, voiceId: detail.voiceId, receiveCount };
  if (outcome.kind === 'delivered') {
    dependencies.count?.('WebhooksDelivered');
    dependencies.log.info('webhook delivered', { ...fields, statusCode: outcome.statusCode });
    return undefined;
  }
  dependencies.count?.('WebhookDeliveriesFailed');
  if (outcome.kind === 'refused') return refuse(record, outcome.reason, dependencies, retry);
  dependencies.log.warn('webhook delivery failed; retried later', { ...fields, reason: outcome.reason });
  return retry(outcome.retryAfterMs);
}

async function refuse(
  record: SQSRecord,
  reason: string,
  dependencies: WebhookBatchDependencies,
  retry: () => Redelivery,
): Promise<Redelivery | undefined> {
  dependencies.count?.('WebhooksRefused');
  try {
    await dependencies.deadLetter(record, reason);
    dependencies.log.warn('webhook dead-lettered without retries', { messageId: record.messageId, reason });
    return undefined;
  } catch (error) {
    // Never dropped: when the dead letter cannot be written, the message stays on the queue.
    dependencies.log.error('could not dead-letter a webhook; it stays on the queue', {
      messageId: record.messageId,
      ...describeError(error),
    });
    return retry();
  }
}
