import { describe, expect, it } from 'vitest';
import { useDefaultApiStack } from './api-support';
import { expectExactly, grantsTo, resourceById } from './support';

// The speech function (streamed speech, the synthesis cache) and what its role may do.
describe('Stack: Voicedrop speech function with the cdk.json configuration', () => {
  const api = useDefaultApiStack();

  it('runs Node.js 24 on arm64 with 1 GB for up to the 15 minutes a stream may last', () => {
    expect(resourceById(api.template, api.ids.speechFunction).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.speechHandler',
      MemorySize: 1024,
      Timeout: 900,
    });
  });

  it('gets every variable the handler reads, as the speech service', () => {
    const variables = (
      resourceById(api.template, api.ids.speechFunction).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables).toMatchObject({
      VOICES_TABLE_NAME: { Ref: api.ids.table },
      BUCKET_NAME: { Ref: api.ids.bucket },
      PROVIDER_KEYS_SECRET_ARN: { Ref: api.ids.secret },
      SMALLEST_SPEECH_CONCURRENCY: '1',
      TYPECAST_SPEECH_CONCURRENCY: '2',
      PROVIDER_TIMEOUT_MS: '60000',
      SPEECH_URL_TTL_SECONDS: '900',
      POWERTOOLS_SERVICE_NAME: 'voicedrop-speech',
    });
  });

  it('may read voices, count usage, store speech and read and write the cache: nothing else', () => {
    const bucketArn = { 'Fn::GetAtt': [api.ids.bucket, 'Arn'] };
    expectExactly(grantsTo(api.template, api.ids.speechRole), [
      {
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resource: { 'Fn::GetAtt': [api.ids.speechLogGroup, 'Arn'] },
      },
      { effect: 'Allow', actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resource: '*' },
      {
        effect: 'Allow',
        actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resource: { 'Fn::GetAtt': [api.ids.table, 'Arn'] },
      },
      // Statements with the same actions are merged: speech/ and cache/ share one.
      {
        effect: 'Allow',
        actions: ['s3:GetObject', 's3:PutObject'],
        resource: [
          { 'Fn::Join': ['', [bucketArn, '/cache/*']] },
          { 'Fn::Join': ['', [bucketArn, '/speech/*']] },
        ],
      },
      { effect: 'Allow', actions: ['secretsmanager:GetSecretValue'], resource: { Ref: api.ids.secret } },
    ]);
    // No listing, no deletion, no uploads: a missing cache entry answers 403, which reads as a miss.
    const actions = grantsTo(api.template, api.ids.speechRole).flatMap(({ actions }) => actions);
    expect(
      actions.filter((action) => action.startsWith('s3:List') || action.startsWith('s3:Delete')),
    ).toEqual([]);
  });

  it('expires cached speech after the configured 30 days', () => {
    const bucket = resourceById(api.template, api.ids.bucket).Properties as {
      LifecycleConfiguration: { Rules: { Id: string; Prefix?: string; ExpirationInDays?: number }[] };
    };
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-speech-cache', Prefix: 'cache/', ExpirationInDays: 30 }),
    );
  });
});
