import { beforeEach, describe, expect, it } from 'vitest';
import { ProviderBusyError, redeliveryFor, WaitInQueueError } from '../../functions/clone/core';
import { applyRedeliveries, queueUrlFromArn } from '../../functions/clone/redeliveries';
import type { AwsSettings } from '../../functions/shared/aws/config';
import { silentLog } from '../../functions/shared/logger';
import { ProviderError } from '../../functions/shared/providers/errors';
import { sqsRecord } from '../support/aws-local';
import {
  type ReceivedRequest,
  type SignatureCheckingServer,
  useSignatureCheckingServer,
} from '../support/signature-checking-server';

// SQS has no local implementation here: a stub server checks each request's signature, records the
// calls and answers like SQS's JSON protocol.
const credentials = { accessKeyId: 'AKIDREDELIVER', secretAccessKey: 'sqs-secret', sessionToken: 'token' };
let server: SignatureCheckingServer;
let sqs: AwsSettings;

useSignatureCheckingServer({ credentials, region: 'eu-west-1' }, (started, startedSettings) => {
  server = started;
  sqs = startedSettings;
});

/** The inputs of the calls the stub received for `operation` (`SendMessage`, …), all correctly signed. */
function inputsOf(operation: string): unknown[] {
  const calls = server.requests.filter(
    (request: ReceivedRequest) => request.headers['x-amz-target'] === `AmazonSQS.${operation}`,
  );
  for (const call of calls) expect(call.signatureProblem).toBeUndefined();
  return calls.map((call) => call.json);
}
const ARN = 'arn:aws:sqs:eu-west-1:123456789012:voicedrop-CloneQueue';
const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/voicedrop-CloneQueue';

const record = (id: string) => ({ ...sqsRecord(`{"body":"${id}"}`), messageId: id, eventSourceARN: ARN });

describe('applyRedeliveries (the clone handler on SQS)', () => {
  beforeEach(() => {
    server.requests.length = 0;
    server.answer(() => ({ body: {} }));
  });

  it('sets a failed message visible again after its planned delay, instead of the 30-minute timeout', async () => {
    const failed = record('m1');
    const response = await applyRedeliveries(
      sqs,
      [failed],
      {
        batchItemFailures: [{ itemIdentifier: 'm1' }],
        redeliveries: [{ messageId: 'm1', kind: 'retry', delaySeconds: 12.6 }],
      },
      silentLog,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(inputsOf('ChangeMessageVisibility')[0]).toEqual({
      QueueUrl: URL,
      ReceiptHandle: failed.receiptHandle,
      VisibilityTimeout: 13,
    });
  });

  it('requeues a message that waits for a provider slot and acknowledges the original', async () => {
    const waiting = record('m2');
    const response = await applyRedeliveries(
      sqs,
      [waiting, record('m3')],
      {
        batchItemFailures: [{ itemIdentifier: 'm2' }],
        redeliveries: [{ messageId: 'm2', kind: 'requeue', delaySeconds: 7 }],
      },
      silentLog,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(inputsOf('SendMessage')[0]).toEqual({
      QueueUrl: URL,
      MessageBody: waiting.body,
      DelaySeconds: 7,
    });
    expect(inputsOf('ChangeMessageVisibility')).toHaveLength(0);
  });

  it('keeps the message as a failure when the requeue cannot be sent: late, never lost', async () => {
    // Refused outright (not retryable), whichever call it is.
    server.answer(() => ({
      status: 403,
      body: { __type: 'com.amazonaws.sqs#AccessDenied', message: 'Access to the resource is denied.' },
    }));
    const response = await applyRedeliveries(
      sqs,
      [record('m4')],
      {
        batchItemFailures: [{ itemIdentifier: 'm4' }],
        redeliveries: [{ messageId: 'm4', kind: 'requeue', delaySeconds: 5 }],
      },
      silentLog,
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm4' }] });
    expect(inputsOf('ChangeMessageVisibility')).toHaveLength(1);
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
