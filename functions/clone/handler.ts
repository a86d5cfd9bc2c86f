import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { awsSettingsFromEnvironment } from '../shared/aws/config';
import { DynamoDocumentClient } from '../shared/aws/dynamodb';
import { createS3Client } from '../shared/aws/s3';
import { EnvironmentReader } from '../shared/config';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProviders, readProviderSettings } from '../shared/providers/settings';
import { ProviderSlots } from '../shared/voices/provider-slots';
import { VoiceRepository } from '../shared/voices/repository';
import { DEFAULT_LOST_ANSWER_GRACE_MS, handleCloneEvent } from './core';
import { applyRedeliveries } from './redeliveries';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required('VOICES_TABLE_NAME');
const secretId = environment.required('PROVIDER_KEYS_SECRET_ARN');
const maxReceiveCount = environment.positiveInteger('CLONE_MAX_RECEIVE_COUNT', 8);
const settings = readProviderSettings(environment);
environment.done();
// Region and credentials from Lambda's environment; the thin clients sign with them.
const aws = awsSettingsFromEnvironment();

const logger = createLogger('voicedrop-clone');
const metrics = createLambdaMetrics('voicedrop-clone');
const keys = createSecretsManagerKeyStore({ settings: aws, secretId });
const dynamodb = new DynamoDocumentClient(aws);
const dependencies = {
  s3: createS3Client(aws),
  voices: new VoiceRepository(dynamodb, tableName),
  slots: new ProviderSlots(dynamodb, tableName, settings.concurrency),
  providers: createProviders(keys, settings),
  keys,
  defaultProvider: settings.defaultProvider,
  defaultModels: settings.defaultModels,
  maxReceiveCount,
  // The provider may finish a clone whose answer we lost until well after our own deadline.
  lostAnswerGraceMs: Math.max(DEFAULT_LOST_ANSWER_GRACE_MS, 2 * settings.timeoutMs),
  logger,
  metrics,
};

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  try {
    const result = await handleCloneEvent(event, context, dependencies);
    return await applyRedeliveries(aws, event.Records, result, logger);
  } finally {
    metrics.publish();
  }
};
