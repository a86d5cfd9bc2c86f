import { createHash } from 'node:crypto';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsSettings } from '../../functions/shared/aws/config';
import { AwsServiceError } from '../../functions/shared/aws/errors';
import { changeMessageVisibility, sendMessage } from '../../functions/shared/aws/sqs';
import {
  type ReceivedRequest,
  type Reply,
  type SignatureCheckingServer,
  useSignatureCheckingServer,
} from '../support/signature-checking-server';

const credentials = { accessKeyId: 'AKIDSQS', secretAccessKey: 'sqs-secret', sessionToken: 'sqs-session' };
let server: SignatureCheckingServer;
let settings: AwsSettings;
let queueUrl: string;

/** Answers SendMessage and ChangeMessageVisibility as SQS's JSON protocol does, for one queue. */
function sqs(request: ReceivedRequest): Reply {
  const input = request.json as { QueueUrl?: string; MessageBody?: string; ReceiptHandle?: string };
  if (input.QueueUrl !== queueUrl) {
    return {
      status: 400,
      headers: { 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' },
      body: { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' },
    };
  }
  switch (request.headers['x-amz-target']) {
    case 'AmazonSQS.SendMessage':
      return {
        body: {
          MessageId: '5fea7756-0ea4-451a-a703-a558b933e274',
          MD5OfMessageBody: createHash('md5')
            .update(input.MessageBody ?? '')
            .digest('hex'),
        },
      };
    case 'AmazonSQS.ChangeMessageVisibility':
      if (input.ReceiptHandle === 'expired') {
        return {
          status: 400,
          body: {
            __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid',
            message: 'The receipt handle has expired.',
          },
        };
      }
      return { body: {} };
    default:
      return { status: 400, body: { __type: 'com.amazonaws.sqs#InvalidAction' } };
  }
}

useSignatureCheckingServer({ credentials, region: 'eu-central-1' }, (started, startedSettings) => {
  server = started;
  settings = startedSettings;
  queueUrl = `${started.endpoint}/123456789012/voicedrop-clone`;
});

beforeEach(() => {
  server.requests.length = 0;
  server.answer(sqs);
});

describe('Function: sendMessage', () => {
  it('sends a signed AmazonSQS.SendMessage call in the JSON protocol', async () => {
    const output = await sendMessage(settings, { queueUrl, body: '{"Records":[]}', delaySeconds: 120 });

    expect(output.messageId).toBe('5fea7756-0ea4-451a-a703-a558b933e274');
    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/',
      service: 'sqs',
      region: 'eu-central-1',
      signatureProblem: undefined,
      json: { QueueUrl: queueUrl, MessageBody: '{"Records":[]}', DelaySeconds: 120 },
    });
    expect(request?.headers).toMatchObject({
      'x-amz-target': 'AmazonSQS.SendMessage',
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-mode': 'true',
      'x-amz-security-token': 'sqs-session',
    });
  });

  it('leaves DelaySeconds out when none is given', async () => {
    await sendMessage(settings, { queueUrl, body: 'hello' });

    expect(server.requests[0]?.json).toEqual({ QueueUrl: queueUrl, MessageBody: 'hello' });
  });

  it('sends what the AWS SDK sends', async () => {
    const sdk = new SQSClient({ region: 'eu-central-1', endpoint: server.endpoint, credentials });
    try {
      await sdk.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'body ✓', DelaySeconds: 5 }));
      await sdk.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: 'handle',
          VisibilityTimeout: 30,
        }),
      );
    } finally {
      sdk.destroy();
    }
    await sendMessage(settings, { queueUrl, body: 'body ✓', delaySeconds: 5 });
    await changeMessageVisibility(settings, { queueUrl, receiptHandle: 'handle', visibilityTimeout: 30 });

    const [sdkSend, sdkChange, ourSend, ourChange] = server.requests;
    for (const [fromSdk, fromUs] of [
      [sdkSend, ourSend],
      [sdkChange, ourChange],
    ]) {
      expect(fromSdk?.signatureProblem).toBeUndefined();
      expect(fromUs?.json).toEqual(fromSdk?.json);
      expect(fromUs?.path).toBe(fromSdk?.path);
      expect(fromUs?.service).toBe(fromSdk?.service);
      for (const header of ['x-amz-target', 'content-type', 'x-amzn-query-mode']) {
        expect(fromUs?.headers[header]).toBe(fromSdk?.headers[header]);
      }
    }
  });

  it('throws QueueDoesNotExist for an unknown queue, without retrying', async () => {
    const error = await sendMessage(settings, { queueUrl: `${queueUrl}-gone`, body: 'x' }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      name: 'QueueDoesNotExist',
      message: 'The specified queue does not exist.',
      statusCode: 400,
      retryable: false,
      service: 'sqs',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('retries throttling and then sends', async () => {
    server.answer((request, index) =>
      index === 0
        ? { status: 400, body: { __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' } }
        : sqs(request),
    );

    expect((await sendMessage(settings, { queueUrl, body: 'x' })).messageId).toBeDefined();
    expect(server.requests).toHaveLength(2);
  });
});

describe('Function: changeMessageVisibility', () => {
  it('sends a signed AmazonSQS.ChangeMessageVisibility call', async () => {
    await changeMessageVisibility(settings, { queueUrl, receiptHandle: 'handle-1', visibilityTimeout: 300 });

    const [request] = server.requests;
    expect(request?.signatureProblem).toBeUndefined();
    expect(request?.headers['x-amz-target']).toBe('AmazonSQS.ChangeMessageVisibility');
    expect(request?.json).toEqual({ QueueUrl: queueUrl, ReceiptHandle: 'handle-1', VisibilityTimeout: 300 });
  });

  it('throws ReceiptHandleIsInvalid for an expired receipt handle', async () => {
    const error = await changeMessageVisibility(settings, {
      queueUrl,
      receiptHandle: 'expired',
      visibilityTimeout: 10,
    }).catch((caught: unknown) => caught);

    expect(error).toMatchObject({ name: 'ReceiptHandleIsInvalid', statusCode: 400 });
  });
});
