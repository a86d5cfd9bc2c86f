import { Duration, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import type { Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { type Bucket, EventType } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  API_GATEWAY_TIMEOUT_MS,
  ENV,
  INCOMING_PREFIX,
  METRICS_NAMESPACE,
  PROVIDER_ENV,
  SERVICE_NAMES,
  SPEECH_STREAM_LIMIT_MS,
} from '../functions/shared/contract';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';
import {
  QUALITY_THRESHOLD_NAMES,
  type QualityThresholds,
} from '../functions/shared/validation/quality-rules';
import { acknowledge } from './acknowledgements';
import { keepFrameworkFunctionLogs } from './framework-function-logs';
import { HouseFunction } from './house-function';
import type { VoicedropPipelineProps } from './pipeline-props';
import { resolvePipelineProps, type VoicedropPipelineSettings } from './pipeline-settings';
import { VoicedropApi } from './voicedrop-api';
import { VoicedropEvents } from './voicedrop-events';
import { type VoicedropAlarms, VoicedropMonitoring } from './voicedrop-monitoring';
import { VoicedropRetention } from './voicedrop-retention';
import { createAccessLogsBucket, createUploadsBucket, createVoicesTable } from './voicedrop-storage';

/** AWS's guidance for SQS event sources: visibility at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

const CLONE_TIMEOUT = Duration.minutes(5);
const CLONE_MEMORY_MB = 1024;
/** API Gateway gives up on an integration after 29 s; the function may finish its answer just past that. */
const API_TIMEOUT = Duration.millis(API_GATEWAY_TIMEOUT_MS + 1_000);
const API_MEMORY_MB = 1024;
/** A provider call from the API must end in time for the answer to beat API Gateway's 29 s. */
const API_PROVIDER_TIMEOUT_MS = API_GATEWAY_TIMEOUT_MS - 4_000;
/** The speech function streams for up to API Gateway's 15-minute streaming limit; its memory holds a few pieces. */
const SPEECH_TIMEOUT = Duration.millis(SPEECH_STREAM_LIMIT_MS);
const SPEECH_MEMORY_MB = 1024;

export * from './pipeline-props';
export * from './pipeline-settings';
export { accessLogsObjectOwnership } from './voicedrop-storage';

/**
 * voicedrop as one construct. The clone half: upload bucket (server access logs into their own bucket) → S3
 * notification (incoming/) → clone queue (with DLQ) → clone function → voices table, with provider keys in one
 * secret. The API half: a regional REST API (IAM auth) → api function → table, bucket (speech/, incoming/)
 * and providers. Operations: alarms on one encrypted topic, a dashboard, X-Ray tracing, log retention.
 * Props are validated first, every problem reported in one error.
 */
export class VoicedropPipeline extends Construct {
  /** What the pipeline was built with: the props validated, with every default filled in. */
  readonly settings: VoicedropPipelineSettings;
  /** Uploads below `incoming/`, synthesized speech below `speech/`. */
  readonly bucket: Bucket;
  /** S3 server access logs of `bucket`, below `uploads/`. */
  readonly accessLogsBucket: Bucket;
  readonly table: Table;
  /** Provider API keys as JSON `{"smallest": "...", "typecast": "..."}`. */
  readonly secret: Secret;
  /** Lifecycle events and webhooks (lib/voicedrop-events.ts). */
  readonly events: VoicedropEvents;
  readonly cloneQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly cloneFunction: HouseFunction;
  readonly apiFunction: HouseFunction;
  /** Streams speech (the POST /voices/{voiceId}/speech route). */
  readonly speechFunction: HouseFunction;
  readonly api: VoicedropApi;
  /** The alarms, their topic and its key, and the dashboard. */
  readonly monitoring: VoicedropMonitoring;
  /** The retention schedule: its function and the daily schedule that runs it. */
  readonly retention: VoicedropRetention;
  /** Every alarm notifies it on ALARM and OK; encrypted, TLS only. */
  readonly alarmTopic: Topic;
  readonly alarms: VoicedropAlarms;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: VoicedropPipelineProps = {}) {
    super(scope, id);
    const settings = resolvePipelineProps(props, this.node.path);
    this.settings = settings;
    const { removalPolicy } = this;
    this.accessLogsBucket = createAccessLogsBucket(this, removalPolicy);
    this.bucket = createUploadsBucket(this, this.accessLogsBucket, settings.speechCacheDays, removalPolicy);
    this.table = createVoicesTable(this, removalPolicy);
    this.events = new VoicedropEvents(this, 'Events', {
      table: this.table,
      webhooks: settings.webhooks,
      logRetention: settings.logRetentionDays,
      removalPolicy,
    });
    this.secret = this.createProviderKeysSecret();
    const environment = providerEnvironment(settings);
    this.cloneFunction = this.createCloneFunction(environment);
    const { cloneQueue, deadLetterQueue } = this.createCloneQueues();
    this.cloneQueue = cloneQueue;
    this.deadLetterQueue = deadLetterQueue;
    this.apiFunction = this.createApiFunction(environment);
    this.speechFunction = this.createSpeechFunction(environment);
    this.api = new VoicedropApi(this, 'Api', {
      handler: this.apiFunction.lambdaFunction,
      speechHandler: this.speechFunction.lambdaFunction,
      config: settings.api,
      accessLogRetention: settings.logRetentionDays,
      accessLogRemovalPolicy: removalPolicy,
    });
    this.retention = new VoicedropRetention(this, 'Retention', {
      bucket: this.bucket,
      table: this.table,
      secret: this.secret,
      retention: settings.retention,
      providerEnvironment: environment,
      providerTimeoutMs: settings.providerTimeoutMs,
      logRetention: settings.logRetentionDays,
      logRemovalPolicy: removalPolicy,
    });
    this.monitoring = this.createMonitoring();
    this.alarmTopic = this.monitoring.alarmTopic;
    this.alarms = this.monitoring.alarms;
    this.dashboard = this.monitoring.dashboard;
    keepFrameworkFunctionLogs(this, settings.logRetentionDays, removalPolicy);
  }

  /** The provider keys, one secret with an empty placeholder per provider. */
  private createProviderKeysSecret(): Secret {
    const secret = new Secret(this, 'ProviderKeys', {
      description:
        'voicedrop provider API keys as JSON {"smallest": "...", "typecast": "..."}; leave a provider empty if unused. ' +
        'Set with: aws secretsmanager put-secret-value --secret-id <ProviderKeysSecretArn> --secret-string file://keys.json',
      // Empty placeholders are not secret, so plain text in the template is fine. CloudFormation writes the
      // value only when this template text changes, so keys put afterwards survive later deploys; changing
      // this object would overwrite them.
      secretObjectValue: {
        smallest: SecretValue.unsafePlainText(''),
        typecast: SecretValue.unsafePlainText(''),
      },
      removalPolicy: this.removalPolicy,
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'The secret holds API keys issued by third parties (Smallest AI, Typecast), which Secrets Manager ' +
        'cannot rotate: a new key is created in the provider console, put into the secret, and the old one ' +
        'revoked there, following the key-rotation runbook in the README.',
    );

    return secret;
  }

  /** The clone function: validates an upload and clones it, reading the bucket, the table and the keys. */
  private createCloneFunction(providerEnvironment: Record<string, string>): HouseFunction {
    const { settings } = this;
    const cloneFunction = new HouseFunction(this, 'Clone', {
      entry: 'functions/clone/handler.ts',
      description: 'voicedrop clone: validates uploaded audio and clones the voice through the provider',
      memorySize: CLONE_MEMORY_MB,
      timeout: CLONE_TIMEOUT,
      serviceName: SERVICE_NAMES.clone,
      metricsNamespace: METRICS_NAMESPACE,
      logRetention: settings.logRetentionDays,
      logRemovalPolicy: this.removalPolicy,
      environment: {
        ...providerEnvironment,
        ...qualityEnvironment(settings),
        [ENV.providerTimeoutMs]: String(settings.providerTimeoutMs),
        [ENV.cloneMaxReceiveCount]: String(settings.cloneQueue.maxReceiveCount),
        [ENV.consentRequired]: String(settings.consent.required),
      },
    })
      .readsUploads(this.bucket)
      .readsVoicesTable(this.table)
      .writesVoicesTable(this.table)
      // Reconciling a Typecast clone by name excludes the voices it already knows (a filtered index query).
      .listsVoices(this.table)
      // A voice whose consent was revoked while it was cloned is deleted everywhere at once.
      .deletesUploads(this.bucket)
      .deletesSpeechCache(this.bucket)
      .deletesStoredSpeech(this.bucket)
      .readsProviderKeys(this.secret);
    acknowledge(
      cloneFunction.lambdaFunction,
      'Serverless-LambdaDLQ',
      'Only the SQS event source invokes this function, synchronously; a function dead-letter queue applies ' +
        'to asynchronous invocations only. Records that fail return to the clone queue and move to its ' +
        'dead-letter queue after maxReceiveCount deliveries.',
    );

    return cloneFunction;
  }

  /** The API function: everything but speech (lists, reads and deletes voices, presigns uploads, consents). */
  private createApiFunction(providerEnvironment: Record<string, string>): HouseFunction {
    const { settings } = this;
    const apiFunction = new HouseFunction(this, 'ApiFunction', {
      entry: 'functions/api/handler.ts',
      description:
        'voicedrop api: lists, reads and deletes voices (with their cached speech); presigns uploads',
      memorySize: API_MEMORY_MB,
      timeout: API_TIMEOUT,
      serviceName: SERVICE_NAMES.api,
      metricsNamespace: METRICS_NAMESPACE,
      logRetention: settings.logRetentionDays,
      logRemovalPolicy: this.removalPolicy,
      environment: {
        ...providerEnvironment,
        [ENV.providerTimeoutMs]: String(Math.min(settings.providerTimeoutMs, API_PROVIDER_TIMEOUT_MS)),
        [ENV.uploadUrlTtlSeconds]: String(settings.uploadUrlTtlSeconds),
        [ENV.consentRequired]: String(settings.consent.required),
      },
    })
      .readsVoicesTable(this.table)
      .updatesVoicesTable(this.table)
      .listsVoices(this.table)
      .recordsConsents(this.table)
      .listsConsentVoices(this.table)
      .readsConsentEvidence(this.bucket)
      .presignsUploads(this.bucket)
      .deletesUploads(this.bucket)
      .deletesSpeechCache(this.bucket)
      .deletesStoredSpeech(this.bucket)
      .readsProviderKeys(this.secret);
    acknowledge(
      apiFunction.lambdaFunction,
      'Serverless-LambdaDLQ',
      'Only API Gateway invokes this function, synchronously; a function dead-letter queue applies to ' +
        'asynchronous invocations only, and a failed request is answered to its caller.',
    );

    return apiFunction;
  }

  /** The speech function: the streamed speech route. */
  private createSpeechFunction(providerEnvironment: Record<string, string>): HouseFunction {
    // The same bundle as the api function (one asset), its other export: the speech route's answer streams.
    const { settings } = this;
    const speechFunction = new HouseFunction(this, 'SpeechFunction', {
      entry: 'functions/api/handler.ts',
      handler: 'speechHandler',
      description:
        'voicedrop speech: speaks text with a voice, streamed as it is synthesized, through the synthesis cache',
      memorySize: SPEECH_MEMORY_MB,
      timeout: SPEECH_TIMEOUT,
      serviceName: SERVICE_NAMES.speech,
      metricsNamespace: METRICS_NAMESPACE,
      logRetention: settings.logRetentionDays,
      logRemovalPolicy: this.removalPolicy,
      environment: {
        ...providerEnvironment,
        [ENV.providerTimeoutMs]: String(settings.providerTimeoutMs),
        [ENV.speechUrlTtlSeconds]: String(settings.speechUrlTtlSeconds),
        [ENV.uploadUrlTtlSeconds]: String(settings.uploadUrlTtlSeconds),
      },
    })
      .readsVoicesTable(this.table)
      .updatesVoicesTable(this.table)
      .storesSpeech(this.bucket)
      .cachesSpeech(this.bucket)
      .readsProviderKeys(this.secret);
    acknowledge(
      speechFunction.lambdaFunction,
      'Serverless-LambdaDLQ',
      'Only API Gateway invokes this function, synchronously (a streamed response); a function dead-letter ' +
        'queue applies to asynchronous invocations only, and a failed request is answered to its caller.',
    );

    return speechFunction;
  }

  /**
   * The clone queue (and its dead-letter queue) between the bucket's notifications and the clone function.
   */
  private createCloneQueues(): { cloneQueue: Queue; deadLetterQueue: Queue } {
    const { settings } = this;
    // SQS keeps a message's original enqueue time when it moves to a DLQ, so the DLQ must keep messages
    // longer than the source queue or failures expire before anyone looks.
    const deadLetterQueue = new Queue(this, 'CloneDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      deadLetterQueue,
      'Serverless-SQSRedrivePolicy',
      'This is the dead-letter queue of the clone queue; its messages wait here for a person to redrive them.',
    );

    // Lambda's poller may retry a throttled batch while its messages are still invisible; six function
    // timeouts plus the batching window keep a slow batch from being delivered twice.
    const visibilityTimeout = Duration.seconds(
      this.cloneFunction.timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR +
        settings.cloneQueue.maxBatchingWindowSeconds,
    );
    assertVisibilityCoversFunction(visibilityTimeout, this.cloneFunction.timeout);
    const cloneQueue = new Queue(this, 'CloneQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.cloneQueue.maxReceiveCount },
    });

    // An upload waiting for a provider slot goes back to the queue as a new message (functions/clone/
    // redeliveries.ts), so waiting does not use up its deliveries.
    cloneQueue.grantSendMessages(this.cloneFunction.lambdaFunction);

    // S3 notifications are at-least-once and bursty; the queue adds backpressure, retries and a DLQ.
    this.bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(cloneQueue), {
      prefix: INCOMING_PREFIX,
    });
    this.cloneFunction.lambdaFunction.addEventSource(
      new SqsEventSource(cloneQueue, {
        batchSize: settings.cloneQueue.batchSize,
        maxBatchingWindow: Duration.seconds(settings.cloneQueue.maxBatchingWindowSeconds),
        maxConcurrency: settings.cloneQueue.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
    for (const mapping of this.cloneFunction.lambdaFunction.node.children) {
      if (!(mapping instanceof EventSourceMapping)) continue;
      acknowledge(
        mapping,
        'Serverless-LambdaEventSourceMappingDestination',
        'SQS event sources take no on-failure destination (Lambda offers it for streams and Kafka); failed ' +
          "records go to the clone queue's dead-letter queue through its redrive policy.",
      );
    }

    return { cloneQueue, deadLetterQueue };
  }

  /** Alarms on every function and queue, their topic, and the dashboard. */
  private createMonitoring(): VoicedropMonitoring {
    return new VoicedropMonitoring(this, 'Monitoring', {
      cloneQueue: this.cloneQueue,
      deadLetterQueue: this.deadLetterQueue,
      cloneFunction: this.cloneFunction.lambdaFunction,
      apiFunction: this.apiFunction.lambdaFunction,
      speechFunction: this.speechFunction.lambdaFunction,
      retentionFunction: this.retention.retentionFunction.lambdaFunction,
      otherAlarms: this.events.alarms,
      otherFunctions: [
        { title: 'Events function', fn: this.events.eventsFunction.lambdaFunction },
        ...(this.events.webhookFunction
          ? [{ title: 'Webhook function', fn: this.events.webhookFunction.lambdaFunction }]
          : []),
      ],
      apiStage: this.api.restApi.deploymentStage,
      oldestCloneMessageAge: Duration.minutes(this.settings.alarms.oldestMessageAgeMinutes),
      alarmEmail: this.settings.alarmEmail ?? undefined,
      dashboardName: this.settings.dashboardName,
    });
  }

  /** What happens to the data, the logs and the keys when the stack is deleted (settings.removalPolicy). */
  private get removalPolicy(): RemovalPolicy {
    return this.settings.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  }
}

/** What every function that talks to a provider is told: default provider, base URLs, models, concurrency. */
function providerEnvironment(settings: VoicedropPipelineSettings): Record<string, string> {
  const values = (provider: ProviderName) => {
    const { baseUrl, model, cloneConcurrency, speechConcurrency } = settings.providers[provider];
    return {
      baseUrl,
      defaultModel: model,
      cloneConcurrency: String(cloneConcurrency),
      speechConcurrency: String(speechConcurrency),
    };
  };
  const byProvider = Object.fromEntries(
    PROVIDER_NAMES.map((provider) => [provider, values(provider)]),
  ) as Record<ProviderName, ReturnType<typeof values>>;
  // Setting by setting, each provider's in turn (the order the template has always had).
  const perProvider = PROVIDER_SETTINGS.flatMap((setting) =>
    PROVIDER_NAMES.map((provider) => [PROVIDER_ENV[provider][setting], byProvider[provider][setting]]),
  );
  return {
    [ENV.defaultProvider]: settings.defaultProvider,
    ...Object.fromEntries(perProvider),
    [ENV.trimDefault]: settings.validation.trim,
  };
}

const PROVIDER_SETTINGS = ['baseUrl', 'defaultModel', 'cloneConcurrency', 'speechConcurrency'] as const;

/** The quality thresholds, as the clone function reads them. */
function qualityEnvironment(settings: VoicedropPipelineSettings): Record<string, string> {
  return Object.fromEntries(
    Object.entries(QUALITY_THRESHOLD_NAMES).map(([key, names]) => [
      names.env,
      String(settings.validation.quality[key as keyof QualityThresholds]),
    ]),
  );
}

function assertVisibilityCoversFunction(visibilityTimeout: Duration, functionTimeout: Duration): void {
  const minimum = functionTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR;
  if (visibilityTimeout.toSeconds() < minimum) {
    throw new Error(
      `Clone queue visibility timeout (${visibilityTimeout.toSeconds()} s) must be at least ${VISIBILITY_TIMEOUT_FACTOR} × the clone function timeout (${minimum} s)`,
    );
  }
}
