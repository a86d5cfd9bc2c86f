import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApiDependencies } from '../../functions/api/app';
import { handleCloneEvent } from '../../functions/clone/batch';
import { createStaticKeyStore, type KeyStore } from '../../functions/shared/keys';
import { silentLog } from '../../functions/shared/logger';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { DOCUMENT_TRANSLATION, VoiceRepository } from '../../functions/shared/voices/repository';
import {
  type SmallestSimulator,
  type SmallestSimulatorOptions,
  startSmallestSimulator,
  startTypecastSimulator,
  type TypecastSimulator,
  type TypecastSimulatorOptions,
} from '../../simulators';
import { makeWav } from './audio';
import { lambdaContext, s3NotificationRecord, sqsEvent, startAwsLocal } from './aws-local';
import {
  SIMULATOR_KEYS,
  TEST_DEFAULT_MODELS,
  testCloneDependencies,
  testProviders,
} from './clone-dependencies';

/**
 * Real S3 and DynamoDB servers, both provider simulators and the clone pipeline wired to them: enough to
 * make voices the way production does, for tests of what comes after cloning.
 */
export async function startPipelineFixture(
  options: {
    bucket?: string;
    table?: string;
    /** Simulator options over the fixture's own (generous clone slots). */
    simulators?: { smallest?: SmallestSimulatorOptions; typecast?: TypecastSimulatorOptions };
  } = {},
) {
  const bucket = options.bucket ?? 'uploads';
  const table = options.table ?? 'voices';
  const local = await startAwsLocal({ bucket, table });
  const smallest: SmallestSimulator = await startSmallestSimulator({
    cloneSlots: 1_000,
    ...options.simulators?.smallest,
  });
  const typecast: TypecastSimulator = await startTypecastSimulator({
    cloneSlots: 1_000,
    ...options.simulators?.typecast,
  });
  const voices = new VoiceRepository(local.dynamo, table);
  const keys = createStaticKeyStore(SIMULATOR_KEYS, 'the test');
  const providersWith = (keyStore: KeyStore, retry = { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100 }) =>
    testProviders({
      urls: { smallest: smallest.url, typecast: typecast.url },
      keys: keyStore,
      timeoutMs: 5_000,
      retry,
    });
  const providers = providersWith(keys);
  const cloneDependencies = testCloneDependencies({ s3: local.s3, voices, providers, keys });
  let sampleNumber = 0;

  /** Uploads `audio` (or a distinct sample) to `key` and runs the clone handler on its event. */
  const cloneVoice = async (key: string, audio?: Uint8Array, metadata: Record<string, string> = {}) => {
    sampleNumber += 1;
    const body = audio ?? makeWav({ durationSec: 6 + sampleNumber * 0.01, sampleRate: 16_000 });
    await local.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Metadata: metadata }));
    const head = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const etag = (head.ETag ?? '').replace(/"/g, '');
    await handleCloneEvent(
      sqsEvent(s3NotificationRecord({ bucket, key, size: body.length, etag })),
      lambdaContext(),
      cloneDependencies,
    );
    return deriveVoiceId(bucket, key, etag);
  };

  /**
   * Sets attributes of a record behind the status machine's back, as test set-up only (pointing a voice
   * at another clone, say): no status moves this way.
   */
  // With the repository's translation: DynamoDBDocumentClient.from stores its options on the shared client.
  const documents = DynamoDBDocumentClient.from(local.dynamo, DOCUMENT_TRANSLATION);
  const setRecordFields = async (voiceId: string, fields: Readonly<Record<string, unknown>>) => {
    const names = Object.keys(fields);
    await documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { voiceId },
        UpdateExpression: `SET ${names.map((_, index) => `#f${index} = :f${index}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(names.map((name, index) => [`#f${index}`, name])),
        ExpressionAttributeValues: Object.fromEntries(
          names.map((name, index) => [`:f${index}`, fields[name]]),
        ),
        ConditionExpression: 'attribute_exists(voiceId)',
      }),
    );
  };

  /** The API function's dependencies on the same servers and simulators (tests override what they need). */
  const apiDependencies = (overrides: Partial<ApiDependencies> = {}): ApiDependencies => ({
    s3: local.s3,
    bucket,
    voices,
    providers,
    defaultProvider: 'smallest',
    defaultModels: TEST_DEFAULT_MODELS,
    speechUrlTtlSeconds: 900,
    uploadUrlTtlSeconds: 900,
    logger: silentLog,
    ...overrides,
  });

  return {
    bucket,
    table,
    local,
    smallest,
    typecast,
    voices,
    keys,
    providers,
    providersWith,
    cloneDependencies,
    apiDependencies,
    cloneVoice,
    setRecordFields,
    async stop() {
      await smallest.close();
      await typecast.close();
      await local.stop();
    },
  };
}
