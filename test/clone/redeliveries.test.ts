import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { receiveCountOf } from '../../functions/clone/batch';
import { ProviderBusyError, redeliveryFor, WaitInQueueError } from '../../functions/clone/redelivery-policy';
import { silentLog } from '../../functions/shared/logger';
import { ProviderError } from '../../functions/shared/providers/errors';
import { applyRedeliveries, queueUrlFromArn } from '../../functions/shared/sqs-redeliveries';
import { sqsRecord } from '../support/aws-local';

// SQS has no local implementation here: the client is mocked (aws-sdk-client-mock) to check the calls.
const sqsMock = mockClient(SQSClient);
const ARN = 'arn:aws:sqs:eu-west-1:123456789012:voicedrop-CloneQueue';
const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/voicedrop-CloneQueue';

const record = (id: string) => ({ ...sqsRecord(`{"body":"${id}"}`), messageId: id, eventSourceARN: ARN });

describe('applyRedeliveries (the clone handler on SQS)', () => {
  beforeEach(() => sqsMock.reset());

  it('sets a failed message visible again after its planned delay, instead of the 30-minute timeout', async () => {
    const failed = record('m1');
    const response = await applyRedeliveries(
      new SQSClient({ region: 'eu-west-1' }),
      [failed],
      {
        batchItemFailures: [{ itemIdentifier: 'm1' }],
        redeliveries: [{ messageId: 'm1', kind: 'retry', delaySeconds: 12.6 }],
      },
      silentLog,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: URL,
      ReceiptHandle: failed.receiptHandle,
      VisibilityTimeout: 13,
    });
  });

  it('requeues a message that waits for a provider slot and acknowledges the original', async () => {
    const waiting = record('m2');
    const response = await applyRedeliveries(
      new SQSClient({ region: 'eu-west-1' }),
      [waiting, record('m3')],
      {
        batchItemFailures: [{ itemIdentifier: 'm2' }],
        redeliveries: [{ messageId: 'm2', kind: 'requeue', delaySeconds: 7 }],
      },
      silentLog,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sqsMock.commandCalls(SendMessageCommand)[0]?.args[0].input).toEqual({
      QueueUrl: URL,
      MessageBody: waiting.body,
      DelaySeconds: 7,
    });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });

  it('keeps the message as a failure when the requeue cannot be sent: late, never lost', async () => {
    sqsMock.on(SendMessageCommand).rejects(new Error('throttled'));
    sqsMock.on(ChangeMessageVisibilityCommand).rejects(new Error('throttled'));
    const response = await applyRedeliveries(
      new SQSClient({ region: 'eu-west-1' }),
      [record('m4')],
      {
        batchItemFailures: [{ itemIdentifier: 'm4' }],
        redeliveries: [{ messageId: 'm4', kind: 'requeue', delaySeconds: 5 }],
      },
      silentLog,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm4' }] });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(1);
  });

  it('derives queue URLs from event-source ARNs, China partition included', () => {
    expect(queueUrlFromArn(ARN)).toBe(URL);
    expect(queueUrlFromArn('arn:aws-cn:sqs:cn-north-1:123456789012:q')).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
    );
    expect(() => queueUrlFromArn('arn:aws:sns:eu-west-1:1:t')).toThrow(/Not an SQS queue ARN/);
  });
});

describe('redeliveryFor (when a message is seen again)', () => {
  const backoff = { retryBackoff: { baseSeconds: 10, maxSeconds: 900 } };

  it('backs off exponentially with jitter, capped', () => {
    for (let delivery = 1; delivery <= 12; delivery += 1) {
      const { kind, delaySeconds } = redeliveryFor(new Error('boom'), 'm', delivery, backoff);
      const ceiling = Math.min(900, 10 * 2 ** (delivery - 1));
      expect(kind).toBe('retry');
      expect(delaySeconds).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delaySeconds).toBeLessThanOrEqual(ceiling);
    }
  });

  it("waits at least as long as the provider's Retry-After", () => {
    const limited = new ProviderError({
      provider: 'typecast',
      kind: 'rate_limited',
      message: 'Too many requests',
      statusCode: 429,
      retryAfterMs: 120_000,
    });
    expect(redeliveryFor(limited, 'm', 1, backoff).delaySeconds).toBe(120);
  });

  it('requeues uploads that only wait (busy provider, pending lost answer) with their own delay', () => {
    expect(redeliveryFor(new ProviderBusyError('smallest', 1, 6), 'm', 7, backoff)).toEqual({
      messageId: 'm',
      kind: 'requeue',
      delaySeconds: 6,
    });
    expect(redeliveryFor(new WaitInQueueError('clone_pending', 'later', 3), 'm', 1, backoff).kind).toBe(
      'requeue',
    );
  });
});

describe('receiveCountOf (which delivery of its message this is)', () => {
  it('reads ApproximateReceiveCount, and counts a missing or malformed one as a first delivery', () => {
    const withCount = (count?: string) =>
      ({ attributes: count === undefined ? undefined : { ApproximateReceiveCount: count } }) as never;

    expect(receiveCountOf(withCount('8'))).toBe(8);
    expect(receiveCountOf(withCount())).toBe(1);
    expect(receiveCountOf(withCount('eight'))).toBe(1);
    expect(receiveCountOf(withCount(''))).toBe(1);
    expect(receiveCountOf(withCount('2.5'))).toBe(1);
  });
});
