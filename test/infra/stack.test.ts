import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VoicedropStack } from '../../lib/voicedrop-stack';
import {
  frameworkFunctionId,
  frameworkLogGroupId,
  functionsWithoutOwnLogGroup,
  logicalId,
  resourceById,
  retainedResources,
  synthesize,
  type TemplateResource,
  useDefaultStack,
  wildcardResourcePolicyGrants,
} from './support';

// The default stack's removal, logs, alarms and outputs, and the variant with removalPolicy "destroy".
describe('Stack: Voicedrop with the cdk.json configuration', () => {
  const synthesized = useDefaultStack();

  describe('removal', () => {
    it('keeps the data, its logs and the account-wide API Gateway logging role when the stack is deleted', () => {
      const { pipeline } = synthesized.stack;

      expect(retainedResources(synthesized.template)).toEqual(
        [
          synthesized.ids.bucket,
          synthesized.ids.accessLogs,
          synthesized.ids.table,
          synthesized.ids.secret,
          synthesized.ids.logGroup,
          logicalId(pipeline.apiFunction.logGroup),
          logicalId(pipeline.speechFunction.logGroup),
          logicalId(pipeline.retention.retentionFunction.logGroup),
          logicalId(pipeline.events.eventsFunction.logGroup),
          logicalId(pipeline.api.accessLogGroup),
          frameworkLogGroupId(synthesized.template, 'BucketNotificationsHandler'),
          logicalId(pipeline.api.restApi.node.findChild('CloudWatchRole')),
          Object.keys(synthesized.template.findResources('AWS::ApiGateway::Account'))[0],
        ].sort(),
      );
    });

    it('protects the table from deletion while the data is retained', () => {
      expect(
        resourceById(synthesized.template, synthesized.ids.table).Properties.DeletionProtectionEnabled,
      ).toBe(true);
    });

    it('deletes what holds no data: queues and the alarm key', () => {
      expect(resourceById(synthesized.template, synthesized.ids.queue).DeletionPolicy).toBe('Delete');
      expect(resourceById(synthesized.template, synthesized.ids.deadLetterQueue).DeletionPolicy).toBe(
        'Delete',
      );
      expect(
        resourceById(synthesized.template, logicalId(synthesized.stack.pipeline.monitoring.alarmTopicKey)),
      ).toMatchObject({
        DeletionPolicy: 'Delete',
        Properties: { PendingWindowInDays: 7 },
      });
    });
  });

  describe('logs', () => {
    it('keeps every log group of the stack for the configured 30 days', () => {
      const retention = Object.values(synthesized.template.findResources('AWS::Logs::LogGroup')).map(
        (resource) => (resource as TemplateResource).Properties.RetentionInDays,
      );

      expect(retention).toEqual([30, 30, 30, 30, 30, 30, 30]);
    });

    it('sends every function of the stack, CDK’s bucket-notifications function included, to a log group of the stack', () => {
      expect(functionsWithoutOwnLogGroup(synthesized.template)).toEqual([]);
      expect(
        resourceById(
          synthesized.template,
          frameworkFunctionId(synthesized.template, 'BucketNotificationsHandler'),
        ).Properties.LoggingConfig,
      ).toEqual({
        LogGroup: { Ref: frameworkLogGroupId(synthesized.template, 'BucketNotificationsHandler') },
      });
    });
  });

  describe('alarms and dashboard', () => {
    it('watch this pipeline’s queues, functions and API stage', () => {
      const { pipeline } = synthesized.stack;
      const watched = Object.values(synthesized.template.findResources('AWS::CloudWatch::Alarm')).map(
        (resource) => {
          const properties = (resource as TemplateResource).Properties;
          return { metric: properties.MetricName, dimensions: properties.Dimensions };
        },
      );

      expect(watched).toEqual(
        expect.arrayContaining([
          {
            metric: 'ApproximateNumberOfMessagesVisible',
            dimensions: [
              { Name: 'QueueName', Value: { 'Fn::GetAtt': [synthesized.ids.deadLetterQueue, 'QueueName'] } },
            ],
          },
          {
            metric: 'ApproximateAgeOfOldestMessage',
            dimensions: [
              { Name: 'QueueName', Value: { 'Fn::GetAtt': [synthesized.ids.queue, 'QueueName'] } },
            ],
          },
          {
            metric: 'Errors',
            dimensions: [{ Name: 'FunctionName', Value: { Ref: synthesized.ids.function } }],
          },
          {
            metric: 'Throttles',
            dimensions: [
              { Name: 'FunctionName', Value: { Ref: logicalId(pipeline.apiFunction.lambdaFunction) } },
            ],
          },
          {
            metric: 'Errors',
            dimensions: [
              { Name: 'FunctionName', Value: { Ref: logicalId(pipeline.speechFunction.lambdaFunction) } },
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
      // The pipeline's twelve, and the events' three: events not published, webhooks dead-lettered, failing.
      expect(watched).toHaveLength(15);
      for (const alarm of Object.values(synthesized.template.findResources('AWS::CloudWatch::Alarm'))) {
        expect((alarm as TemplateResource).Properties.AlarmActions).toEqual([
          { Ref: logicalId(pipeline.monitoring.alarmTopic) },
        ]);
      }
    });

    it('alarm after 60 minutes of the oldest upload waiting, the cdk.json default', () => {
      synthesized.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Threshold: 3600,
      });
    });

    it('subscribe nobody when no alarm e-mail is configured', () => {
      synthesized.template.resourceCountIs('AWS::SNS::Subscription', 0);
    });

    it('name the dashboard after the stack', () => {
      synthesized.template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: 'Voicedrop',
      });
    });
  });

  it('outputs what a user needs after deploying', () => {
    const { pipeline } = synthesized.stack;

    expect(Object.keys(synthesized.template.findOutputs('*')).sort()).toEqual([
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
      'EventBusArn',
      'EventBusName',
      'ProviderKeysSecretArn',
      'ProviderKeysSecretName',
      'RetentionFunctionName',
      'VoicesTableName',
      'WebhookDeadLetterQueueUrl',
      'WebhookQueueUrl',
    ]);
    synthesized.template.hasOutput('BucketName', { Value: { Ref: synthesized.ids.bucket } });
    synthesized.template.hasOutput('AccessLogsBucketName', { Value: { Ref: synthesized.ids.accessLogs } });
    synthesized.template.hasOutput('VoicesTableName', { Value: { Ref: synthesized.ids.table } });
    synthesized.template.hasOutput('ProviderKeysSecretArn', { Value: { Ref: synthesized.ids.secret } });
    synthesized.template.hasOutput('CloneQueueUrl', { Value: { Ref: synthesized.ids.queue } });
    synthesized.template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: synthesized.ids.deadLetterQueue } });
    synthesized.template.hasOutput('DeadLetterQueueName', {
      Value: { 'Fn::GetAtt': [synthesized.ids.deadLetterQueue, 'QueueName'] },
    });
    synthesized.template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(pipeline.alarmTopic) } });
    synthesized.template.hasOutput('DashboardName', { Value: { Ref: logicalId(pipeline.dashboard) } });
    const url = JSON.stringify(synthesized.template.findOutputs('DashboardUrl').DashboardUrl?.Value);
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
