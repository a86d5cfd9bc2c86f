/**
 * The clone Lambda's work on one SQS batch: each message's uploads side by side, each decided by
 * upload-session.ts, and a redelivery plan for what did not finish (redelivery-policy.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { withinInvocationDeadline } from '../shared/aws-deadline';
import { describeError } from '../shared/logger';
import type { Redelivery, RedeliveryPlan } from '../shared/redelivery-plan';
import { deriveVoiceId } from '../shared/voices/record';
import { isResumable } from '../shared/voices/status';
import { type Attempt, type ClonePipelineDependencies, MINIMUM_TIME_FOR_A_MESSAGE_MS } from './dependencies';
import { redeliveryFor } from './redelivery-policy';
import {
  displayNameFromFileName,
  parseS3NotificationBody,
  routeUploadKey,
  type UploadedObject,
} from './s3-events';
import { UploadSession } from './upload-session';

/** Time kept back from the Lambda's deadline for the SQS calls that schedule redeliveries (clone/handler.ts). */
const REDELIVERY_RESERVE_MS = 3_000;

/**
 * The clone Lambda: SQS batches of S3 event notifications. Permanent problems are recorded on the voice
 * and the message is acknowledged (never retried, never dead-lettered); retryable ones are recorded and
 * the message is reported as a batch item failure, so SQS delivers it again and, after maxReceiveCount
 * deliveries, moves it to the dead-letter queue.
 */
export async function handleCloneEvent(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  dependencies: ClonePipelineDependencies,
): Promise<RedeliveryPlan> {
  // The messages of a batch are independent uploads: they run side by side, each waiting for its own
  // provider's slot, so one busy provider does not hold up another's uploads in the same batch. AWS calls
  // end early enough for the redelivery calls after them.
  const outcomes = await withinInvocationDeadline(context, REDELIVERY_RESERVE_MS, () =>
    Promise.all(
      event.Records.map(async (message): Promise<Redelivery | undefined> => {
        // Not enough time left for a clone: send the message again untouched rather than start and be cut
        // off. A requeue, not a failed delivery: it was never tried, so it must not count towards the DLQ.
        if (context.getRemainingTimeInMillis() < MINIMUM_TIME_FOR_A_MESSAGE_MS) {
          return { messageId: message.messageId, kind: 'requeue', delaySeconds: 0 };
        }
        return handleMessage(message, context, dependencies);
      }),
    ),
  );
  const redeliveries = outcomes.filter((outcome): outcome is Redelivery => outcome !== undefined);
  return {
    batchItemFailures: redeliveries.map((redelivery) => ({ itemIdentifier: redelivery.messageId })),
    redeliveries,
  };
}

async function handleMessage(
  message: SQSRecord,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  dependencies: ClonePipelineDependencies,
): Promise<Redelivery | undefined> {
  const { logger } = dependencies;
  const parsed = parseS3NotificationBody(message.body);
  if (parsed.kind === 'test-event') {
    logger.info('ignoring s3:TestEvent', { messageId: message.messageId });
    return undefined;
  }
  if (parsed.kind === 'malformed') {
    // Not an upload: nothing to record and nothing a retry could change.
    logger.error('ignoring a message that is not an S3 event notification', {
      messageId: message.messageId,
      reason: parsed.reason,
    });
    return undefined;
  }
  const receiveCount = receiveCountOf(message);
  const plans: Redelivery[] = [];
  for (const object of parsed.objects) {
    try {
      await processUpload(object, { receiveCount, context }, dependencies);
    } catch (error) {
      const plan = redeliveryFor(error, message.messageId, receiveCount, dependencies);
      plans.push(plan);
      const log = plan.kind === 'requeue' ? logger.info : logger.error;
      log.call(logger, plan.kind === 'requeue' ? 'upload waits in the queue' : 'upload will be retried', {
        messageId: message.messageId,
        bucket: object.bucket,
        key: object.key,
        receiveCount,
        delaySeconds: plan.delaySeconds,
        error: describeError(error),
      });
    }
  }
  if (plans.length === 0) return undefined;
  // One message, one decision: a requeue only when every unfinished upload in it merely waits for a slot.
  return {
    messageId: message.messageId,
    kind: plans.every((plan) => plan.kind === 'requeue') ? 'requeue' : 'retry',
    delaySeconds: Math.max(...plans.map((plan) => plan.delaySeconds)),
  };
}

/**
 * Which delivery of its message this is (SQS's ApproximateReceiveCount, from 1). An attribute that is
 * missing or not a whole number counts as a first delivery, never as NaN, which would never reach the
 * last delivery and so never record `failed` before the message moves to the dead-letter queue.
 */
export function receiveCountOf(message: Pick<SQSRecord, 'attributes'>): number {
  const count = Number(message.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

/** The voice record's lifecycle for one uploaded object version. Throws when the message should be retried. */
export async function processUpload(
  object: UploadedObject,
  attempt: Attempt,
  dependencies: ClonePipelineDependencies,
): Promise<void> {
  const { voices, logger } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const route = routeUploadKey(object.key, dependencies.defaultProvider);
  if (route.kind === 'ignore') {
    logger.info('ignoring object', { bucket: object.bucket, key: object.key, reason: route.reason });
    return;
  }
  const version = object.versionId ?? object.etag ?? object.sequencer ?? '';
  const voiceId = deriveVoiceId(object.bucket, object.key, version);
  const createdAt = now().toISOString();
  const { record: stored } = await voices.createIfAbsent({
    voiceId,
    status: 'received',
    provider: route.kind === 'upload' ? route.provider : route.folder,
    displayName: displayNameFromFileName(route.fileName),
    source: {
      bucket: object.bucket,
      key: object.key,
      versionId: object.versionId,
      etag: object.etag,
      bytes: object.size,
    },
    createdAt,
    updatedAt: createdAt,
    processing: {},
  });
  if (!isResumable(stored)) {
    logger.info('upload already processed', { voiceId, status: stored.status });
    return;
  }

  const token = randomUUID();
  const leaseUntil = now().getTime() + attempt.context.getRemainingTimeInMillis() + 5_000;
  const leased = await voices.acquireLease(voiceId, token, leaseUntil, now().getTime());
  if (!leased) {
    // Another delivery holds it; that delivery (or its retry after the lease ends) finishes the work.
    logger.info('upload is being processed by another delivery', { voiceId });
    return;
  }
  const session = new UploadSession(leased, token, attempt, dependencies);
  try {
    if (leased.status === 'cloning') await session.resumeCloning();
    else await session.validateAndClone(route);
  } catch (error) {
    await session.recordRetryableProblem(error);
    throw error;
  }
}
