import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsSettings } from '../../functions/shared/aws/config';
import { DynamoDocumentClient, VOICEDROP_MARSHALL_OPTIONS } from '../../functions/shared/aws/dynamodb';
import { AwsServiceError, isAwsError } from '../../functions/shared/aws/errors';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/servers';
import { startAwsLocal } from '../support/aws-local';
import { startSignatureCheckingServer } from '../support/signature-checking-server';

const TABLE = 'voices';
const INDEX = 'byCreatedAt';
let local: Awaited<ReturnType<typeof startAwsLocal>>;
let client: DynamoDocumentClient;
let sdkDocuments: DynamoDBDocumentClient;
let counter = 0;

beforeAll(async () => {
  local = await startAwsLocal({ bucket: 'thin-dynamodb-test', table: TABLE });
  const settings: AwsSettings = {
    region: LOCAL_REGION,
    endpoint: local.dynamoEndpoint,
    credentials: LOCAL_CREDENTIALS,
  };
  client = new DynamoDocumentClient(settings);
  sdkDocuments = DynamoDBDocumentClient.from(local.dynamo, { marshallOptions: VOICEDROP_MARSHALL_OPTIONS });
});

afterAll(async () => {
  await local?.stop();
});

function nextVoiceId(): string {
  counter += 1;
  return `v_thin_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Shaped like a voice record: nested maps, lists, numbers, booleans, binary, and undefined fields. */
function voiceLikeItem(voiceId: string) {
  return {
    voiceId,
    status: 'ready',
    provider: 'smallest',
    listPartition: 'voice',
    createdAt: '2026-11-21T10:00:00.000Z',
    updatedAt: '2026-11-21T10:00:05.000Z',
    displayName: 'Ünïcode voice ✓',
    description: undefined,
    source: {
      bucket: 'b',
      key: 'incoming/a b.wav',
      bytes: 1_234_567,
      durationSec: 12.5,
      sampleRate: 44_100,
      channels: 1,
      versionId: undefined,
    },
    samples: [
      { url: 'https://example.com/1.wav', seconds: 3.25, tags: ['a', 'b'] },
      { url: 'https://example.com/2.wav', seconds: 0, tags: [] },
    ],
    processing: { attempts: 2, leaseToken: null, retried: true, emptyMap: {} },
    flags: { consent: true, archived: false },
    fingerprint: new Uint8Array([0, 1, 2, 255]),
    chunks: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
    languages: new Set(['de', 'en']),
    ratings: new Set([1, 2.5]),
    negative: -42,
  };
}

function withoutUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_, inner) => (inner instanceof Uint8Array ? [...inner] : inner)));
}

describe('Class: DynamoDocumentClient (against a DynamoDB-compatible server)', () => {
  it('writes and reads back a voice-like item, leaving out undefined values', async () => {
    const item = voiceLikeItem(nextVoiceId());

    await client.put({ TableName: TABLE, Item: item });
    const { Item } = await client.get({
      TableName: TABLE,
      Key: { voiceId: item.voiceId },
      ConsistentRead: true,
    });

    expect(Item).toEqual({
      ...item,
      description: undefined,
      source: { ...item.source, versionId: undefined },
    });
    expect(Item).not.toHaveProperty('description');
    expect(Item?.source).not.toHaveProperty('versionId');
    expect(Item?.fingerprint).toEqual(new Uint8Array([0, 1, 2, 255]));
  });

  it('returns no Item for a key that is not there', async () => {
    expect(await client.get({ TableName: TABLE, Key: { voiceId: 'v_absent' } })).toEqual({});
  });

  it('throws ConditionalCheckFailedException when a conditional put finds the item', async () => {
    const item = voiceLikeItem(nextVoiceId());
    await client.put({ TableName: TABLE, Item: item, ConditionExpression: 'attribute_not_exists(voiceId)' });

    const error = await client
      .put({ TableName: TABLE, Item: item, ConditionExpression: 'attribute_not_exists(voiceId)' })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(AwsServiceError);
    expect(isAwsError(error, 'ConditionalCheckFailedException')).toBe(true);
    expect(error).toMatchObject({ statusCode: 400, retryable: false, service: 'dynamodb' });
  });

  it('updates with SET and REMOVE and returns the new item with ReturnValues ALL_NEW', async () => {
    const item = voiceLikeItem(nextVoiceId());
    await client.put({ TableName: TABLE, Item: item });

    const { Attributes } = await client.update({
      TableName: TABLE,
      Key: { voiceId: item.voiceId },
      UpdateExpression:
        'SET #status = :status, processing.attempts = processing.attempts + :one, #result = :result REMOVE flags, displayName',
      ConditionExpression: '#status = :from',
      ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
      ExpressionAttributeValues: {
        ':status': 'deleting',
        ':from': 'ready',
        ':one': 1,
        ':result': { providerVoiceId: 'pv_1', ignored: undefined, scores: [0.5, 1] },
      },
      ReturnValues: 'ALL_NEW',
    });

    expect(Attributes).toMatchObject({
      voiceId: item.voiceId,
      status: 'deleting',
      processing: { attempts: 3, leaseToken: null, retried: true },
      result: { providerVoiceId: 'pv_1', scores: [0.5, 1] },
    });
    expect(Attributes).not.toHaveProperty('flags');
    expect(Attributes).not.toHaveProperty('displayName');
    expect(Attributes?.result).not.toHaveProperty('ignored');
  });

  it('returns no Attributes when ReturnValues is not asked for', async () => {
    const item = voiceLikeItem(nextVoiceId());
    await client.put({ TableName: TABLE, Item: item });

    const output = await client.update({
      TableName: TABLE,
      Key: { voiceId: item.voiceId },
      UpdateExpression: 'SET #status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':status': 'failed' },
    });

    expect(output).toEqual({});
  });

  it('queries the byCreatedAt index page by page with Limit and ExclusiveStartKey', async () => {
    const partition = `thin-${nextVoiceId()}`;
    const ids: string[] = [];
    for (let minute = 0; minute < 5; minute += 1) {
      const voiceId = nextVoiceId();
      ids.push(voiceId);
      await client.put({
        TableName: TABLE,
        Item: {
          ...voiceLikeItem(voiceId),
          listPartition: partition,
          createdAt: `2026-11-21T10:0${minute}:00.000Z`,
        },
      });
    }

    const pages: string[][] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.query({
        TableName: TABLE,
        IndexName: INDEX,
        KeyConditionExpression: 'listPartition = :partition',
        FilterExpression: undefined,
        ExpressionAttributeValues: { ':partition': partition },
        ScanIndexForward: false,
        Limit: 2,
        ExclusiveStartKey: startKey,
      });
      pages.push(page.Items.map((found) => found.voiceId as string));
      startKey = page.LastEvaluatedKey;
      if (startKey) expect(Object.keys(startKey).sort()).toEqual(['createdAt', 'listPartition', 'voiceId']);
    } while (startKey);

    expect(pages.flat()).toEqual([...ids].reverse());
    expect(pages[0]).toHaveLength(2);
    expect(pages[1]).toHaveLength(2);
  });

  it('filters and projects a query', async () => {
    const partition = `thin-${nextVoiceId()}`;
    const kept = nextVoiceId();
    await client.put({ TableName: TABLE, Item: { ...voiceLikeItem(kept), listPartition: partition } });
    await client.put({
      TableName: TABLE,
      Item: { ...voiceLikeItem(nextVoiceId()), listPartition: partition, provider: 'typecast' },
    });

    const page = await client.query({
      TableName: TABLE,
      IndexName: INDEX,
      KeyConditionExpression: 'listPartition = :partition',
      FilterExpression: '#provider = :provider',
      ExpressionAttributeNames: { '#provider': 'provider' },
      ExpressionAttributeValues: { ':partition': partition, ':provider': 'smallest' },
      ProjectionExpression: 'voiceId',
    });

    expect(page.Items).toEqual([{ voiceId: kept }]);
    expect(page.Count).toBe(1);
    expect(page.ScannedCount).toBe(2);
  });

  it('deletes with a condition, and refuses when the condition fails', async () => {
    const item = voiceLikeItem(nextVoiceId());
    await client.put({ TableName: TABLE, Item: item });
    const condition = {
      ConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': 'status' },
    };

    const refused = await client
      .delete({
        TableName: TABLE,
        Key: { voiceId: item.voiceId },
        ...condition,
        ExpressionAttributeValues: { ':status': 'deleting' },
      })
      .catch((caught: unknown) => caught);
    expect(isAwsError(refused, 'ConditionalCheckFailedException')).toBe(true);

    const deleted = await client.delete({
      TableName: TABLE,
      Key: { voiceId: item.voiceId },
      ...condition,
      ExpressionAttributeValues: { ':status': 'ready' },
      ReturnValues: 'ALL_OLD',
    });
    expect(deleted.Attributes?.voiceId).toBe(item.voiceId);
    expect(await client.get({ TableName: TABLE, Key: { voiceId: item.voiceId } })).toEqual({});
  });

  it('throws ResourceNotFoundException for a table that does not exist', async () => {
    const error = await client
      .get({ TableName: 'no-such-table', Key: { voiceId: 'x' } })
      .catch((caught: unknown) => caught);

    expect(isAwsError(error, 'ResourceNotFoundException')).toBe(true);
  });
});

describe('Parity with @aws-sdk/lib-dynamodb', () => {
  it('reads back with the SDK what it wrote, and the other way round', async () => {
    const ours = voiceLikeItem(nextVoiceId());
    const theirs = voiceLikeItem(nextVoiceId());

    await client.put({ TableName: TABLE, Item: ours });
    await sdkDocuments.send(new PutCommand({ TableName: TABLE, Item: theirs }));
    const readBySdk = await sdkDocuments.send(
      new GetCommand({ TableName: TABLE, Key: { voiceId: ours.voiceId } }),
    );
    const readByUs = await client.get({ TableName: TABLE, Key: { voiceId: theirs.voiceId } });
    const ourCopy = await client.get({ TableName: TABLE, Key: { voiceId: ours.voiceId } });

    expect(readBySdk.Item).toEqual(ourCopy.Item);
    expect(withoutUndefined(readByUs.Item)).toEqual(withoutUndefined({ ...ours, voiceId: theirs.voiceId }));
  });

  it('returns the same Attributes, Items and LastEvaluatedKey as the SDK', async () => {
    const partition = `thin-${nextVoiceId()}`;
    for (let minute = 0; minute < 3; minute += 1) {
      await client.put({
        TableName: TABLE,
        Item: {
          ...voiceLikeItem(nextVoiceId()),
          listPartition: partition,
          createdAt: `2026-11-21T11:0${minute}:00Z`,
        },
      });
    }
    const query = {
      TableName: TABLE,
      IndexName: INDEX,
      KeyConditionExpression: 'listPartition = :partition',
      ExpressionAttributeValues: { ':partition': partition },
      Limit: 2,
    };
    const ourPage = await client.query(query);
    const sdkPage = await sdkDocuments.send(new QueryCommand(query));
    expect(ourPage.Items).toEqual(sdkPage.Items);
    expect(ourPage.LastEvaluatedKey).toEqual(sdkPage.LastEvaluatedKey);
    const ourNext = await client.query({ ...query, ExclusiveStartKey: ourPage.LastEvaluatedKey });
    const sdkNext = await sdkDocuments.send(
      new QueryCommand({ ...query, ExclusiveStartKey: sdkPage.LastEvaluatedKey }),
    );
    expect(ourNext.Items).toEqual(sdkNext.Items);

    const voiceId = ourPage.Items[0]?.voiceId as string;
    const update = {
      TableName: TABLE,
      Key: { voiceId },
      UpdateExpression: 'SET processing.note = :note',
      ExpressionAttributeValues: { ':note': { at: 1, tags: ['x'] } },
      ReturnValues: 'ALL_NEW' as const,
    };
    const ourUpdate = await client.update(update);
    const sdkUpdate = await sdkDocuments.send(new UpdateCommand(update));
    expect(ourUpdate.Attributes).toEqual(sdkUpdate.Attributes);
  });

  it('puts the same JSON on the wire as the SDK, operation by operation', async () => {
    const credentials = { accessKeyId: 'AKIDDYNAMO', secretAccessKey: 'dynamo-secret' };
    const wire = await startSignatureCheckingServer({ credentials });
    const sdkClient = new DynamoDBClient({ region: 'eu-central-1', endpoint: wire.endpoint, credentials });
    const sdk = DynamoDBDocumentClient.from(sdkClient, { marshallOptions: VOICEDROP_MARSHALL_OPTIONS });
    const ourClient = new DynamoDocumentClient({
      region: 'eu-central-1',
      endpoint: wire.endpoint,
      credentials,
    });
    const item = voiceLikeItem('v_wire');
    const key = { voiceId: 'v_wire' };
    const values = { ':status': 'ready', ':list': [1, 'two', { three: true }], ':gone': undefined };
    try {
      await sdk.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }));
      await ourClient.get({ TableName: TABLE, Key: key, ConsistentRead: true });
      await sdk.send(
        new PutCommand({
          TableName: TABLE,
          Item: item,
          ConditionExpression: 'attribute_not_exists(voiceId)',
        }),
      );
      await ourClient.put({
        TableName: TABLE,
        Item: item,
        ConditionExpression: 'attribute_not_exists(voiceId)',
      });
      const update = {
        TableName: TABLE,
        Key: key,
        UpdateExpression: 'SET #s = :status, l = :list',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW' as const,
      };
      await sdk.send(new UpdateCommand(update));
      await ourClient.update(update);
      const query = {
        TableName: TABLE,
        IndexName: INDEX,
        KeyConditionExpression: 'listPartition = :p',
        ExpressionAttributeValues: { ':p': 'voice' },
        ExclusiveStartKey: { voiceId: 'v1', listPartition: 'voice', createdAt: '2026' },
        ScanIndexForward: false,
        Limit: 10,
      };
      await sdk.send(new QueryCommand(query));
      await ourClient.query(query);
      await sdk.send(new DeleteCommand({ TableName: TABLE, Key: key }));
      await ourClient.delete({ TableName: TABLE, Key: key });
    } finally {
      sdkClient.destroy();
      await wire.close();
    }

    expect(wire.requests).toHaveLength(10);
    for (let index = 0; index < wire.requests.length; index += 2) {
      const fromSdk = wire.requests[index];
      const fromUs = wire.requests[index + 1];
      expect(fromSdk?.signatureProblem).toBeUndefined();
      expect(fromUs?.signatureProblem).toBeUndefined();
      expect(fromUs?.headers['x-amz-target']).toBe(fromSdk?.headers['x-amz-target']);
      expect(fromUs?.headers['content-type']).toBe(fromSdk?.headers['content-type']);
      expect(fromUs?.service).toBe('dynamodb');
      expect(fromUs?.json).toEqual(fromSdk?.json);
    }
  });
});
