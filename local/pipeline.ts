import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Context, SQSEvent } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { createApiApp, SPEECH_PROVIDER_RETRY } from '../functions/api/app';
import { streamingHandler } from '../functions/api/lambda-stream';
import { handleCloneEvent } from '../functions/clone/batch';
import {
  type ClonePipelineDependencies,
  DEFAULT_LOST_ANSWER_GRACE_MS,
} from '../functions/clone/dependencies';
import { encodeS3EventKey } from '../functions/clone/s3-events';
import { readRetentionSettings } from '../functions/retention/settings';
import { EnvironmentReader } from '../functions/shared/config';
import { DEFAULT_CLONE_BATCH_SIZE, ENV, INCOMING_PREFIX } from '../functions/shared/contract';
import { createStaticKeyStore } from '../functions/shared/keys';
import type { Log } from '../functions/shared/logger';
import { noMetrics } from '../functions/shared/metrics';
import { createProviders, readProviderSettings } from '../functions/shared/providers/settings';
import { ProviderSlots } from '../functions/shared/providers/slots';
import type { ProviderName } from '../functions/shared/providers/types';
import { type RetryBackoff, redeliveryPolicy } from '../functions/shared/redelivery-plan';
import { backoffDelayMs } from '../functions/shared/retry';
import { readValidationSettings } from '../functions/shared/validation/settings';
import { deriveVoiceId } from '../functions/shared/voices/record';
import { VoiceRepository } from '../functions/shared/voices/repository';
import { FINAL_STATUSES } from '../functions/shared/voices/status';
import { speechLatencyFromEnvironment } from '../simulators/latency';
import type { SmallestDeleteMode } from '../simulators/smallest/simulator';
import { type ApiHandler, startLocalApiGateway } from './api-gateway';
import { localResponseStreamRuntime } from './api-gateway/response-stream';
import { type LocalEvents, readWebhookSecret, startLocalEvents } from './events';
import { startLocalProviders } from './providers';
import { LOCAL_RETRY_BACKOFF, LocalQueue } from './queue';
import { watchRedrive } from './redrive';
import { startRetentionSchedule, writeLocalModeState } from './retention';
import {
  dataPaths,
  ensureVoicesTable,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  localDynamoClient,
  localS3Client,
  startLocalDynamo,
  startLocalS3,
} from './servers';

export const LOCAL_BUCKET = 'voicedrop-local';
export const LOCAL_TABLE = 'voicedrop-voices';
/** The clone function's timeout in AWS; local deliveries get the same time budget. */
const FUNCTION_TIMEOUT_MS = 5 * 60_000;

export interface LocalPipelineOptions {
  readonly dataDir: string;
  readonly s3Port: number;
  readonly dynamodbPort: number;
  readonly apiPort: number;
  /** Use the built-in simulators even when provider keys are set. */
  readonly forceSimulators?: boolean;
  /**
   * How the Smallest simulator answers deletes (default `api-key-refused`, as Smallest does since July
   * 2026: the voice leaves voicedrop, the clone stays); `lightning-large` deletes through the guide's route.
   */
  readonly smallestDeleteMode?: SmallestDeleteMode;
  /** Uploads must name a valid consent (`--require-consent`; in AWS `consent.required`). */
  readonly requireConsent?: boolean;
  readonly environment?: Readonly<Record<string, string | undefined>>;
  readonly log: Log;
  readonly queue?: {
    /** Batches in flight at once (default: the providers' clone concurrency summed, at least 2). */
    readonly concurrency?: number;
    /** Most messages per batch (default: the stack's `cloneQueue.batchSize` default). */
    readonly batchSize?: number;
    readonly maxReceiveCount?: number;
    /** Retry delays (default 2 s doubling to 60 s: local redeliveries come within seconds). */
    readonly retryBackoff?: RetryBackoff;
    /** See ClonePipelineDependencies.slotWaitMs. */
    readonly slotWaitMs?: number;
  };
  /** See ClonePipelineDependencies.lostAnswerGraceMs (tests shorten it). */
  readonly lostAnswerGraceMs?: number;
  /** Webhook endpoints (`--webhook URL`, repeatable): every event, signed with WEBHOOK_SECRET. */
  readonly webhooks?: readonly string[];
  /** Local webhook retry delays (default 2 s doubling to 60 s). */
  readonly webhookBackoff?: RetryBackoff;
}

