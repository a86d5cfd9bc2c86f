import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handle } from 'hono/aws-lambda';
import { EnvironmentReader } from '../shared/config';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProvider, DEFAULT_BASE_URLS } from '../shared/providers/registry';
import { VoiceRepository } from '../shared/voices/repository';
import { createApiApp } from './app';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required('VOICES_TABLE_NAME');
const bucket = environment.required('BUCKET_NAME');
const secretId = environment.required('PROVIDER_KEYS_SECRET_ARN');
const defaultProvider = environment.provider('DEFAULT_PROVIDER', 'smallest');
const timeoutMs = environment.positiveInteger('PROVIDER_TIMEOUT_MS', 25_000);
const speechUrlTtlSeconds = environment.positiveInteger('SPEECH_URL_TTL_SECONDS', 900);
const uploadUrlTtlSeconds = environment.positiveInteger('UPLOAD_URL_TTL_SECONDS', 900);
const baseUrls = {
  smallest: environment.url('SMALLEST_API_BASE_URL', DEFAULT_BASE_URLS.smallest),
  typecast: environment.url('TYPECAST_API_BASE_URL', DEFAULT_BASE_URLS.typecast),
};
const defaultModels = {
  smallest: environment.optional('SMALLEST_DEFAULT_MODEL', 'lightning-v3.1'),
  typecast: environment.optional('TYPECAST_DEFAULT_MODEL', 'ssfm-v30'),
};
environment.done();

const logger = createLogger('voicedrop-api');
const metrics = createLambdaMetrics('voicedrop-api');
const keys = createSecretsManagerKeyStore({ client: new SecretsManagerClient({}), secretId });
// Speech answers within API Gateway's 29 s: a provider 429 gets one retry, then the caller hears 429.
const retry = { maxAttempts: 2 };
const app = createApiApp({
  // Checksums only where S3 requires them: otherwise presigned PUTs carry the CRC32 of an empty body,
  // and S3 refuses every real upload to them.
  s3: new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' }),
  bucket,
  voices: new VoiceRepository(new DynamoDBClient({}), tableName),
  providers: {
    smallest: createProvider('smallest', {
      apiKey: keys.supplier('smallest'),
      baseUrl: baseUrls.smallest,
      timeoutMs,
      retry,
    }),
    typecast: createProvider('typecast', {
      apiKey: keys.supplier('typecast'),
      baseUrl: baseUrls.typecast,
      timeoutMs,
      retry,
    }),
  },
  defaultProvider,
  defaultModels,
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
