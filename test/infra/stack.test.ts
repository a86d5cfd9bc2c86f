import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { HouseFunction } from '../../lib/house-function';
import type { VoicedropStack } from '../../lib/voicedrop-stack';
import {
  actionsOf,
  cdkJson,
  frameworkFunctionId,
  frameworkLogGroupId,
  functionsWithoutOwnLogGroup,
  identityStatements,
  logicalId,
  resourceById,
  retainedResources,
  rolesWithManagedPolicies,
  type Synthesized,
  synthesize,
  type TemplateResource,
  wildcardResourcePolicyGrants,
} from './support';

describe('Stack: Voicedrop with the cdk.json configuration', () => {
  let synthesized: Synthesized;
  let template: Template;
  let ids: {
    bucket: string;
    accessLogs: string;
    queue: string;
    deadLetterQueue: string;
    table: string;
    secret: string;
    function: string;
    logGroup: string;
    role: string;
  };

  beforeAll(() => {
    synthesized = synthesize();
    template = synthesized.template;
    const stack = synthesized.stack;
    ids = {
      bucket: logicalId(stack.pipeline.bucket),
      accessLogs: logicalId(stack.pipeline.accessLogsBucket),
      queue: logicalId(stack.pipeline.cloneQueue),
      deadLetterQueue: logicalId(stack.pipeline.deadLetterQueue),
      table: logicalId(stack.pipeline.table),
      secret: logicalId(stack.pipeline.secret),
      function: logicalId(stack.pipeline.cloneFunction.lambdaFunction),
      logGroup: logicalId(stack.pipeline.cloneFunction.logGroup),
      role: logicalId(stack.pipeline.cloneFunction.role),
    };
  });

  describe('upload bucket', () => {
    it('is private, encrypted, versioned and expires old versions and abandoned uploads', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
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
      expect(resourceById(template, ids.bucket).DeletionPolicy).toBe('Retain');
      template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    });

    it('refuses every request that is not over TLS', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: ids.bucket },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('writes server access logs into the access-log bucket, below uploads/', () => {
      expect(resourceById(template, ids.bucket).Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: ids.accessLogs },
        LogFilePrefix: 'uploads/',
      });
    });

    it('notifies the clone queue of objects created under incoming/ only', () => {
      template.hasResourceProperties('Custom::S3BucketNotifications', {
        BucketName: { Ref: ids.bucket },
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'incoming/' }] } },
              QueueArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
            },
          ],
        },
      });
    });

    it('lets only this bucket send to the clone queue', () => {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: ids.queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 's3.amazonaws.com' },
              Action: Match.arrayWith(['sqs:SendMessage']),
              Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.bucket, 'Arn'] } } },
            }),
          ]),
        },
      });
    });
  });

  describe('access-log bucket', () => {
    it('is private, encrypted with SSE-S3 (all S3 log delivery supports), without ACLs, and expires logs after 90 days', () => {
      expect(resourceById(template, ids.accessLogs).Properties).toEqual(
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
      expect(resourceById(template, ids.accessLogs).Properties.LoggingConfiguration).toBeUndefined();
    });

    it('is retained with the data', () => {
      expect(resourceById(template, ids.accessLogs).DeletionPolicy).toBe('Retain');
    });

    it('refuses requests that are not over TLS 1.2, and takes logs from S3 for the upload bucket only', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: ids.accessLogs },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            }),
            {
              Effect: 'Allow',
              Principal: { Service: 'logging.s3.amazonaws.com' },
              Action: 's3:PutObject',
              Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.accessLogs, 'Arn'] }, '/uploads/*']] },
              Condition: {
                ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.bucket, 'Arn'] } },
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
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] },
          maxReceiveCount: 8,
        },
      });
    });

    it('keeps dead letters for 14 days, longer than the clone queue keeps messages', () => {
      const queue = resourceById(template, ids.queue).Properties;
      const deadLetters = resourceById(template, ids.deadLetterQueue).Properties;

      expect(deadLetters.MessageRetentionPeriod).toBe(Duration.days(14).toSeconds());
      expect(deadLetters.MessageRetentionPeriod as number).toBeGreaterThan(
        queue.MessageRetentionPeriod as number,
      );
    });

    it('encrypts both queues and refuses requests that are not over TLS', () => {
      for (const id of [ids.queue, ids.deadLetterQueue]) {
        expect(resourceById(template, id).Properties.SqsManagedSseEnabled).toBe(true);
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
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
      const visibilityTimeout = resourceById(template, ids.queue).Properties.VisibilityTimeout as number;
      const functionTimeout = resourceById(template, ids.function).Properties.Timeout as number;

      expect(functionTimeout).toBe(300);
      expect(visibilityTimeout).toBeGreaterThanOrEqual(6 * functionTimeout);
    });

    it('feeds the clone function with partial batch failures and bounded concurrency', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        FunctionName: { Ref: ids.function },
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
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'voiceId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(resourceById(template, ids.table).DeletionPolicy).toBe('Retain');
    });

    it('has the byCreatedAt index for listing voices newest first', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'listPartition', AttributeType: 'S' },
          { AttributeName: 'createdAt', AttributeType: 'S' },
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
        ],
      });
    });
  });

  describe('provider-keys secret', () => {
    it('starts as one JSON object with an empty placeholder per provider', () => {
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        SecretString: JSON.stringify({ smallest: '', typecast: '' }),
        Description: Match.stringLikeRegexp('aws secretsmanager put-secret-value'),
      });
      expect(resourceById(template, ids.secret).DeletionPolicy).toBe('Retain');
    });
  });

  describe('clone function', () => {
    it('runs Node.js 24 on arm64 with explicit memory and timeout', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 300,
      });
      expect(resourceById(template, ids.function).Properties.ReservedConcurrentExecutions).toBeUndefined();
    });

    it('traces every invocation with X-Ray', () => {
      expect(resourceById(template, ids.function).Properties.TracingConfig).toEqual({ Mode: 'Active' });
    });

    it('logs JSON into its own log group, kept for the configured retention', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', LogGroup: { Ref: ids.logGroup } },
      });
      template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('gets every variable the clone handler reads', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            VOICES_TABLE_NAME: { Ref: ids.table },
            PROVIDER_KEYS_SECRET_ARN: { Ref: ids.secret },
            DEFAULT_PROVIDER: 'smallest',
            SMALLEST_API_BASE_URL: 'https://api.smallest.ai',
            TYPECAST_API_BASE_URL: 'https://api.typecast.ai',
            SMALLEST_DEFAULT_MODEL: 'lightning-v3.1',
            TYPECAST_DEFAULT_MODEL: 'ssfm-v30',
            PROVIDER_TIMEOUT_MS: '60000',
            SMALLEST_CLONE_CONCURRENCY: '1',
            TYPECAST_CLONE_CONCURRENCY: '2',
            SMALLEST_SPEECH_CONCURRENCY: '1',
            TYPECAST_SPEECH_CONCURRENCY: '2',
            CLONE_MAX_RECEIVE_COUNT: '8',
            POWERTOOLS_SERVICE_NAME: 'voicedrop-clone',
            POWERTOOLS_METRICS_NAMESPACE: 'Voicedrop',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            // The bundle maps its own stack traces on first use: Node reading the map at cold start costs ~15 ms.
            NODE_OPTIONS: Match.absent(),
          },
        },
      });
    });

    it('tells the handler the same maxReceiveCount the queue redrives at', () => {
      const variables = (
        resourceById(template, ids.function).Properties.Environment as { Variables: Record<string, unknown> }
      ).Variables;
      const redrive = resourceById(template, ids.queue).Properties.RedrivePolicy as {
        maxReceiveCount: number;
      };

      expect(variables.CLONE_MAX_RECEIVE_COUNT).toBe(String(redrive.maxReceiveCount));
    });

    it('is bundled as a minified ES module with a require shim and an unannounced source map beside it', () => {
      const assembly = synthesized.app.synth();
      const code = resourceById(template, ids.function).Properties.Code as { S3Key: string };
      const assetDirectory = path.join(assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
      const bundle = readFileSync(path.join(assetDirectory, 'index.mjs'), 'utf8');
      const map = JSON.parse(readFileSync(path.join(assetDirectory, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
        sourcesContent?: unknown;
      };

      expect(bundle).toMatch(/^import \{ createRequire as \w+ \} from 'node:module'; const require = /);
      expect(bundle).toMatch(/export\s*\{\s*\w+ as handler\s*\}/);
      expect(bundle).not.toContain('sourceMappingURL');
      expect(map.sources.some((source) => source.endsWith('functions/clone/batch.ts'))).toBe(true);
      expect(map.sourcesContent).toBeUndefined();
    });
  });

  describe('permissions', () => {
    it('gives the clone role exactly the actions it needs, on exactly its resources', () => {
      const granted = identityStatements(template)
        .filter(({ roles }) => roles.includes(ids.role))
        .map(({ statement }) => ({
          effect: statement.Effect,
          actions: [...actionsOf(statement)].sort(),
          resource: statement.Resource,
        }));

      expect(granted).toEqual(
        expect.arrayContaining([
          {
            effect: 'Allow',
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resource: { 'Fn::GetAtt': [ids.logGroup, 'Arn'] },
          },
          { effect: 'Allow', actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resource: '*' },
          {
            effect: 'Allow',
            actions: ['s3:GetObject', 's3:GetObjectVersion'],
            resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.bucket, 'Arn'] }, '/incoming/*']] },
          },
          { effect: 'Allow', actions: ['s3:ListBucket'], resource: { 'Fn::GetAtt': [ids.bucket, 'Arn'] } },
          {
            effect: 'Allow',
            actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
          },
          {
            effect: 'Allow',
            actions: ['dynamodb:Query'],
            resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, '/index/byCreatedAt']] },
          },
          { effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resource: { Ref: ids.secret } },
          {
            effect: 'Allow',
            actions: [
              'sqs:ChangeMessageVisibility',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:ReceiveMessage',
              // Requeues an upload that waits for a provider slot (functions/clone/redeliveries.ts).
              'sqs:SendMessage',
            ],
            resource: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
          },
        ]),
      );
      expect(granted.flatMap(({ actions }) => actions).sort()).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:ListBucket',
        'secretsmanager:GetSecretValue',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    });

    it('gives the clone role no managed policy (AWSLambdaBasicExecutionRole may write any log group)', () => {
      expect(resourceById(template, ids.role).Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('allows no wildcard action in any role or policy of the stack, CDK framework roles included', () => {
      const wildcards = identityStatements(template).flatMap(({ roles, statement }) =>
        actionsOf(statement)
          .filter((action) => action.includes('*'))
          .map((action) => `${roles.join(',')}: ${action}`),
      );

      expect(identityStatements(template).length).toBeGreaterThan(10);
      expect(wildcards).toEqual([]);
    });

    it('attaches AWS managed policies only to CDK framework roles and the API Gateway logging role', () => {
      expect(rolesWithManagedPolicies(template).sort()).toEqual(
        [
          'BucketNotificationsHandler050a0587b7544547bf325f094a3db834RoleB6FB88EC: AWSLambdaBasicExecutionRole',
          `${logicalId(synthesized.stack.pipeline.api.restApi.node.findChild('CloudWatchRole'))}: AmazonAPIGatewayPushToCloudWatchLogs`,
        ].sort(),
      );
    });

    it('grants wildcard actions in resource policies only to the account root of the alarm key', () => {
      expect(wildcardResourcePolicyGrants(template)).toEqual([
        `AWS::KMS::Key ${logicalId(synthesized.stack.pipeline.monitoring.alarmTopicKey)}: kms:* to account root`,
      ]);
    });
  });

  describe('removal', () => {
    it('keeps the data, its logs and the account-wide API Gateway logging role when the stack is deleted', () => {
      const { pipeline } = synthesized.stack;

      expect(retainedResources(template)).toEqual(
        [
          ids.bucket,
          ids.accessLogs,
          ids.table,
          ids.secret,
          ids.logGroup,
          logicalId(pipeline.apiFunction.logGroup),
          logicalId(pipeline.api.accessLogGroup),
          frameworkLogGroupId(template, 'BucketNotificationsHandler'),
          logicalId(pipeline.api.restApi.node.findChild('CloudWatchRole')),
          Object.keys(template.findResources('AWS::ApiGateway::Account'))[0],
        ].sort(),
      );
    });

    it('protects the table from deletion while the data is retained', () => {
      expect(resourceById(template, ids.table).Properties.DeletionProtectionEnabled).toBe(true);
    });

    it('deletes what holds no data: queues and the alarm key', () => {
      expect(resourceById(template, ids.queue).DeletionPolicy).toBe('Delete');
      expect(resourceById(template, ids.deadLetterQueue).DeletionPolicy).toBe('Delete');
      expect(
        resourceById(template, logicalId(synthesized.stack.pipeline.monitoring.alarmTopicKey)),
      ).toMatchObject({
        DeletionPolicy: 'Delete',
        Properties: { PendingWindowInDays: 7 },
      });
    });
  });

  describe('logs', () => {
    it('keeps every log group of the stack for the configured 30 days', () => {
      const retention = Object.values(template.findResources('AWS::Logs::LogGroup')).map(
        (resource) => (resource as TemplateResource).Properties.RetentionInDays,
      );

      expect(retention).toEqual([30, 30, 30, 30]);
    });

    it('sends every function of the stack, CDK’s bucket-notifications function included, to a log group of the stack', () => {
      expect(functionsWithoutOwnLogGroup(template)).toEqual([]);
      expect(
        resourceById(template, frameworkFunctionId(template, 'BucketNotificationsHandler')).Properties
          .LoggingConfig,
      ).toEqual({ LogGroup: { Ref: frameworkLogGroupId(template, 'BucketNotificationsHandler') } });
    });
  });

  describe('alarms and dashboard', () => {
    it('watch this pipeline’s queues, functions and API stage', () => {
      const { pipeline } = synthesized.stack;
      const watched = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((resource) => {
        const properties = (resource as TemplateResource).Properties;
        return { metric: properties.MetricName, dimensions: properties.Dimensions };
      });

      expect(watched).toEqual(
        expect.arrayContaining([
          {
            metric: 'ApproximateNumberOfMessagesVisible',
            dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.deadLetterQueue, 'QueueName'] } }],
          },
          {
            metric: 'ApproximateAgeOfOldestMessage',
            dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
          },
          { metric: 'Errors', dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.function } }] },
          {
            metric: 'Throttles',
            dimensions: [
              { Name: 'FunctionName', Value: { Ref: logicalId(pipeline.apiFunction.lambdaFunction) } },
            ],
          },
          {
            metric: '5XXError',
            dimensions: [
              { Name: 'ApiName', Value: 'Voicedrop-api' },
              { Name: 'Stage', Value: { Ref: logicalId(pipeline.api.restApi.deploymentStage) } },
            ],
          },
        ]),
      );
      expect(watched).toHaveLength(8);
    });

    it('alarm after 60 minutes of the oldest upload waiting, the cdk.json default', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: 3600,
      });
    });

    it('subscribe nobody when no alarm e-mail is configured', () => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('name the dashboard after the stack', () => {
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Voicedrop' });
    });
  });

  it('outputs what a user needs after deploying', () => {
    const { pipeline } = synthesized.stack;

    expect(Object.keys(template.findOutputs('*')).sort()).toEqual([
      'AccessLogsBucketName',
      'AlarmTopicArn',
      'ApiFunctionName',
      'ApiUrl',
      'BucketName',
      'CloneQueueUrl',
      'DashboardName',
      'DashboardUrl',
      'DeadLetterQueueName',
      'DeadLetterQueueUrl',
      'ProviderKeysSecretArn',
      'ProviderKeysSecretName',
      'VoicesTableName',
    ]);
    template.hasOutput('BucketName', { Value: { Ref: ids.bucket } });
    template.hasOutput('AccessLogsBucketName', { Value: { Ref: ids.accessLogs } });
    template.hasOutput('VoicesTableName', { Value: { Ref: ids.table } });
    template.hasOutput('ProviderKeysSecretArn', { Value: { Ref: ids.secret } });
    template.hasOutput('CloneQueueUrl', { Value: { Ref: ids.queue } });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: ids.deadLetterQueue } });
    template.hasOutput('DeadLetterQueueName', {
      Value: { 'Fn::GetAtt': [ids.deadLetterQueue, 'QueueName'] },
    });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(pipeline.alarmTopic) } });
    template.hasOutput('DashboardName', { Value: { Ref: logicalId(pipeline.dashboard) } });
    const url = JSON.stringify(template.findOutputs('DashboardUrl').DashboardUrl?.Value);
    expect(url).toContain('"Fn::FindInMap":["ConsoleHosts",{"Ref":"AWS::Partition"},"host"]');
    expect(url).toContain(`#dashboards/dashboard/",{"Ref":"${logicalId(pipeline.dashboard)}"}`);
  });
});