import type { ProviderMode } from './providers';

export type { ProviderMode };

/** What the READY line prints: everything a client needs to talk to local mode. */
export interface ReadyInfo {
  readonly s3Endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly apiEndpoint: string | null;
  readonly bucket: string;
  readonly table: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly providers: Readonly<Record<ProviderName, ProviderMode>>;
  readonly defaultProvider: ProviderName;
  readonly inbox: string;
  readonly dataDir: string;
  /** Where each lifecycle event is appended (one PutEvents entry per line). */
  readonly events: string;
  readonly webhooks: readonly string[];
  /** The webhooks' signing secret, shown only when local mode generated it (no WEBHOOK_SECRET). */
  readonly webhookSecret?: string;
}

export interface LocalPipeline {
  readonly info: ReadyInfo;
  readonly queue: LocalQueue;
  readonly voices: VoiceRepository;
  /** The voices table's stream stand-in and the webhook queue (tests wait on them). */
  readonly events: LocalEvents;
  readonly simulatorUrls: Readonly<Partial<Record<ProviderName, string>>>;
  close(): Promise<void>;
}

/**
 * The whole pipeline on this machine: S3- and DynamoDB-compatible servers, the S3→SQS notification as an
 * in-process queue, the clone handler's own code, and real or simulated providers.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const environment = options.environment ?? process.env;
  const reader = new EnvironmentReader(environment);
  const settings = readProviderSettings(reader);
  // The quality thresholds and the trim default, from the same variables as the clone function's.
  const validation = readValidationSettings(reader);
  // SIMULATOR_SPEECH_FIRST_BYTE_MS, SIMULATOR_SPEECH_REAL_TIME_FACTOR: how slowly simulated speech comes.
  const simulatorLatency = reader.parsed(speechLatencyFromEnvironment, {});
  // RETENTION_UNUSED_DAYS, RETENTION_MAX_AGE_DAYS, RETENTION_REJECTED_DAYS, as the retention function reads them.
  const retention = readRetentionSettings(reader);
  const { defaultProvider, timeoutMs } = settings;
  const key = (name: string) => environment[name]?.trim() || undefined;
  // A provider is live when a key or a base URL is configured (a base URL without a key then fails
  // every clone with a clear provider_key_missing), simulated otherwise or with --sim.
  const configured = {
    smallest: { key: key(ENV.smallestApiKey), baseUrlSet: key(ENV.smallestApiBaseUrl) !== undefined },
    typecast: { key: key(ENV.typecastApiKey), baseUrlSet: key(ENV.typecastApiBaseUrl) !== undefined },
  };
  const webhookSecret = readWebhookSecret(reader);
  reader.done();

  const dataDir = resolve(options.dataDir);
  const paths = dataPaths(dataDir);
  mkdirSync(paths.inbox, { recursive: true });
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    const dynamo = await startLocalDynamo({ port: options.dynamodbPort, directory: paths.dynamodb });
    closers.push(dynamo.close);
    const s3 = await startLocalS3({ port: options.s3Port, directory: paths.s3, bucket: LOCAL_BUCKET });
    closers.push(s3.close);

    // Before anything writes: every committed write of the voices table from here on is a stream record.
    const events = await startLocalEvents({
      dataDir,
      store: dynamo.store,
      tableName: LOCAL_TABLE,
      paths,
      webhooks: options.webhooks ?? [],
      secret: webhookSecret.secret,
      backoff: options.webhookBackoff,
      log: options.log,
    });
    closers.push(() => events.stop());
    const dynamoClient = localDynamoClient(dynamo.endpoint);
    await ensureVoicesTable(dynamoClient, LOCAL_TABLE);
    const s3Client = localS3Client(s3.endpoint);

    const { modes, keys, baseUrls, simulatorUrls } = await startLocalProviders({
      dynamoClient,
      tableName: LOCAL_TABLE,
      configured,
      forceSimulators: options.forceSimulators,
      smallestDeleteMode: options.smallestDeleteMode,
      simulatorLatency,
      settings,
      closers,
    });
    const keyStore = createStaticKeyStore(
      keys,
      `the environment (${ENV.smallestApiKey} / ${ENV.typecastApiKey})`,
    );
    const voices = new VoiceRepository(dynamoClient, LOCAL_TABLE);
    const retryBackoff = options.queue?.retryBackoff ?? LOCAL_RETRY_BACKOFF;
    const dependencies: ClonePipelineDependencies = {
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
      // More patient than the deployed queue (5 deliveries, 30 min apart): local redeliveries come within
      // seconds, and an upload waiting out a provider's lost answer or a 429 storm must not run out of them.
      maxReceiveCount: options.queue?.maxReceiveCount ?? 10,
      logger: options.log,
      lostAnswerGraceMs: options.lostAnswerGraceMs ?? Math.max(DEFAULT_LOST_ANSWER_GRACE_MS, 2 * timeoutMs),
    };

    const queue = new LocalQueue({
      deliver: (event: SQSEvent) => handleCloneEvent(event, lambdaContext(), dependencies),
      concurrency:
        options.queue?.concurrency ??
        Math.max(2, settings.cloneConcurrency.smallest + settings.cloneConcurrency.typecast),
      batchSize: options.queue?.batchSize ?? DEFAULT_CLONE_BATCH_SIZE,
      maxReceiveCount: dependencies.maxReceiveCount,
      // Only when the handler itself threw (it plans every other redelivery): the same policy.
      retryDelayMs: (receiveCount) => backoffDelayMs(receiveCount, redeliveryPolicy(retryBackoff)),
      deadLetterFile: paths.deadLetters,
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

    // The API: the deployed handler's app behind a local stand-in for API Gateway (loopback, no auth).
    // Speech gets one retry after a provider 429, as in AWS.
    const apiProviders = createProviders(keyStore, { baseUrls, timeoutMs }, SPEECH_PROVIDER_RETRY);
    const api = createApiApp({
      s3: s3Client,
      bucket: LOCAL_BUCKET,
      voices,
      providers: apiProviders,
      defaultProvider,
      defaultModels: dependencies.defaultModels,
      speechConcurrency: settings.speechConcurrency,
      speechUrlTtlSeconds: 900,
      uploadUrlTtlSeconds: 900,
      defaultTrim: validation.defaultTrim,
      consentRequired: options.requireConsent === true,
      logger: options.log,
    });
    const gateway = await startLocalApiGateway({
      port: options.apiPort,
      handler: handle(api) as unknown as ApiHandler,
      // Speech streams through the same handler as the speech function's in AWS.
      streamingHandler: streamingHandler(api, localResponseStreamRuntime, options.log),
      log: options.log,
    });
    closers.push(() => gateway.close());

    // The retention schedule, swept at start and daily; `npm run retention -- --local` finds these servers
    // and simulators through the state file.
    closers.push(
      startRetentionSchedule({
        settings: retention,
        dependencies: {
          s3: s3Client,
          bucket: LOCAL_BUCKET,
          voices,
          providers: createProviders(keyStore, { baseUrls, timeoutMs }),
          logger: options.log,
          metrics: noMetrics,
          now: () => new Date(),
        },
        log: options.log,
      }),
    );
    closers.push(
      await writeLocalModeState(dataDir, {
        pid: process.pid,
        dynamodbEndpoint: dynamo.endpoint,
        s3Endpoint: s3.endpoint,
        bucket: LOCAL_BUCKET,
        table: LOCAL_TABLE,
        simulatorUrls,
      }),
    );

    const info: ReadyInfo = {
      s3Endpoint: s3.endpoint,
      dynamodbEndpoint: dynamo.endpoint,
      apiEndpoint: gateway.url,
      bucket: LOCAL_BUCKET,
      table: LOCAL_TABLE,
      region: LOCAL_REGION,
      accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
      secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey,
      providers: modes,
      defaultProvider,
      inbox: paths.inbox,
      dataDir,
      events: paths.events,
      webhooks: options.webhooks ?? [],
      ...(webhookSecret.generated ? { webhookSecret: webhookSecret.secret } : {}),
    };
    return { info, queue, voices, events, simulatorUrls, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
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
