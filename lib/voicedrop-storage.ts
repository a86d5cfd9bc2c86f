/** The pipeline's storage: the uploads bucket, its access-log bucket and the voices table. */
import { Duration, FeatureFlags, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import {
  SPEECH_CACHE_PREFIX,
  SPEECH_PREFIX,
  VOICES_TABLE,
  VOICES_TABLE_INDEXES,
} from '../functions/shared/contract';

/** Old versions of an upload (after an overwrite or a delete) are kept this long, for tracing. */
const NONCURRENT_VERSION_DAYS = 30;
/** Synthesized audio outlives its presigned URL (at most an hour) by far, and is gone within two days. */
const SPEECH_RETENTION_DAYS = 1;
/** S3 server access logs name objects (file names can be people's names) and callers' IP addresses. */
const ACCESS_LOG_RETENTION_DAYS = 90;

/** S3 server access logs of the uploads bucket, expiring on their own. */
export function createAccessLogsBucket(scope: Construct, removalPolicy: RemovalPolicy): Bucket {
  // Server access-log delivery supports SSE-S3 only.
  const bucket = new Bucket(scope, 'AccessLogs', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: accessLogsObjectOwnership(scope),
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.S3_MANAGED,
    lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS) }],
    removalPolicy,
    autoDeleteObjects: removalPolicy !== RemovalPolicy.RETAIN,
  });
  return bucket;
}

/** The uploads bucket: incoming samples, the synthesis cache and stored speech, each with its lifecycle. */
export function createUploadsBucket(
  scope: Construct,
  accessLogsBucket: Bucket,
  speechCacheDays: number,
  removalPolicy: RemovalPolicy,
): Bucket {
  // Voice samples are biometric data: private, TLS only, encrypted, access-logged, versioned so an
  // overwrite or a delete can be traced, and old versions expire on their own.
  const bucket = new Bucket(scope, 'Uploads', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    encryption: BucketEncryption.S3_MANAGED,
    versioned: true,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: 'uploads/',
    lifecycleRules: [
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
        // Once its noncurrent versions are gone a delete marker is all that is left of an object.
        expiredObjectDeleteMarker: true,
      },
      {
        id: 'expire-speech-cache',
        prefix: SPEECH_CACHE_PREFIX,
        expiration: Duration.days(speechCacheDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
      {
        id: 'expire-synthesized-speech',
        prefix: SPEECH_PREFIX,
        expiration: Duration.days(SPEECH_RETENTION_DAYS),
        noncurrentVersionExpiration: Duration.days(SPEECH_RETENTION_DAYS),
      },
    ],
    removalPolicy,
    autoDeleteObjects: removalPolicy !== RemovalPolicy.RETAIN,
  });

  return bucket;
}

/** The voices table, its indexes (VOICES_TABLE_INDEXES) and its stream. */
export function createVoicesTable(scope: Construct, removalPolicy: RemovalPolicy): Table {
  const table = new Table(scope, 'Voices', {
    partitionKey: { name: VOICES_TABLE.partitionKey, type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    removalPolicy,
    // Read by the events function (lib/voicedrop-events.ts): every committed status change.
    stream: StreamViewType.NEW_AND_OLD_IMAGES,
  });
  // byCreatedAt: one constant partition for listing; a few thousand voices per deployment stay far below a
  // partition's limits, and a sorted Query pages without scanning the table. byConsent: sparse, only voice
  // records that named a consent carry `consentId`; revoking a consent reads its voices there instead of
  // scanning the table. Local mode creates its table from the same list.
  for (const index of VOICES_TABLE_INDEXES) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }

  return table;
}

/**
 * With the feature flag serverAccessLogsUseBucketPolicy (cdk.json sets it), CDK lets S3 deliver access logs
 * by a bucket policy for the logging service, so ACLs stay disabled (BucketOwnerEnforced). An app without
 * the flag gets delivery by the LogDeliveryWrite ACL, which S3 honours only with ObjectWriter ownership.
 */
export function accessLogsObjectOwnership(scope: Construct): ObjectOwnership {
  return FeatureFlags.of(scope).isEnabled(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY)
    ? ObjectOwnership.BUCKET_OWNER_ENFORCED
    : ObjectOwnership.OBJECT_WRITER;
}