describe('Stack: Voicedrop with removalPolicy "destroy" and overrides', () => {
  let template: Template;
  let stack: VoicedropStack;

  beforeAll(() => {
    ({ template, stack } = synthesize({
      removalPolicy: 'destroy',
      logRetentionDays: 7,
      cloneQueue: { maxReceiveCount: 3, maxConcurrency: 5, maxBatchingWindowSeconds: 2 },
      alarmEmail: 'ops@example.com',
      alarms: { oldestMessageAgeMinutes: 90 },
    }));
  });

  it('deletes the data and its logs with the stack, emptying both buckets first', () => {
    const { pipeline } = stack;
    const autoDeleted = Object.values(template.findResources('Custom::S3AutoDeleteObjects')).map(
      (resource) => (resource as TemplateResource).Properties.BucketName,
    );

    expect(retainedResources(template)).toEqual(
      [
        logicalId(pipeline.api.restApi.node.findChild('CloudWatchRole')),
        Object.keys(template.findResources('AWS::ApiGateway::Account'))[0],
      ].sort(),
    );
    for (const construct of [pipeline.bucket, pipeline.accessLogsBucket, pipeline.table, pipeline.secret]) {
      expect(resourceById(template, logicalId(construct)).DeletionPolicy, construct.node.path).toBe('Delete');
    }
    expect(autoDeleted).toEqual(
      expect.arrayContaining([
        { Ref: logicalId(pipeline.bucket) },
        { Ref: logicalId(pipeline.accessLogsBucket) },
      ]),
    );
    expect(autoDeleted).toHaveLength(2);
  });

  it('turns the table’s deletion protection off, and keeps point-in-time recovery on', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: false,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('sends CDK’s auto-delete function to a log group of the stack, deleted with it', () => {
    const logs = frameworkLogGroupId(template, 'CustomS3AutoDeleteObjects');

    expect(functionsWithoutOwnLogGroup(template)).toEqual([]);
    expect(
      resourceById(template, frameworkFunctionId(template, 'CustomS3AutoDeleteObjects')).Properties,
    ).toMatchObject({ LoggingConfig: { LogGroup: { Ref: logs } } });
    expect(resourceById(template, logs)).toMatchObject({
      DeletionPolicy: 'Delete',
      Properties: { RetentionInDays: 7 },
    });
  });

  it('lets only CDK’s auto-delete function hold wildcard actions in the bucket policies, besides the key root', () => {
    const provider = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith('CustomS3AutoDeleteObjectsCustomResourceProviderRole'),
    );
    const buckets = [logicalId(stack.pipeline.accessLogsBucket), logicalId(stack.pipeline.bucket)];

    expect(wildcardResourcePolicyGrants(template)).toEqual([
      ...buckets.flatMap((bucket) =>
        ['s3:DeleteObject*', 's3:GetBucket*', 's3:List*'].map(
          (action) => `AWS::S3::BucketPolicy ${bucket}: ${action} to ${provider}`,
        ),
      ),
      `AWS::KMS::Key ${logicalId(stack.pipeline.monitoring.alarmTopicKey)}: kms:* to account root`,
    ]);
  });

  it('subscribes the alarm e-mail to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(stack.pipeline.alarmTopic) },
    });
  });

  it('takes the backlog alarm threshold from the configuration', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 5400,
    });
  });

  it('takes queue settings and log retention from the configuration', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 5 },
      MaximumBatchingWindowInSeconds: 2,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLONE_MAX_RECEIVE_COUNT: '3' }) },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('Class: HouseFunction', () => {
  function houseFunction(): HouseFunction {
    const stack = new Stack(new App({ context: cdkJson.context }), 'Test');
    return new HouseFunction(stack, 'Example', {
      entry: 'functions/clone/handler.ts',
      description: 'example',
      memorySize: 256,
      timeout: Duration.seconds(10),
      serviceName: 'example',
      metricsNamespace: 'Example',
      logRetention: RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
  }

  it('throws when one environment variable is set to two different values', () => {
    const example = houseFunction().addEnvironment('VOICES_TABLE_NAME', 'first');

    expect(() => example.addEnvironment('VOICES_TABLE_NAME', 'first')).not.toThrow();
    expect(() => example.addEnvironment('VOICES_TABLE_NAME', 'second')).toThrow(
      /already set to a different value/,
    );
  });
});
