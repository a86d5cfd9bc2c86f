import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { handle } from 'hono/aws-lambda';
import { createApiApp, SPEECH_PROVIDER_RETRY } from '../functions/api/app';
import { streamingHandler } from '../functions/api/lambda-stream';
import { readRetentionSettings } from '../functions/retention/settings';
import { EnvironmentReader } from '../functions/shared/config';
import { createStaticKeyStore, type KeyStore } from '../functions/shared/keys';
import type { Log } from '../functions/shared/logger';
import { noMetrics } from '../functions/shared/metrics';
import { createProviders, readProviderSettings } from '../functions/shared/providers/settings';
import type { ProviderName } from '../functions/shared/providers/types';
import type { RetryBackoff } from '../functions/shared/redelivery-plan';
import { readValidationSettings } from '../functions/shared/validation/settings';
import { VoiceRepository } from '../functions/shared/voices/repository';
import { speechLatencyFromEnvironment } from '../simulators/latency';
import type { SmallestDeleteMode } from '../simulators/smallest/simulator';
import { type ApiHandler, startLocalApiGateway } from './api-gateway';
import { localResponseStreamRuntime } from './api-gateway/response-stream';
import { startLocalCloneSide } from './clone-side';
import { type LocalEvents, readWebhookSecret, startLocalEvents } from './events';
import { configuredProviders, LOCAL_KEY_SOURCE, type ProviderMode, startLocalProviders } from './providers';
import type { LocalQueue } from './queue';
import { startRetentionSchedule, writeLocalModeState } from './retention';
import {
  type Closer,
  dataPaths,
  ensureVoicesTable,
  LOCAL_BUCKET,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_TABLE,
  localDynamoClient,
  localS3Client,
  startLocalDynamo,
  startLocalS3,
} from './servers';

export { LOCAL_BUCKET, LOCAL_TABLE };

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
  const local = readLocalSettings(options);
  const { settings, validation } = local;

  const dataDir = resolve(options.dataDir);
  const paths = dataPaths(dataDir);
  mkdirSync(paths.inbox, { recursive: true });
  const closers: Closer[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };

  try {
    const servers = await startServersAndEvents(options, dataDir, local.webhookSecret.secret, closers);
    const { s3, s3Client, dynamoClient, events } = servers;
    const providers = await startProviders(options, local, dynamoClient, closers);
    const { keyStore, baseUrls, simulatorUrls } = providers;
    const voices = new VoiceRepository(dynamoClient, LOCAL_TABLE);
    const queue = await startLocalCloneSide({
      options,
      settings,
      validation,
      keyStore,
      baseUrls,
      s3,
      s3Client,
      dynamoClient,
      voices,
      dataDir,
      deadLettersFile: paths.deadLetters,
      closers,
    });

    const gateway = await startLocalApi({
      options,
      settings,
      validation,
      s3Client,
      voices,
      keyStore,
      baseUrls,
    });
    closers.push(() => gateway.close());
    closers.push(startLocalRetention(local, s3Client, voices, providers, options.log));
    closers.push(await writeStateFile(dataDir, servers, providers));

    const info = readyInfo({ options, local, dataDir, servers, providers, apiEndpoint: gateway.url });
    return { info, queue, voices, events, simulatorUrls, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

type LocalSettings = ReturnType<typeof readLocalSettings>;
type LocalServersAndEvents = Awaited<ReturnType<typeof startServersAndEvents>>;
type LocalProviders = Awaited<ReturnType<typeof startProviders>>;

/**
 * The DynamoDB- and S3-compatible servers, the voices table's events and the table itself, with a client
 * for each server. Each part's close function goes into `closers` as soon as the part runs.
 */
async function startServersAndEvents(
  options: LocalPipelineOptions,
  dataDir: string,
  webhookSecret: string,
  closers: Closer[],
) {
  const paths = dataPaths(dataDir);
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
    secret: webhookSecret,
    backoff: options.webhookBackoff,
    log: options.log,
  });
  closers.push(() => events.stop());
  const dynamoClient = localDynamoClient(dynamo.endpoint);
  await ensureVoicesTable(dynamoClient, LOCAL_TABLE);
  const s3Client = localS3Client(s3.endpoint);
  return { dynamo, s3, events, dynamoClient, s3Client };
}

/** The providers, live or simulated (the simulators' close functions go into `closers`), and their keys. */
async function startProviders(
  options: LocalPipelineOptions,
  local: LocalSettings,
  dynamoClient: ReturnType<typeof localDynamoClient>,
  closers: Closer[],
) {
  const { modes, keys, baseUrls, simulatorUrls } = await startLocalProviders({
    dynamoClient,
    tableName: LOCAL_TABLE,
    configured: local.configured,
    forceSimulators: options.forceSimulators,
    smallestDeleteMode: options.smallestDeleteMode,
    simulatorLatency: local.simulatorLatency,
    settings: local.settings,
    closers,
  });
  const keyStore = createStaticKeyStore(keys, LOCAL_KEY_SOURCE);
  return { modes, keyStore, baseUrls, simulatorUrls };
}

