import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EnvironmentReader } from '../shared/config';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProvider, DEFAULT_BASE_URLS } from '../shared/providers/registry';
import { VoiceRepository } from '../shared/voices/repository';
import { handleCloneEvent } from './core';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required('VOICES_TABLE_NAME');
const secretId = environment.required('PROVIDER_KEYS_SECRET_ARN');
const defaultProvider = environment.provider('DEFAULT_PROVIDER', 'smallest');
const timeoutMs = environment.positiveInteger('PROVIDER_TIMEOUT_MS', 60_000);
const maxReceiveCount = environment.positiveInteger('CLONE_MAX_RECEIVE_COUNT', 5);
const baseUrls = {
  smallest: environment.url('SMALLEST_API_BASE_URL', DEFAULT_BASE_URLS.smallest),
  typecast: environment.url('TYPECAST_API_BASE_URL', DEFAULT_BASE_URLS.typecast),
};
const defaultModels = {
  smallest: environment.optional('SMALLEST_DEFAULT_MODEL', 'lightning-v3.1'),
  typecast: environment.optional('TYPECAST_DEFAULT_MODEL', 'ssfm-v30'),
};
environment.done();

const logger = createLogger('voicedrop-clone');
const metrics = createLambdaMetrics('voicedrop-clone');
const keys = createSecretsManagerKeyStore({ client: new SecretsManagerClient({}), secretId });
const dependencies = {
  s3: new S3Client({}),
  voices: new VoiceRepository(new DynamoDBClient({}), tableName),
  providers: {
    smallest: createProvider('smallest', {
      apiKey: keys.supplier('smallest'),
      baseUrl: baseUrls.smallest,
      timeoutMs,
    }),
    typecast: createProvider('typecast', {
      apiKey: keys.supplier('typecast'),
      baseUrl: baseUrls.typecast,
      timeoutMs,
    }),
  },
  keys,
  defaultProvider,
  defaultModels,
  maxReceiveCount,
  logger,
  metrics,
};

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  try {
    return await handleCloneEvent(event, context, dependencies);
  } finally {
    metrics.publish();
  }
};
