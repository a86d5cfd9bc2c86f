import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_RETRY_BACKOFF, webhookMaxReceiveCount } from '../../functions/webhooks/batch';
import { parseConfig } from '../../lib/config';
import { actionsOf, cdkJson, identityStatements, nagFindings, synthesize } from './support';

const base = cdkJson.context.voicedrop as Record<string, unknown>;
const withWebhooks = {
  ...base,
  webhooks: [
    { url: 'https://hooks.example.com/voicedrop' },
    {
      url: 'https://other.example.com/in',
      events: ['voice.ready', 'voice.deleted'],
      secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf',
    },
  ],
};

describe('events and webhooks in the stack', () => {
  const { stack, template } = synthesize(withWebhooks);

  it('streams the voices table (old and new images) into the events function, filtered to voice records', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.objectLike({ 'Fn::GetAtt': Match.arrayWith(['StreamArn']) }),
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: {
        Filters: [
          {
            Pattern: Match.serializedJson(
              Match.objectLike({
                dynamodb: {
                  NewImage: {
                    listPartition: { S: ['voice'] },
                    status: { S: ['received', 'ready', 'rejected', 'failed', 'duplicate', 'deleted'] },
                  },
                },
              }),
            ),
          },
        ],
      },
    });
  });

  it('creates bus voicedrop and lets only the events function put events on it', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'voicedrop' });
    const putters = identityStatements(template).filter(({ statement }) =>
      actionsOf(statement).includes('events:PutEvents'),
    );
    const roles = putters.flatMap(({ roles }) => roles);
    expect(roles).toHaveLength(1);
    expect(roles[0]).toMatch(/EventsFunction/);
    template.hasOutput('EventBusName', {});
    template.hasOutput('EventBusArn', {});
  });

  it('routes each endpoint by its own rule to the webhook queue, retried ≥ 24 h before its dead-letter queue', () => {
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['voicedrop'], 'detail-type': ['Voice Ready', 'Voice Deleted'] },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: webhookMaxReceiveCount(WEBHOOK_RETRY_BACKOFF) },
    });
    expect(webhookMaxReceiveCount(WEBHOOK_RETRY_BACKOFF)).toBeGreaterThan(96);
    // One secret created (the first endpoint), the other given.
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::Secret',
      { Description: Match.stringLikeRegexp('webhook signing secret') },
      1,
    );
  });

  it('is cdk-nag clean with webhooks configured', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it('refuses webhook URLs that are not https and unknown event types, all together', () => {
    expect(() =>
      parseConfig({
        webhooks: [
          { url: 'http://plain.example.com' },
          { url: 'https://x.example.com', events: ['voice.made'] },
        ],
      }),
    ).toThrow(/webhooks\.0\.url must be an https:\/\/ URL[\s\S]*webhooks\.1\.events\.0/);
  });
});