/** The retention schedule, swept at start and daily, as the retention function's schedule is in AWS. */
function startLocalRetention(
  local: LocalSettings,
  s3Client: ReturnType<typeof localS3Client>,
  voices: VoiceRepository,
  providers: LocalProviders,
  log: Log,
): Closer {
  return startRetentionSchedule({
    settings: local.retention,
    dependencies: {
      s3: s3Client,
      bucket: LOCAL_BUCKET,
      voices,
      providers: createProviders(providers.keyStore, {
        baseUrls: providers.baseUrls,
        timeoutMs: local.settings.timeoutMs,
      }),
      logger: log,
      metrics: noMetrics,
      now: () => new Date(),
    },
    log,
  });
}

/** The state file through which `npm run retention -- --local` finds these servers and simulators. */
function writeStateFile(
  dataDir: string,
  servers: LocalServersAndEvents,
  providers: LocalProviders,
): Promise<Closer> {
  return writeLocalModeState(dataDir, {
    pid: process.pid,
    dynamodbEndpoint: servers.dynamo.endpoint,
    s3Endpoint: servers.s3.endpoint,
    bucket: LOCAL_BUCKET,
    table: LOCAL_TABLE,
    simulatorUrls: providers.simulatorUrls,
  });
}

/** The READY line's contents, from the parts that have started. */
function readyInfo(started: {
  readonly options: LocalPipelineOptions;
  readonly local: LocalSettings;
  readonly dataDir: string;
  readonly servers: LocalServersAndEvents;
  readonly providers: LocalProviders;
  readonly apiEndpoint: string | null;
}): ReadyInfo {
  const { options, local, servers } = started;
  const paths = dataPaths(started.dataDir);
  const { webhookSecret } = local;
  return {
    s3Endpoint: servers.s3.endpoint,
    dynamodbEndpoint: servers.dynamo.endpoint,
    apiEndpoint: started.apiEndpoint,
    bucket: LOCAL_BUCKET,
    table: LOCAL_TABLE,
    region: LOCAL_REGION,
    accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
    secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey,
    providers: started.providers.modes,
    defaultProvider: local.settings.defaultProvider,
    inbox: paths.inbox,
    dataDir: started.dataDir,
    events: paths.events,
    webhooks: options.webhooks ?? [],
    ...(webhookSecret.generated ? { webhookSecret: webhookSecret.secret } : {}),
  };
}

/**
 * Everything local mode reads from the environment, read at once: the providers' settings (and whether each
 * is live), validation, the simulators' latency, retention and the webhooks' secret. Every malformed value
 * is reported in one error.
 */
function readLocalSettings(options: LocalPipelineOptions) {
  const environment = options.environment ?? process.env;
  const reader = new EnvironmentReader(environment);
  const settings = readProviderSettings(reader);
  // The quality thresholds and the trim default, from the same variables as the clone function's.
  const validation = readValidationSettings(reader);
  // SIMULATOR_SPEECH_FIRST_BYTE_MS, SIMULATOR_SPEECH_REAL_TIME_FACTOR: how slowly simulated speech comes.
  const simulatorLatency = reader.parsed(speechLatencyFromEnvironment, {});
  // RETENTION_UNUSED_DAYS, RETENTION_MAX_AGE_DAYS, RETENTION_REJECTED_DAYS, as the retention function reads them.
  const retention = readRetentionSettings(reader);
  const configured = configuredProviders(reader);
  const webhookSecret = readWebhookSecret(reader);
  reader.done();
  return { settings, validation, simulatorLatency, retention, configured, webhookSecret };
}

/**
 * The API: the deployed handler's app behind a local stand-in for API Gateway (loopback, no auth). Speech
 * gets one retry after a provider 429, as in AWS.
 */
async function startLocalApi(api: {
  readonly options: LocalPipelineOptions;
  readonly settings: ReturnType<typeof readProviderSettings>;
  readonly validation: ReturnType<typeof readValidationSettings>;
  readonly s3Client: ReturnType<typeof localS3Client>;
  readonly voices: VoiceRepository;
  readonly keyStore: KeyStore;
  readonly baseUrls: Readonly<Record<ProviderName, string>>;
}) {
  const { options, settings, validation, s3Client, voices, keyStore, baseUrls } = api;
  const apiProviders = createProviders(
    keyStore,
    { baseUrls, timeoutMs: settings.timeoutMs },
    SPEECH_PROVIDER_RETRY,
  );
  const app = createApiApp({
    s3: s3Client,
    bucket: LOCAL_BUCKET,
    voices,
    providers: apiProviders,
    defaultProvider: settings.defaultProvider,
    defaultModels: settings.defaultModels,
    speechConcurrency: settings.speechConcurrency,
    speechUrlTtlSeconds: 900,
    uploadUrlTtlSeconds: 900,
    defaultTrim: validation.defaultTrim,
    consentRequired: options.requireConsent === true,
    logger: options.log,
  });
  return startLocalApiGateway({
    port: options.apiPort,
    handler: handle(app) as unknown as ApiHandler,
    // Speech streams through the same handler as the speech function's in AWS.
    streamingHandler: streamingHandler(app, localResponseStreamRuntime, options.log),
    log: options.log,
  });
}
