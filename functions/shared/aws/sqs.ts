import type { AwsSettings } from './config';
import type { AwsCallOptions } from './http';
import { jsonRpc } from './json-rpc';

/**
 * SQS over its JSON protocol (AWS JSON 1.0, target prefix `AmazonSQS`), as the AWS SDK v3 speaks it.
 * Requests go to the regional endpoint `https://sqs.<region>.amazonaws.com/` (or the settings'
 * endpoint); the queue is named by `QueueUrl` in the body. `x-amzn-query-mode: true` asks SQS for the
 * JSON error shape that also carries the old query-protocol code (`x-amzn-query-error`), as the SDK does.
 * Errors are named by their JSON `__type` (`QueueDoesNotExist`, `InvalidParameterValue`, …).
 */
function sqsCall<Output>(
  settings: AwsSettings,
  operation: string,
  input: object,
  options: AwsCallOptions,
): Promise<Output> {
  return jsonRpc<Output>(
    settings,
    {
      service: 'sqs',
      hostPrefix: 'sqs',
      target: `AmazonSQS.${operation}`,
      jsonVersion: '1.0',
      input,
      headers: { 'x-amzn-query-mode': 'true' },
    },
    options,
  );
}

export interface SendMessageInput {
  readonly queueUrl: string;
  readonly body: string;
  /** Seconds before the message becomes visible, 0–900. @default the queue's delay */
  readonly delaySeconds?: number;
}

export interface SendMessageOutput {
  readonly messageId: string | undefined;
}

export async function sendMessage(
  settings: AwsSettings,
  input: SendMessageInput,
  options: AwsCallOptions = {},
): Promise<SendMessageOutput> {
  const output = await sqsCall<{ MessageId?: string }>(
    settings,
    'SendMessage',
    { QueueUrl: input.queueUrl, MessageBody: input.body, DelaySeconds: input.delaySeconds },
    options,
  );
  return { messageId: output.MessageId };
}

export interface ChangeMessageVisibilityInput {
  readonly queueUrl: string;
  readonly receiptHandle: string;
  /** Seconds from now until the message is delivered again, 0–43200. */
  readonly visibilityTimeout: number;
}

export async function changeMessageVisibility(
  settings: AwsSettings,
  input: ChangeMessageVisibilityInput,
  options: AwsCallOptions = {},
): Promise<void> {
  await sqsCall<unknown>(
    settings,
    'ChangeMessageVisibility',
    {
      QueueUrl: input.queueUrl,
      ReceiptHandle: input.receiptHandle,
      VisibilityTimeout: input.visibilityTimeout,
    },
    options,
  );
}
