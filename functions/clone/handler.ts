import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DeadlineBoundHttpHandler, withinInvocationDeadline } from '../shared/aws-deadline';
import { EnvironmentReader } from '../shared/config';
import { ENV } from '../shared/contract';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProviders, readProviderSettings } from '../shared/providers/settings';
import { ProviderSlots } from '../shared/providers/slots';
import { applyRedeliveries } from '../shared/sqs-redeliveries';
import { readValidationSettings } from '../shared/validation/settings';
import { VoiceRepository } from '../shared/voices/repository';
import { handleCloneEvent } from './batch';
import { DEFAULT_LOST_ANSWER_GRACE_MS } from './dependencies';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required(ENV.voicesTableName);
const secretId = environment.required(ENV.providerKeysSecretArn);
const maxReceiveCount = environment.positiveInteger(ENV.cloneMaxReceiveCount, 8);
const consentRequired = environment.oneOf(ENV.consentRequired, ['true', 'false'], 'false') === 'true';
const settings = readProviderSettings(environment);
const validation = readValidationSettings(environment);
environment.done();

const logger = createLogger('voicedrop-clone');
const metrics = createLambdaMetrics('voicedrop-clone');
// Built once per cold start; every request they send ends by the invocation's deadline (shared/aws-deadline).
const keys = createSecretsManagerKeyStore({
  client: new SecretsManagerClient({ requestHandler: new DeadlineBoundHttpHandler() }),
  secretId,
});
const dynamodb = new DynamoDBClient({ requestHandler: new DeadlineBoundHttpHandler() });
const sqs = new SQSClient({ requestHandler: new DeadlineBoundHttpHandler() });
const dependencies = {
  s3: new S3Client({ requestHandler: new DeadlineBoundHttpHandler() }),
  voices: new VoiceRepository(dynamodb, tableName),
  slots: new ProviderSlots(dynamodb, tableName, settings.cloneConcurrency),
  providers: createProviders(keys, settings),
  keys,
  defaultProvider: settings.defaultProvider,
  defaultModels: settings.defaultModels,
  validation,
  maxReceiveCount,
  consentRequired,
  // The provider may finish a clone whose answer we lost until well after our own deadline.
  lostAnswerGraceMs: Math.max(DEFAULT_LOST_ANSWER_GRACE_MS, 2 * settings.timeoutMs),
  logger,
  metrics,
};

/** What the redelivery calls leave of the invocation for returning the batch response. */
const REDELIVERY_ANSWER_RESERVE_MS = 250;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  try {
    const result = await handleCloneEvent(event, context, dependencies);
    return await withinInvocationDeadline(context, REDELIVERY_ANSWER_RESERVE_MS, () =>
      applyRedeliveries(sqs, event.Records, result, logger),
    );
  } finally {
    metrics.publish();
  }
};
