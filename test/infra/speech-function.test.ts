import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type ApiIds, defaultApiStack } from './api-support';
import { actionsOf, identityStatements, resourceById, type Statement } from './support';

// The speech function (streamed speech, the synthesis cache) and what its role may do.
describe('Stack: Voicedrop speech function with the cdk.json configuration', () => {
  let template: Template;
  let ids: ApiIds;

  beforeAll(() => {
    ({ template, ids } = defaultApiStack());
  });

  it('runs Node.js 24 on arm64 with 1 GB for up to the 15 minutes a stream may last', () => {
    expect(resourceById(template, ids.speechFunction).Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.speechHandler',
      MemorySize: 1024,
      Timeout: 900,
    });
  });

  it('gets every variable the handler reads, as the speech service', () => {
    const variables = (
      resourceById(template, ids.speechFunction).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables).toMatchObject({
      VOICES_TABLE_NAME: { Ref: ids.table },
      BUCKET_NAME: { Ref: ids.bucket },
      PROVIDER_KEYS_SECRET_ARN: { Ref: ids.secret },
      SMALLEST_SPEECH_CONCURRENCY: '1',
      TYPECAST_SPEECH_CONCURRENCY: '2',
      PROVIDER_TIMEOUT_MS: '60000',
      SPEECH_URL_TTL_SECONDS: '900',
      POWERTOOLS_SERVICE_NAME: 'voicedrop-speech',
    });
  });

  it('may read voices, count usage, store speech and read and write the cache: nothing else', () => {
    const bucketArn = { 'Fn::GetAtt': [ids.bucket, 'Arn'] };
    const statements: Statement[] = identityStatements(template)
      .filter(({ roles }) => roles.includes(ids.speechRole))
      .map(({ statement }) => statement);
    const granted = statements.map((statement) => ({
      actions: [...actionsOf(statement)].sort(),
      resource: statement.Resource,
    }));
    expect(granted).toEqual(
      expect.arrayContaining([
        {
          actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
          resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
        },
        // Statements with the same actions are merged: speech/ and cache/ share one.
        {
          actions: ['s3:GetObject', 's3:PutObject'],
          resource: [
            { 'Fn::Join': ['', [bucketArn, '/cache/*']] },
            { 'Fn::Join': ['', [bucketArn, '/speech/*']] },
          ],
        },
        { actions: ['secretsmanager:GetSecretValue'], resource: { Ref: ids.secret } },
      ]),
    );
    // No listing, no deletion, no uploads: a missing cache entry answers 403, which reads as a miss.
    const actions = statements.flatMap((statement) => actionsOf(statement));
    expect(
      actions.filter((action) => action.startsWith('s3:List') || action.startsWith('s3:Delete')),
    ).toEqual([]);
  });

  it('expires cached speech after the configured 30 days', () => {
    const bucket = resourceById(template, ids.bucket).Properties as {
      LifecycleConfiguration: { Rules: { Id: string; Prefix?: string; ExpirationInDays?: number }[] };
    };
    expect(bucket.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-speech-cache', Prefix: 'cache/', ExpirationInDays: 30 }),
    );
  });
});
