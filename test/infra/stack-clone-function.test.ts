import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  expectExactly,
  grantsTo,
  identityStatements,
  logicalId,
  resourceById,
  rolesWithManagedPolicies,
  useDefaultStack,
  wildcardResourcePolicyGrants,
} from './support';

// The default stack's clone function and the permissions of every role and resource policy.
describe('Stack: Voicedrop with the cdk.json configuration', () => {
  const synthesized = useDefaultStack();

  describe('clone function', () => {
    it('runs Node.js 24 on arm64 with explicit memory and timeout', () => {
      synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 300,
      });
      expect(
        resourceById(synthesized.template, synthesized.ids.function).Properties.ReservedConcurrentExecutions,
      ).toBeUndefined();
    });

    it('traces every invocation with X-Ray', () => {
      expect(resourceById(synthesized.template, synthesized.ids.function).Properties.TracingConfig).toEqual({
        Mode: 'Active',
      });
    });

    it('logs JSON into its own log group, kept for the configured retention', () => {
      synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: {
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          LogGroup: { Ref: synthesized.ids.logGroup },
        },
      });
      synthesized.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    });

    it('gets every variable the clone handler reads', () => {
      synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            VOICES_TABLE_NAME: { Ref: synthesized.ids.table },
            PROVIDER_KEYS_SECRET_ARN: { Ref: synthesized.ids.secret },
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
            TRIM_DEFAULT: 'off',
            QUALITY_SILENCE_PEAK_DBFS: '-60',
            QUALITY_MIN_SPEECH_LEVEL_DBFS: '-50',
            QUALITY_MAX_CLIPPED_RATIO: '0.01',
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
        resourceById(synthesized.template, synthesized.ids.function).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      const redrive = resourceById(synthesized.template, synthesized.ids.queue).Properties.RedrivePolicy as {
        maxReceiveCount: number;
      };

      expect(variables.CLONE_MAX_RECEIVE_COUNT).toBe(String(redrive.maxReceiveCount));
    });

    it('is bundled as a minified ES module with a require shim and an unannounced source map beside it', () => {
      const assembly = synthesized.app.synth();
      const code = resourceById(synthesized.template, synthesized.ids.function).Properties.Code as {
        S3Key: string;
      };
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
      const { ids } = synthesized;
      const bucketArn = { 'Fn::GetAtt': [ids.bucket, 'Arn'] };

      expectExactly(grantsTo(synthesized.template, ids.role), [
        {
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resource: { 'Fn::GetAtt': [ids.logGroup, 'Arn'] },
        },
        { effect: 'Allow', actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resource: '*' },
        // Reads uploads; deletes a voice everywhere whose consent was revoked while it was cloned.
        {
          effect: 'Allow',
          actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject', 's3:GetObjectVersion'],
          resource: { 'Fn::Join': ['', [bucketArn, '/incoming/*']] },
        },
        {
          effect: 'Allow',
          actions: ['s3:DeleteObject'],
          resource: [
            { 'Fn::Join': ['', [bucketArn, '/cache/*']] },
            { 'Fn::Join': ['', [bucketArn, '/speech/*']] },
          ],
        },
        { effect: 'Allow', actions: ['s3:ListBucket'], resource: bucketArn },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resource: bucketArn,
          condition: { StringLike: { 's3:prefix': 'incoming/*' } },
        },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resource: bucketArn,
          condition: { StringLike: { 's3:prefix': ['cache/*'] } },
        },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resource: bucketArn,
          condition: { StringLike: { 's3:prefix': ['speech/*'] } },
        },
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
            // Requeues an upload that waits for a provider slot (functions/shared/sqs-redeliveries.ts).
            'sqs:SendMessage',
          ],
          resource: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        },
      ]);
    });

    it('gives the clone role no managed policy (AWSLambdaBasicExecutionRole may write any log group)', () => {
      expect(
        resourceById(synthesized.template, synthesized.ids.role).Properties.ManagedPolicyArns,
      ).toBeUndefined();
    });

    it('allows no wildcard action in any role or policy of the stack, CDK framework roles included', () => {
      const wildcards = identityStatements(synthesized.template).flatMap(({ roles, statement }) =>
        actionsOf(statement)
          .filter((action) => action.includes('*'))
          .map((action) => `${roles.join(',')}: ${action}`),
      );

      expect(identityStatements(synthesized.template).length).toBeGreaterThan(10);
      expect(wildcards).toEqual([]);
    });

    it('attaches AWS managed policies only to CDK framework roles and the API Gateway logging role', () => {
      expect(rolesWithManagedPolicies(synthesized.template).sort()).toEqual(
        [
          'BucketNotificationsHandler050a0587b7544547bf325f094a3db834RoleB6FB88EC: AWSLambdaBasicExecutionRole',
          `${logicalId(synthesized.stack.pipeline.api.restApi.node.findChild('CloudWatchRole'))}: AmazonAPIGatewayPushToCloudWatchLogs`,
        ].sort(),
      );
    });

    it('grants wildcard actions in resource policies only to the account root of the alarm key', () => {
      expect(wildcardResourcePolicyGrants(synthesized.template)).toEqual([
        `AWS::KMS::Key ${logicalId(synthesized.stack.pipeline.monitoring.alarmTopicKey)}: kms:* to account root`,
      ]);
    });
  });
});
