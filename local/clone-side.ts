/**
 * Local mode's clone side: the clone handler's own code behind an in-process queue, fed by the bucket's
 * ObjectCreated notifications under incoming/ as S3 → SQS feeds it in AWS.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Context, SQSEvent } from 'aws-lambda';
import { handleCloneEvent } from '../functions/clone/batch';
import {
  type ClonePipelineDependencies,
  DEFAULT_LOST_ANSWER_GRACE_MS,
} from '../functions/clone/dependencies';
import { encodeS3EventKey } from '../functions/clone/s3-events';
import { DEFAULT_CLONE_BATCH_SIZE, INCOMING_PREFIX } from '../functions/shared/contract';
import type { KeyStore } from '../functions/shared/keys';
import { createProviders, type readProviderSettings } from '../functions/shared/providers/settings';
import { ProviderSlots } from '../functions/shared/providers/slots';
import type { ProviderName } from '../functions/shared/providers/types';
import { redeliveryPolicy } from '../functions/shared/redelivery-plan';
import { backoffDelayMs } from '../functions/shared/retry';
import type { readValidationSettings } from '../functions/shared/validation/settings';
import { deriveVoiceId } from '../functions/shared/voices/record';
import type { VoiceRepository } from '../functions/shared/voices/repository';
import { FINAL_STATUSES } from '../functions/shared/voices/status';
import type { LocalPipelineOptions } from './pipeline';
import { LOCAL_RETRY_BACKOFF, LocalQueue } from './queue';
import { watchRedrive } from './redrive';
import {
  type Closer,
  LOCAL_BUCKET,
  LOCAL_REGION,
  LOCAL_TABLE,
  type localDynamoClient,
  type localS3Client,
  type startLocalS3,
} from './servers';

/** The clone function's timeout in AWS; local deliveries get the same time budget. */
const FUNCTION_TIMEOUT_MS = 5 * 60_000;

export interface LocalCloneSideOptions {
  readonly options: LocalPipelineOptions;
  readonly settings: ReturnType<typeof readProviderSettings>;
  readonly validation: ReturnType<typeof readValidationSettings>;
  readonly keyStore: KeyStore;
  readonly baseUrls: Readonly<Record<ProviderName, string>>;
  readonly s3: Awaited<ReturnType<typeof startLocalS3>>;
  readonly s3Client: ReturnType<typeof localS3Client>;
  readonly dynamoClient: ReturnType<typeof localDynamoClient>;
  readonly voices: VoiceRepository;
  readonly dataDir: string;
  readonly deadLettersFile: string;
  /** Where the queue's and the redrive watcher's close functions go. */
  readonly closers: Closer[];
}

/**
 * Starts the queue and its notifications, frees what a killed local mode held, and delivers again the
 * uploads it had not finished and the dead letters a redrive moves back.
 */
export async function startLocalCloneSide(side: LocalCloneSideOptions) {
  const { options, settings, s3, s3Client, voices, dataDir, deadLettersFile, closers } = side;
  const dependencies = cloneDependencies(side);
  const retryBackoff = dependencies.retryBackoff ?? LOCAL_RETRY_BACKOFF;
  const queue = new LocalQueue({
    deliver: (event: SQSEvent) => handleCloneEvent(event, lambdaContext(), dependencies),
    concurrency:
      options.queue?.concurrency ??
      Math.max(
        2,
        Object.values(settings.cloneConcurrency).reduce((sum, slots) => sum + slots, 0),
      ),
    batchSize: options.queue?.batchSize ?? DEFAULT_CLONE_BATCH_SIZE,
    maxReceiveCount: dependencies.maxReceiveCount,
    // Only when the handler itself threw (it plans every other redelivery): the same policy.
    retryDelayMs: (receiveCount) => backoffDelayMs(receiveCount, redeliveryPolicy(retryBackoff)),
    deadLetterFile: deadLettersFile,
    log: options.log,
  });
  closers.push(() => queue.stop());

  // The bucket notification: ObjectCreated under incoming/ → the queue, with keys URL-encoded as S3
  // encodes them (s3rver does not), so the handler meets the same shape as in AWS.
  s3.server.on('event', (event: { Records?: S3rverRecord[] }) => {
    for (const record of event.Records ?? []) {
      if (!record.eventName?.startsWith('ObjectCreated:')) continue;
      if (!record.s3?.object?.key?.startsWith(INCOMING_PREFIX)) continue;
      queue.send(notificationBody(record));
    }
  });

  // This process is the only one using the data folder (the database keeps it locked), so slots and
  // leases still held belong to a local mode that was killed: free them, or its uploads would wait for
  // their leases to run out (up to the clone function's 5 minutes) before anyone touches them again.
  await dependencies.slots?.freeAll();
  await enqueueUnfinished({ s3Client, voices, queue });
  // Dead letters moved back by `npm run redrive -- --local`, now and while running (failed records are
  // not re-enqueued above: only a redrive retries them).
  const redrive = watchRedrive({
    dataDir,
    send: (body) => {
      queue.send(body);
    },
    log: options.log,
  });
  closers.push(() => redrive.close());
  return queue;
}

