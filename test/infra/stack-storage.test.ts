import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourceById, useDefaultStack } from './support';

// The default stack's storage and queues: the upload and access-log buckets, the clone queue, the voices
// table and the provider-keys secret.
/** The bucket policy statement both buckets carry: anyone's request that is not over TLS is refused. */
const DENIES_PLAIN_HTTP = Match.objectLike({
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 's3:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});

describe('Stack: Voicedrop with the cdk.json configuration', () => {
  const synthesized = useDefaultStack();

  describe('upload bucket', () => {
    it('is private, encrypted, versioned and expires old versions and abandoned uploads', () => {
      synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            }),
          ]),
        },
      });
    });

    it('is retained when the stack is deleted, and nothing empties it', () => {
      expect(resourceById(synthesized.template, synthesized.ids.bucket).DeletionPolicy).toBe('Retain');
      synthesized.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    });

    it('refuses every request that is not over TLS', () => {
      synthesized.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: synthesized.ids.bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([DENIES_PLAIN_HTTP]),
        },
      });
    });

    it('writes server access logs into the access-log bucket, below uploads/', () => {
      expect(
        resourceById(synthesized.template, synthesized.ids.bucket).Properties.LoggingConfiguration,
      ).toEqual({
        DestinationBucketName: { Ref: synthesized.ids.accessLogs },
        LogFilePrefix: 'uploads/',
      });
    });

    it('notifies the clone queue of objects created under incoming/ only', () => {
      synthesized.template.hasResourceProperties('Custom::S3BucketNotifications', {
        BucketName: { Ref: synthesized.ids.bucket },
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'incoming/' }] } },
              QueueArn: { 'Fn::GetAtt': [synthesized.ids.queue, 'Arn'] },
            },
          ],
        },
      });
    });

    it('lets only this bucket send to the clone queue', () => {
      synthesized.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: synthesized.ids.queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 's3.amazonaws.com' },
              Action: Match.arrayWith(['sqs:SendMessage']),
              Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [synthesized.ids.bucket, 'Arn'] } } },
            }),
          ]),
        },
      });
    });
  });

  describe('access-log bucket', () => {
    it('is private, encrypted with SSE-S3 (all S3 log delivery supports), without ACLs, and expires logs after 90 days', () => {
      expect(resourceById(synthesized.template, synthesized.ids.accessLogs).Properties).toEqual(
        expect.objectContaining({
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          LifecycleConfiguration: {
            Rules: [{ Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: 90 }],
          },
        }),
      );
      expect(
        resourceById(synthesized.template, synthesized.ids.accessLogs).Properties.LoggingConfiguration,
      ).toBeUndefined();
    });

    it('is retained with the data', () => {
      expect(resourceById(synthesized.template, synthesized.ids.accessLogs).DeletionPolicy).toBe('Retain');
    });

    it('refuses requests that are not over TLS 1.2, and takes logs from S3 for the upload bucket only', () => {
      synthesized.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: synthesized.ids.accessLogs },
        PolicyDocument: {
          Statement: Match.arrayWith([
            DENIES_PLAIN_HTTP,
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
            {
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: {
                'Fn::Join': ['', [{ 'Fn::GetAtt': [synthesized.ids.accessLogs, 'Arn'] }, '/uploads/*']],
              },
              Condition: {
                ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [synthesized.ids.bucket, 'Arn'] } },
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              },
            },
          ]),
        },
      });
    });
  });

  describe('clone queue', () => {
    it('moves a message to the dead-letter queue after maxReceiveCount deliveries', () => {
      synthesized.template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [synthesized.ids.deadLetterQueue, 'Arn'] },
          maxReceiveCount: 8,
        },
      });
    });

    it('keeps dead letters for 14 days, longer than the clone queue keeps messages', () => {
      const queue = resourceById(synthesized.template, synthesized.ids.queue).Properties;
      const deadLetters = resourceById(synthesized.template, synthesized.ids.deadLetterQueue).Properties;

      expect(deadLetters.MessageRetentionPeriod).toBe(Duration.days(14).toSeconds());
      expect(deadLetters.MessageRetentionPeriod as number).toBeGreaterThan(
        queue.MessageRetentionPeriod as number,
      );
    });

    it('encrypts both queues and refuses requests that are not over TLS', () => {
      for (const id of [synthesized.ids.queue, synthesized.ids.deadLetterQueue]) {
        expect(resourceById(synthesized.template, id).Properties.SqsManagedSseEnabled).toBe(true);
        synthesized.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });

    it('hides a message for at least six clone function timeouts', () => {
      const visibilityTimeout = resourceById(synthesized.template, synthesized.ids.queue).Properties
        .VisibilityTimeout as number;
      const functionTimeout = resourceById(synthesized.template, synthesized.ids.function).Properties
        .Timeout as number;

      expect(functionTimeout).toBe(300);
      expect(visibilityTimeout).toBeGreaterThanOrEqual(6 * functionTimeout);
    });

    it('feeds the clone function with partial batch failures and bounded concurrency', () => {
      synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [synthesized.ids.queue, 'Arn'] },
        FunctionName: { Ref: synthesized.ids.function },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 5,
        // An upload that arrives alone is cloned at once, not after a window.
        MaximumBatchingWindowInSeconds: 0,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });
  });

  describe('voices table', () => {
    it('is keyed by voiceId, on demand, with point-in-time recovery and encryption', () => {
      synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'voiceId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(resourceById(synthesized.template, synthesized.ids.table).DeletionPolicy).toBe('Retain');
    });

    it('has the byCreatedAt index for listing voices newest first, and the sparse byConsent index', () => {
      synthesized.template.hasResourceProperties('AWS::DynamoDB::Table', {
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'listPartition', AttributeType: 'S' },
          { AttributeName: 'createdAt', AttributeType: 'S' },
          { AttributeName: 'consentId', AttributeType: 'S' },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byCreatedAt',
            KeySchema: [
              { AttributeName: 'listPartition', KeyType: 'HASH' },
              { AttributeName: 'createdAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'byConsent',
            KeySchema: [
              { AttributeName: 'consentId', KeyType: 'HASH' },
              { AttributeName: 'createdAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      });
    });
  });

  describe('provider-keys secret', () => {
    it('starts as one JSON object with an empty placeholder per provider', () => {
      synthesized.template.hasResourceProperties('AWS::SecretsManager::Secret', {
        SecretString: JSON.stringify({ smallest: '', typecast: '' }),
        Description: Match.stringLikeRegexp('aws secretsmanager put-secret-value'),
      });
      expect(resourceById(synthesized.template, synthesized.ids.secret).DeletionPolicy).toBe('Retain');
    });
  });
});
