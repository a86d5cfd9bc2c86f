import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle } from 'hono/aws-lambda';
import { DeadlineBoundHttpHandler } from '../shared/aws-deadline';
import { EnvironmentReader } from '../shared/config';
import { ENV, SERVICE_NAMES } from '../shared/contract';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProviders, readProviderSettings } from '../shared/providers/settings';
import { TRIM_MODES } from '../shared/validation/options';
import { VoiceRepository } from '../shared/voices/repository';
import { createApiApp, SPEECH_PROVIDER_RETRY } from './app';
import { type ResponseStreamRuntime, type StreamingHandler, streamingHandler } from './lambda-stream';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required(ENV.voicesTableName);
const bucket = environment.required(ENV.bucketName);
const secretId = environment.required(ENV.providerKeysSecretArn);
const speechUrlTtlSeconds = environment.positiveInteger(ENV.speechUrlTtlSeconds, 900);
const uploadUrlTtlSeconds = environment.positiveInteger(ENV.uploadUrlTtlSeconds, 900);
const defaultTrim = environment.oneOf(ENV.trimDefault, TRIM_MODES, 'off');
const consentRequired = environment.oneOf(ENV.consentRequired, ['true', 'false'], 'false') === 'true';
const settings = readProviderSettings(environment);
// One bundle, two functions: the api function and the speech function each log and count as themselves.
const serviceName = environment.oneOf(
  'POWERTOOLS_SERVICE_NAME',
  [SERVICE_NAMES.api, SERVICE_NAMES.speech],
  SERVICE_NAMES.api,
);
environment.done();

const logger = createLogger(serviceName);
const metrics = createLambdaMetrics(serviceName);
// Built once per cold start; every request they send ends by the invocation's deadline (shared/aws-deadline).
const keys = createSecretsManagerKeyStore({
  client: new SecretsManagerClient({ requestHandler: new DeadlineBoundHttpHandler() }),
  secretId,
});
const app = createApiApp({
  s3: new S3Client({ requestHandler: new DeadlineBoundHttpHandler() }),
  bucket,
  voices: new VoiceRepository(
    new DynamoDBClient({ requestHandler: new DeadlineBoundHttpHandler() }),
    tableName,
  ),
  providers: createProviders(keys, settings, SPEECH_PROVIDER_RETRY),
  defaultProvider: settings.defaultProvider,
  defaultModels: settings.defaultModels,
  speechConcurrency: settings.speechConcurrency,
  speechUrlTtlSeconds,
  uploadUrlTtlSeconds,
  defaultTrim,
  consentRequired,
  logger,
  metrics,
});
const handleRequest = handle(app);

export const handler = async (...request: Parameters<typeof handleRequest>) => {
  try {
    return await handleRequest(...request);
  } finally {
    metrics.publish();
  }
};

const runtimeGlobal = (globalThis as unknown as { awslambda?: Partial<ResponseStreamRuntime> }).awslambda;
const lambdaRuntime =
  typeof runtimeGlobal?.streamifyResponse === 'function'
    ? (runtimeGlobal as ResponseStreamRuntime)
    : undefined;

/**
 * The speech function's handler (same bundle, `index.speechHandler`): the same app, its answer streamed
 * through API Gateway's response streaming. Outside Lambda there is no `awslambda`; local mode builds its
 * own with a stand-in (local/api-gateway/response-stream.ts).
 */
export const speechHandler: StreamingHandler = lambdaRuntime
  ? streamingHandler(app, lambdaRuntime, logger, () => metrics.publish())
  : async () => {
      throw new Error("speechHandler runs in AWS Lambda only (it streams through the runtime's awslambda).");
    };
