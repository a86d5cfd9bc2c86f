import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describeError, type Log } from './logger';
import { MAX_REDELIVERY_DELAY_SECONDS, type RedeliveryPlan } from './redelivery-plan';

/**
 * Applies the handler's redelivery plan on SQS. A failed message would otherwise wait out the queue's
 * visibility timeout (30 minutes, six times the function's); its visibility is set to the planned delay
 * instead. A requeued message (waiting for a provider slot) is sent again with that delay and leaves the
 * batch item failures, so it does not use up a delivery. When an SQS call fails the message simply stays
 * a batch item failure: later than planned, never lost.
 */
export async function applyRedeliveries(
  sqs: SQSClient,
  records: readonly SQSRecord[],
  result: RedeliveryPlan,
  logger: Log,
): Promise<SQSBatchResponse> {
  const byId = new Map(records.map((record) => [record.messageId, record]));
  const failures = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
  /** Sends one SQS call for a message; a failure is logged, and the message stays a batch item failure. */
  const attempt = async (call: () => Promise<unknown>, record: SQSRecord, warning: string) => {
    try {
      await call();
      return true;
    } catch (error) {
      logger.warn(warning, { messageId: record.messageId, error: describeError(error) });
      return false;
    }
  };
  await Promise.all(
    result.redeliveries.map(async (redelivery) => {
      const record = byId.get(redelivery.messageId);
      if (!record) return;
      const queueUrl = queueUrlFromArn(record.eventSourceARN);
      const delaySeconds = Math.min(MAX_REDELIVERY_DELAY_SECONDS, Math.round(redelivery.delaySeconds));
      if (
        redelivery.kind === 'requeue' &&
        (await attempt(
          () =>
            sqs.send(
              new SendMessageCommand({
                QueueUrl: queueUrl,
                MessageBody: record.body,
                DelaySeconds: delaySeconds,
              }),
            ),
          record,
          'could not requeue; the message is retried as a failed delivery instead',
        ))
      ) {
        failures.delete(record.messageId);
        return;
      }
      await attempt(
        () =>
          sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: record.receiptHandle,
              VisibilityTimeout: delaySeconds,
            }),
          ),
        record,
        'could not schedule the redelivery; the queue redelivers after its visibility timeout',
      );
    }),
  );
  return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** `arn:aws:sqs:<region>:<account>:<name>` → the queue URL (SQS accepts it in every partition's endpoint). */
export function queueUrlFromArn(arn: string): string {
  const [, partition, service, region, account, name] = arn.split(':');
  if (service !== 'sqs' || !region || !account || !name) throw new Error(`Not an SQS queue ARN: ${arn}`);
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
