import { describe, expect, it } from 'vitest';
import { useDefaultApiStack } from './api-support';
import {
  actionsOf,
  expectExactly,
  grantsTo,
  identityStatements,
  resourceById,
  type Statement,
} from './support';

// The api function and what its role may do.
describe('Stack: Voicedrop API with the cdk.json configuration', () => {
  const api = useDefaultApiStack();

  describe('api function', () => {
    it('runs Node.js 24 on arm64 with 1 GB and a 30 s timeout, next to API Gateway’s 29 s', () => {
      expect(resourceById(api.template, api.ids.function).Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 30,
        LoggingConfig: {
          LogFormat: 'JSON',
          ApplicationLogLevel: 'INFO',
          LogGroup: { Ref: api.ids.logGroup },
        },
      });
    });

    it('gets every variable the api handler reads', () => {
      expect(resourceById(api.template, api.ids.function).Properties.Environment).toEqual({
        Variables: {
          VOICES_TABLE_NAME: { Ref: api.ids.table },
          BUCKET_NAME: { Ref: api.ids.bucket },
          PROVIDER_KEYS_SECRET_ARN: { Ref: api.ids.secret },
          DEFAULT_PROVIDER: 'smallest',
          SMALLEST_API_BASE_URL: 'https://api.smallest.ai',
          TYPECAST_API_BASE_URL: 'https://api.typecast.ai',
          SMALLEST_DEFAULT_MODEL: 'lightning-v3.1',
          TYPECAST_DEFAULT_MODEL: 'ssfm-v30',
          SMALLEST_CLONE_CONCURRENCY: '1',
          TYPECAST_CLONE_CONCURRENCY: '2',
          SMALLEST_SPEECH_CONCURRENCY: '1',
          TYPECAST_SPEECH_CONCURRENCY: '2',
          TRIM_DEFAULT: 'off',
          PROVIDER_TIMEOUT_MS: '25000',
          UPLOAD_URL_TTL_SECONDS: '900',
          CONSENT_REQUIRED: 'false',
          POWERTOOLS_SERVICE_NAME: 'voicedrop-api',
          POWERTOOLS_METRICS_NAMESPACE: 'Voicedrop',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      });
    });
  });

  describe('api permissions', () => {
    function apiStatements(): Statement[] {
      return identityStatements(api.template)
        .filter(({ roles }) => roles.includes(api.ids.role))
        .map(({ statement }) => statement);
    }

    it('gives the api role exactly the actions it needs, on exactly its resources', () => {
      const bucketArn = { 'Fn::GetAtt': [api.ids.bucket, 'Arn'] };

      expectExactly(grantsTo(api.template, api.ids.role), [
        {
          effect: 'Allow',
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resource: { 'Fn::GetAtt': [api.ids.logGroup, 'Arn'] },
          condition: undefined,
        },
        {
          effect: 'Allow',
          actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
          resource: '*',
          condition: undefined,
        },
        {
          effect: 'Allow',
          actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resource: { 'Fn::GetAtt': [api.ids.table, 'Arn'] },
          condition: undefined,
        },
        {
          effect: 'Allow',
          actions: ['dynamodb:Query'],
          resource: [
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [api.ids.table, 'Arn'] }, '/index/byConsent']] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [api.ids.table, 'Arn'] }, '/index/byCreatedAt']] },
          ],
          condition: undefined,
        },
        // Consents only: PutItem on items whose key starts cs_.
        {
          effect: 'Allow',
          actions: ['dynamodb:PutItem'],
          resource: { 'Fn::GetAtt': [api.ids.table, 'Arn'] },
          condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['cs_*'] } },
        },
        {
          effect: 'Allow',
          actions: ['s3:GetObject'],
          resource: { 'Fn::Join': ['', [bucketArn, '/consents/*']] },
          condition: undefined,
        },
        {
          effect: 'Allow',
          actions: ['s3:DeleteObject'],
          resource: [
            { 'Fn::Join': ['', [bucketArn, '/cache/*']] },
            { 'Fn::Join': ['', [bucketArn, '/speech/*']] },
          ],
          condition: undefined,
        },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resource: bucketArn,
          condition: { StringLike: { 's3:prefix': ['speech/*'] } },
        },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resource: bucketArn,
          condition: { StringLike: { 's3:prefix': ['cache/*'] } },
        },
        {
          effect: 'Allow',
          actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject'],
          resource: { 'Fn::Join': ['', [bucketArn, '/incoming/*']] },
          condition: undefined,
        },
        {
          effect: 'Allow',
          actions: ['s3:ListBucket', 's3:ListBucketVersions'],
          resource: bucketArn,
          condition: { StringLike: { 's3:prefix': 'incoming/*' } },
        },
        {
          effect: 'Allow',
          actions: ['secretsmanager:GetSecretValue'],
          resource: { Ref: api.ids.secret },
          condition: undefined,
        },
      ]);
    });

    it('never lists the bucket without a prefix condition (incoming/, cache/ or speech/)', () => {
      const listing = apiStatements().filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('s3:List')),
      );

      expect(listing.map((statement) => (statement as { Condition?: unknown }).Condition)).toEqual([
        { StringLike: { 's3:prefix': 'incoming/*' } },
        { StringLike: { 's3:prefix': ['cache/*'] } },
        { StringLike: { 's3:prefix': ['speech/*'] } },
      ]);
    });

    it('has no wildcard action and no managed policy', () => {
      expect(
        apiStatements().flatMap((statement) => actionsOf(statement).filter((a) => a.includes('*'))),
      ).toEqual([]);
      expect(resourceById(api.template, api.ids.role).Properties.ManagedPolicyArns).toBeUndefined();
    });
  });
});
