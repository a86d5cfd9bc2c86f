import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { EnvironmentReader } from '../shared/config';
import { ENV, SERVICE_NAMES } from '../shared/contract';
import { createSecretsManagerKeyStore } from '../shared/keys';
import { createLogger } from '../shared/logger';
import { createLambdaMetrics } from '../shared/metrics';
import { createProviders, readProviderSettings } from '../shared/providers/settings';
import { VoiceRepository } from '../shared/voices/repository';
import { readRetentionSettings } from './settings';
import { type SweepReport, sweepRetention } from './sweep';

// Read once at cold start; a missing variable fails the first invocation with a message naming it.
const environment = new EnvironmentReader();
const tableName = environment.required(ENV.voicesTableName);
const bucket = environment.required(ENV.bucketName);
const secretId = environment.required(ENV.providerKeysSecretArn);
const providerSettings = readProviderSettings(environment);
const retention = readRetentionSettings(environment);
environment.done();

const logger = createLogger(SERVICE_NAMES.retention);
const metrics = createLambdaMetrics(SERVICE_NAMES.retention);
const keys = createSecretsManagerKeyStore({ client: new SecretsManagerClient({}), secretId });
const dependencies = {
  s3: new S3Client({}),
  bucket,
  voices: new VoiceRepository(new DynamoDBClient({}), tableName),
  providers: createProviders(keys, providerSettings),
  logger,
  metrics,
  now: () => new Date(),
};

/** Time kept back from the invocation's end: no deletion starts after that. */
const RESERVE_MS = 60_000;

/**
 * The daily run (EventBridge Scheduler, any payload) and `npm run retention` (`{ asOf?, dryRun? }`):
 * one sweep, its report as the answer.
 */
export async function handler(
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepReport> {
  const request = (event ?? {}) as { asOf?: unknown; dryRun?: unknown };
  const asOf = typeof request.asOf === 'string' ? new Date(request.asOf) : new Date();
  if (Number.isNaN(asOf.getTime())) throw new Error(`asOf is not a time: ${String(request.asOf)}`);
  try {
    const report = await sweepRetention(
      retention,
      {
        asOf,
        dryRun: request.dryRun === true,
        deadline: Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS,
      },
      dependencies,
    );
    if (!report.dryRun) {
      metrics.count('RetentionDeletions', report.deleted.length);
      metrics.count('RetentionFailures', report.failed.length);
    }
    logger.info('retention sweep', {
      asOf: report.asOf,
      dryRun: report.dryRun,
      examined: report.examined,
      deleted: report.deleted.length,
      kept: report.kept.length,
      failed: report.failed.length,
      complete: report.complete,
    });
    return report;
  } finally {
    metrics.publish();
  }
}
