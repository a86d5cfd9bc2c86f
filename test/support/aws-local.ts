import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { encodeS3EventKey } from '../../functions/clone/s3-events';
import {
  ensureVoicesTable,
  localDynamoClient,
  localS3Client,
  startLocalDynamo,
  startLocalS3,
} from '../../local/servers';

/** Real S3- and DynamoDB-compatible servers on port 0, in a temporary folder removed on stop. */
export async function startAwsLocal(options: { bucket: string; table: string }) {
  const directory = mkdtempSync(join(tmpdir(), 'voicedrop-test-'));
  const dynamo = await startLocalDynamo({ port: 0 });
  const s3 = await startLocalS3({ port: 0, directory: join(directory, 's3'), bucket: options.bucket });
  const dynamoClient = localDynamoClient(dynamo.endpoint);
  await ensureVoicesTable(dynamoClient, options.table);
  const s3Client = localS3Client(s3.endpoint);
  return {
    directory,
    s3: s3Client,
    s3Server: s3.server,
    dynamo: dynamoClient,
    s3Endpoint: s3.endpoint,
    dynamoEndpoint: dynamo.endpoint,
    async stop() {
      s3Client.destroy();
      dynamoClient.destroy();
      await s3.close();
      await dynamo.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
}

let messageNumber = 0;

/**
 * An SQS record carrying an S3 ObjectCreated notification exactly as AWS sends it: the key
 * form-URL-encoded (`+` for space, `%xx` for non-ASCII), the ETag without quotes.
 */
export function s3NotificationRecord(object: {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  versionId?: string;
  receiveCount?: number;
}): SQSRecord {
  messageNumber += 1;
  const body = JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'incoming',
          bucket: { name: object.bucket, arn: `arn:aws:s3:::${object.bucket}` },
          object: {
            key: encodeS3EventKey(object.key),
            size: object.size,
            eTag: object.etag.replace(/"/g, ''),
            ...(object.versionId ? { versionId: object.versionId } : {}),
            sequencer: `00${messageNumber.toString(16).padStart(14, '0')}`,
          },
        },
      },
    ],
  });
  return sqsRecord(body, object.receiveCount ?? 1);
}

export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  messageNumber += 1;
  return {
    messageId: `message-${messageNumber}`,
    receiptHandle: `handle-${messageNumber}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:voicedrop-clone',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context with `seconds` left. */
export function lambdaContext(seconds = 300) {
  const deadline = Date.now() + seconds * 1000;
  return { awsRequestId: 'test-request', getRemainingTimeInMillis: () => deadline - Date.now() };
}
