import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { INCOMING_PREFIX, SPEECH_PREFIX, VOICES_BY_CREATED_AT_INDEX, type VoicedropConfig } from './config';
import { HouseFunction } from './house-function';
import { VoicedropApi } from './voicedrop-api';

export { VOICES_BY_CREATED_AT_INDEX } from './config';

/** AWS's guidance for SQS event sources: visibility at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

const CLONE_TIMEOUT = Duration.minutes(5);
const CLONE_MEMORY_MB = 1024;
const NONCURRENT_VERSION_DAYS = 30;
/** Synthesized audio outlives its presigned URL (at most an hour) by far, and is gone within two days. */
const SPEECH_RETENTION_DAYS = 1;
/** API Gateway gives up on an integration after 29 s; the function may finish its answer just past that. */
const API_TIMEOUT = Duration.seconds(30);
const API_MEMORY_MB = 1024;
/** A provider call from the API must end in time for the answer to beat API Gateway's 29 s. */
const API_PROVIDER_TIMEOUT_MS = 25_000;

export interface VoicedropStackProps extends StackProps {
  /** The validated configuration (`readConfig(app)`), read once per synth. */
  readonly config: VoicedropConfig;
}

/**
 * voicedrop in one stack. The clone half: upload bucket → S3 notification (incoming/) → clone queue (with
 * DLQ) → clone function → voices table, with provider keys in one secret. The API half: a regional REST API
 * (IAM auth) → api function → table, bucket (speech/, incoming/) and providers. cdk-nag and alarms attach to
 * the public members below.
 */
export class VoicedropStack extends Stack {
  readonly config: VoicedropConfig;
  readonly uploadsBucket: Bucket;
  readonly voicesTable: Table;
  readonly providerKeys: Secret;
  readonly cloneFunction: HouseFunction;
  readonly cloneQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly apiFunction: HouseFunction;
  readonly api: VoicedropApi;

