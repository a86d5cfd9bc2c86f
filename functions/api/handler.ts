import { handle } from 'hono/aws-lambda';
import { awsSettingsFromEnvironment } from '../shared/aws/config';
import { DynamoDocumentClient } from '../shared/aws/dynamodb';
import { createS3Client } from '../shared/aws/s3';
import { EnvironmentReader } from '../shared/config';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProviders, readProviderSettings } from '../shared/providers/settings';
import { VoiceRepository } from '../shared/voices/repository';
import { createApiApp, SPEECH_PROVIDER_RETRY } from './app';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required('VOICES_TABLE_NAME');
const bucket = environment.required('BUCKET_NAME');
const secretId = environment.required('PROVIDER_KEYS_SECRET_ARN');
const speechUrlTtlSeconds = environment.positiveInteger('SPEECH_URL_TTL_SECONDS', 900);
const uploadUrlTtlSeconds = environment.positiveInteger('UPLOAD_URL_TTL_SECONDS', 900);
const settings = readProviderSettings(environment);
environment.done();
// Region and credentials from Lambda's environment; the thin clients sign with them.
const aws = awsSettingsFromEnvironment();

const logger = createLogger('voicedrop-api');
const metrics = createLambdaMetrics('voicedrop-api');
const keys = createSecretsManagerKeyStore({ settings: aws, secretId });
const app = createApiApp({
  // The thin client adds no checksums: presigned PUTs carry no CRC32 of an empty body for S3 to refuse.
  s3: createS3Client(aws),
  bucket,
  voices: new VoiceRepository(new DynamoDocumentClient(aws), tableName),
  providers: createProviders(keys, settings, SPEECH_PROVIDER_RETRY),
  defaultProvider: settings.defaultProvider,
  defaultModels: settings.defaultModels,
  speechUrlTtlSeconds,
  uploadUrlTtlSeconds,
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