/** The clone handler's dependencies on local mode's servers, as the clone function builds them in AWS. */
function cloneDependencies(side: LocalCloneSideOptions): ClonePipelineDependencies {
  const { options, settings, validation, keyStore, baseUrls, s3Client, dynamoClient, voices } = side;
  const retryBackoff = options.queue?.retryBackoff ?? LOCAL_RETRY_BACKOFF;
  const { defaultProvider, timeoutMs } = settings;
  return {
    s3: s3Client,
    voices,
    // The same per-provider limit as in AWS (SMALLEST_CLONE_CONCURRENCY, …), in the same table.
    slots: new ProviderSlots(dynamoClient, LOCAL_TABLE, settings.cloneConcurrency),
    slotWaitMs: options.queue?.slotWaitMs,
    retryBackoff,
    providers: createProviders(keyStore, { baseUrls, timeoutMs }),
    keys: keyStore,
    consentRequired: options.requireConsent === true,
    defaultProvider,
    defaultModels: settings.defaultModels,
    validation,
    // More deliveries than the deployed queue's 8: local retries come 2 s doubling to 60 s apart (in AWS
    // 10 s to 15 min), and an upload waiting out a provider's lost answer or a 429 storm must not run out.
    maxReceiveCount: options.queue?.maxReceiveCount ?? 10,
    logger: options.log,
    lostAnswerGraceMs: options.lostAnswerGraceMs ?? Math.max(DEFAULT_LOST_ANSWER_GRACE_MS, 2 * timeoutMs),
  };
}

interface S3rverRecord {
  eventName?: string;
  eventTime?: string;
  awsRegion?: string;
  s3?: {
    bucket?: { name?: string };
    object?: { key?: string; size?: number; eTag?: string; sequencer?: string };
  };
}

function notificationBody(record: S3rverRecord): string {
  const object = record.s3?.object ?? {};
  return JSON.stringify({
    Records: [
      {
        ...record,
        eventSource: 'aws:s3',
        awsRegion: LOCAL_REGION,
        s3: {
          ...record.s3,
          s3SchemaVersion: '1.0',
          configurationId: 'incoming',
          object: { ...object, key: encodeS3EventKey(object.key ?? '') },
        },
      },
    ],
  });
}

/**
 * Work that was pending when local mode last stopped (or uploads made while it was down): every object
 * under incoming/ whose voice record is missing or unfinished is delivered again.
 */
async function enqueueUnfinished(options: {
  s3Client: ReturnType<typeof localS3Client>;
  voices: VoiceRepository;
  queue: LocalQueue;
}) {
  let continuationToken: string | undefined;
  do {
    const page = await options.s3Client.send(
      new ListObjectsV2Command({
        Bucket: LOCAL_BUCKET,
        Prefix: INCOMING_PREFIX,
        ContinuationToken: continuationToken,
      }),
    );
    for (const object of page.Contents ?? []) {
      if (!object.Key || object.Key.endsWith('/')) continue;
      const etag = object.ETag?.replace(/"/g, '');
      const record = await options.voices.get(deriveVoiceId(LOCAL_BUCKET, object.Key, etag ?? ''));
      if (record && FINAL_STATUSES.has(record.status)) continue;
      if (record?.processing?.leaseUntil !== undefined) {
        await options.voices.transition(record.voiceId, {
          from: [record.status],
          to: record.status,
          releaseLease: true,
          now: new Date(),
        });
      }
      options.queue.send(
        notificationBody({
          eventName: 'ObjectCreated:Put',
          eventTime: (object.LastModified ?? new Date()).toISOString(),
          s3: {
            bucket: { name: LOCAL_BUCKET },
            object: { key: object.Key, size: object.Size ?? 0, eTag: etag },
          },
        }),
      );
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
}

function lambdaContext(): Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'> {
  const deadline = Date.now() + FUNCTION_TIMEOUT_MS;
  return { awsRequestId: `local-${Date.now()}`, getRemainingTimeInMillis: () => deadline - Date.now() };
}