  constructor(scope: Construct, id: string, props: VoicedropStackProps) {
    super(scope, id, props);
    const config = props.config;
    this.config = config;
    const retain = config.removalPolicy === 'retain';
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    if (config.providerTimeoutMs >= CLONE_TIMEOUT.toMilliseconds()) {
      throw new Error(
        `voicedrop.providerTimeoutMs (${config.providerTimeoutMs}) must be below the clone function timeout (${CLONE_TIMEOUT.toMilliseconds()} ms)`,
      );
    }

    // Voice samples are biometric data: private, TLS only, encrypted, versioned so an overwrite or a
    // delete can be traced, and old versions expire on their own.
    this.uploadsBucket = new Bucket(this, 'Uploads', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
          // Once its noncurrent versions are gone a delete marker is all that is left of an object.
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'expire-synthesized-speech',
          prefix: SPEECH_PREFIX,
          expiration: Duration.days(SPEECH_RETENTION_DAYS),
          noncurrentVersionExpiration: Duration.days(SPEECH_RETENTION_DAYS),
        },
      ],
      removalPolicy,
      autoDeleteObjects: !retain,
    });

    this.voicesTable = new Table(this, 'Voices', {
      partitionKey: { name: 'voiceId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy,
    });
    // One constant partition for listing: a few thousand voices per deployment stay far below a
    // partition's limits, and a sorted Query pages without scanning the table.
    this.voicesTable.addGlobalSecondaryIndex({
      indexName: VOICES_BY_CREATED_AT_INDEX,
      partitionKey: { name: 'listPartition', type: AttributeType.STRING },
      sortKey: { name: 'createdAt', type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    this.providerKeys = new Secret(this, 'ProviderKeys', {
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
      removalPolicy,
    });

    const smallest = config.providers.smallest;
    const typecast = config.providers.typecast;
    const providerEnvironment = {
      DEFAULT_PROVIDER: config.defaultProvider,
      SMALLEST_API_BASE_URL: smallest.baseUrl,
      TYPECAST_API_BASE_URL: typecast.baseUrl,
      SMALLEST_DEFAULT_MODEL: smallest.model,
      TYPECAST_DEFAULT_MODEL: typecast.model,
    };
    this.cloneFunction = new HouseFunction(this, 'Clone', {
      entry: 'functions/clone/handler.ts',
      description: 'voicedrop clone: validates uploaded audio and clones the voice through the provider',
      memorySize: CLONE_MEMORY_MB,
      timeout: CLONE_TIMEOUT,
      serviceName: 'voicedrop-clone',
      logRetention: config.logRetentionDays,
      logRemovalPolicy: removalPolicy,
      environment: {
        ...providerEnvironment,
        PROVIDER_TIMEOUT_MS: String(config.providerTimeoutMs),
        CLONE_MAX_RECEIVE_COUNT: String(config.cloneQueue.maxReceiveCount),
      },
    })
      .readsUploads(this.uploadsBucket)
      .readsVoicesTable(this.voicesTable)
      .writesVoicesTable(this.voicesTable)
      .readsProviderKeys(this.providerKeys);

    // SQS keeps a message's original enqueue time when it moves to a DLQ, so the DLQ must keep messages
    // longer than the source queue or failures expire before anyone looks.
    this.deadLetterQueue = new Queue(this, 'CloneDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // Lambda's poller may retry a throttled batch while its messages are still invisible; six function
    // timeouts plus the batching window keep a slow batch from being delivered twice.
    const visibilityTimeout = Duration.seconds(
      this.cloneFunction.timeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR +
        config.cloneQueue.maxBatchingWindowSeconds,
    );
    assertVisibilityCoversFunction(visibilityTimeout, this.cloneFunction.timeout);
    this.cloneQueue = new Queue(this, 'CloneQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.cloneQueue.maxReceiveCount },
    });

    // S3 notifications are at-least-once and bursty; the queue adds backpressure, retries and a DLQ.
    this.uploadsBucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.cloneQueue), {
      prefix: INCOMING_PREFIX,
    });
    this.cloneFunction.lambdaFunction.addEventSource(
      new SqsEventSource(this.cloneQueue, {
        batchSize: config.cloneQueue.batchSize,
        maxBatchingWindow: Duration.seconds(config.cloneQueue.maxBatchingWindowSeconds),
        maxConcurrency: config.cloneQueue.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    this.apiFunction = new HouseFunction(this, 'ApiFunction', {
      entry: 'functions/api/handler.ts',
      description: 'voicedrop api: lists, reads, speaks with and deletes voices; presigns uploads',
      memorySize: API_MEMORY_MB,
      timeout: API_TIMEOUT,
      serviceName: 'voicedrop-api',
      logRetention: config.logRetentionDays,
      logRemovalPolicy: removalPolicy,
      environment: {
        ...providerEnvironment,
        PROVIDER_TIMEOUT_MS: String(Math.min(config.providerTimeoutMs, API_PROVIDER_TIMEOUT_MS)),
        SPEECH_URL_TTL_SECONDS: String(config.speechUrlTtlSeconds),
        UPLOAD_URL_TTL_SECONDS: String(config.uploadUrlTtlSeconds),
      },
    })
      .readsVoicesTable(this.voicesTable)
      .updatesVoicesTable(this.voicesTable)
      .listsVoices(this.voicesTable)
      .storesSpeech(this.uploadsBucket)
      .presignsUploads(this.uploadsBucket)
      .deletesUploads(this.uploadsBucket)
      .readsProviderKeys(this.providerKeys);

    this.api = new VoicedropApi(this, 'Api', {
      handler: this.apiFunction.lambdaFunction,
      config: config.api,
      accessLogRetention: config.logRetentionDays,
      accessLogRemovalPolicy: removalPolicy,
    });

    new CfnOutput(this, 'BucketName', {
      description: 'Upload audio to s3://<bucket>/incoming/<provider>/<file>',
      value: this.uploadsBucket.bucketName,
    });
    new CfnOutput(this, 'VoicesTableName', { value: this.voicesTable.tableName });
    new CfnOutput(this, 'ProviderKeysSecretName', { value: this.providerKeys.secretName });
    new CfnOutput(this, 'ProviderKeysSecretArn', {
      description: 'Put the provider keys here (see the secret description)',
      value: this.providerKeys.secretArn,
    });
    new CfnOutput(this, 'CloneQueueUrl', { value: this.cloneQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Uploads that failed every attempt; redrive to the clone queue after fixing the cause',
      value: this.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'ApiUrl', {
      description:
        config.api.authorization === 'iam'
          ? 'HTTPS API base URL (stage included); sign requests with SigV4 for service execute-api'
          : 'HTTPS API base URL (stage included); NO authorization: for test deployments only',
      value: this.api.url,
    });
    new CfnOutput(this, 'ApiFunctionName', { value: this.apiFunction.lambdaFunction.functionName });
  }
}

function assertVisibilityCoversFunction(visibilityTimeout: Duration, functionTimeout: Duration): void {
  const minimum = functionTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR;
  if (visibilityTimeout.toSeconds() < minimum) {
    throw new Error(
      `Clone queue visibility timeout (${visibilityTimeout.toSeconds()} s) must be at least ${VISIBILITY_TIMEOUT_FACTOR} × the clone function timeout (${minimum} s)`,
    );
  }
}
