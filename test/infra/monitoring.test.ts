import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { type IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE, SERVICE_NAMES } from '../../functions/shared/contract';
import {
  CLONE_METRICS,
  SPEECH_METRICS,
  type VoicedropMonitoring,
  VoicedropMonitoring as VoicedropMonitoringConstruct,
  type VoicedropMonitoringProps,
} from '../../lib/voicedrop-monitoring';
import { cdkJson, logicalId, type TemplateResource } from './support';

interface Monitored {
  readonly monitoring: VoicedropMonitoring;
  readonly template: Template;
  readonly ids: { cloneQueue: string; deadLetters: string; stage: string; topic: string; key: string };
}

/**
 * The monitoring construct over stand-ins for the pipeline's parts: real queues and a real API stage, imported
 * functions (their metrics need only a name). No bundling, so these tests take milliseconds.
 */
function monitored(props: Partial<VoicedropMonitoringProps> = {}): Monitored {
  const stack = new Stack(
    new App({ context: cdkJson.context, builtinCloudFormationValidation: false }),
    'Test',
  );
  const cloneQueue = new Queue(stack, 'CloneQueue');
  const deadLetterQueue = new Queue(stack, 'DeadLetters');
  const restApi = new RestApi(stack, 'Api', { restApiName: 'test-api', cloudWatchRole: false });
  restApi.root.addMethod('GET', new MockIntegration());
  const monitoring = new VoicedropMonitoringConstruct(stack, 'Monitoring', {
    cloneQueue,
    deadLetterQueue,
    cloneFunction: importedFunction(stack, 'clone-function'),
    apiFunction: importedFunction(stack, 'api-function'),
    speechFunction: importedFunction(stack, 'speech-function'),
    retentionFunction: importedFunction(stack, 'retention-function'),
    apiStage: restApi.deploymentStage,
    oldestCloneMessageAge: Duration.minutes(45),
    ...props,
  });
  return {
    monitoring,
    template: Template.fromStack(stack),
    ids: {
      cloneQueue: logicalId(cloneQueue),
      deadLetters: logicalId(deadLetterQueue),
      stage: logicalId(restApi.deploymentStage),
      topic: logicalId(monitoring.alarmTopic),
      key: logicalId(monitoring.alarmTopicKey),
    },
  };
}

function importedFunction(stack: Stack, name: string): IFunction {
  return LambdaFunction.fromFunctionAttributes(stack, name, {
    functionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${name}`,
    sameEnvironment: true,
  });
}

interface RenderedMetric {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly stat: string;
}

/** The dashboard body with every CloudFormation reference replaced by `<ref>`, parsed. */
function dashboardWidgets(template: Template): { title?: string; type: string; metrics: RenderedMetric[] }[] {
  const [dashboard] = Object.values(
    template.findResources('AWS::CloudWatch::Dashboard'),
  ) as TemplateResource[];
  const body = dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
  const widgets = (JSON.parse(text) as { widgets: { type: string; properties: Record<string, unknown> }[] })
    .widgets;
  return widgets.map(({ type, properties }) => ({
    type,
    title: properties.title as string | undefined,
    metrics: ((properties.metrics as unknown[][] | undefined) ?? []).map((row) => {
      const options = row.at(-1) as { stat?: string };
      const [namespace, name, ...rest] = row.slice(0, -1) as string[];
      const dimensions: Record<string, string> = {};
      for (let index = 0; index + 1 < rest.length; index += 2) {
        dimensions[rest[index] as string] = rest[index + 1] as string;
      }
      return { namespace: namespace ?? '', name: name ?? '', dimensions, stat: options.stat ?? '' };
    }),
  }));
}

describe('Class: VoicedropMonitoring', () => {
  let subject: Monitored;

  beforeAll(() => {
    subject = monitored();
  });

  describe('alarm topic', () => {
    it('is encrypted with its own rotating key, which CloudWatch may use to publish (exact actions)', () => {
      const { template, ids } = subject;

      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
              Resource: '*',
            },
          ]),
        },
      });
    });

    it('refuses publishers that do not use TLS, and lets in CloudWatch alarms of this account only', () => {
      const { template, ids } = subject;

      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: ids.topic }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            {
              Sid: 'AllowCloudWatchAlarmsOfThisAccount',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: ids.topic },
              Condition: {
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
                ArnLike: {
                  'aws:SourceArn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':cloudwatch:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':alarm:*',
                      ],
                    ],
                  },
                },
              },
            },
          ]),
        },
      });
    });

    it('has no subscription unless an alarm e-mail is given', () => {
      subject.template.resourceCountIs('AWS::SNS::Subscription', 0);
      expect(subject.monitoring.alarmEmailSubscription).toBeUndefined();
    });

    it('subscribes the alarm e-mail when one is given', () => {
      const { template, ids } = monitored({ alarmEmail: 'ops@example.com' });

      template.resourceCountIs('AWS::SNS::Subscription', 1);
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: ids.topic },
      });
    });
  });

  describe('alarms', () => {
    function alarmOf(alarm: keyof VoicedropMonitoring['alarms']): Record<string, unknown> {
      const resource = subject.template.toJSON().Resources[logicalId(subject.monitoring.alarms[alarm])] as
        | TemplateResource
        | undefined;
      if (!resource) throw new Error(`no alarm ${alarm}`);
      return resource.Properties;
    }

    it('are twelve, each notifying the topic on ALARM and on OK, firing on one period above the threshold', () => {
      const alarms = Object.values(
        subject.template.findResources('AWS::CloudWatch::Alarm'),
      ) as TemplateResource[];

      expect(alarms).toHaveLength(12);
      for (const alarm of alarms) {
        expect(alarm.Properties).toMatchObject({
          AlarmActions: [{ Ref: subject.ids.topic }],
          OKActions: [{ Ref: subject.ids.topic }],
          ComparisonOperator: 'GreaterThanThreshold',
          EvaluationPeriods: 1,
          AlarmDescription: expect.any(String),
        });
      }
    });

    it('fires when a daily retention sweep could not delete a voice it had to', () => {
      expect(alarmOf('retentionFailures')).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: 'RetentionFailures',
        Dimensions: [{ Name: 'service', Value: SERVICE_NAMES.retention }],
        Statistic: 'Sum',
        Period: 86_400,
        Threshold: 0,
      });
      expect(alarmOf('retentionErrors')).toMatchObject({ MetricName: 'Errors', Threshold: 0 });
    });

    it('fires on any message in the dead-letter queue, and keeps firing while SQS reports nothing', () => {
      expect(alarmOf('deadLetters')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [subject.ids.deadLetters, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 0,
        TreatMissingData: 'ignore',
      });
    });

    it('fires when the oldest clone message waited longer than the configured age', () => {
      expect(alarmOf('cloneBacklog')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [subject.ids.cloneQueue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 45 * 60,
        TreatMissingData: 'notBreaching',
      });
    });

    it('fires on any error or throttle of any function within 5 minutes', () => {
      for (const [alarm, metric, functionName] of [
        ['cloneErrors', 'Errors', 'clone-function'],
        ['cloneThrottles', 'Throttles', 'clone-function'],
        ['apiErrors', 'Errors', 'api-function'],
        ['apiThrottles', 'Throttles', 'api-function'],
        ['speechErrors', 'Errors', 'speech-function'],
        ['speechThrottles', 'Throttles', 'speech-function'],
      ] as const) {
        expect(alarmOf(alarm), alarm).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: functionName }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
          TreatMissingData: 'notBreaching',
        });
      }
    });

    it('fires on any 5xx answer of the API stage within 5 minutes', () => {
      expect(alarmOf('apiServerErrors')).toMatchObject({
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Dimensions: [
          { Name: 'ApiName', Value: 'test-api' },
          { Name: 'Stage', Value: { Ref: subject.ids.stage } },
        ],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
    });

    it('fires on any clone the handler reports failed within 15 minutes (business metric)', () => {
      expect(alarmOf('clonesFailed')).toMatchObject({
        Namespace: 'Voicedrop',
        MetricName: 'ClonesFailed',
        Dimensions: [{ Name: 'service', Value: 'voicedrop-clone' }],
        Statistic: 'Sum',
        Period: 900,
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
    });
  });

  describe('dashboard', () => {
    it('takes the given name, or lets CloudFormation generate one', () => {
      expect(
        (Object.values(subject.template.findResources('AWS::CloudWatch::Dashboard'))[0] as TemplateResource)
          .Properties.DashboardName,
      ).toBeUndefined();
      monitored({ dashboardName: 'voicedrop-test' }).template.hasResourceProperties(
        'AWS::CloudWatch::Dashboard',
        {
          DashboardName: 'voicedrop-test',
        },
      );
    });

    it('shows every alarm, the queues, both functions and the API', () => {
      const widgets = dashboardWidgets(subject.template);
      const shown = (title: string) => widgets.find((widget) => widget.title === title)?.metrics ?? [];

      expect(widgets.map(({ title }) => title)).toEqual([
        undefined,
        'Alarms',
        'Clones (handler metrics)',
        'Clone queue',
        'Dead-letter queue',
        'Clone function',
        'Clone function duration (ms)',
        'Api function',
        'Api function duration (ms)',
        'Speech function',
        'Speech function duration (ms)',
        'Retention sweep',
        'API requests',
        'API latency (ms)',
        'Speech (handler metrics)',
        'Provider latency: clone (ms)',
        'Provider latency: speech (ms)',
      ]);
      expect(shown('Clone queue').map(({ name }) => name)).toEqual([
        'ApproximateNumberOfMessagesVisible',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateAgeOfOldestMessage',
      ]);
      expect(shown('Dead-letter queue').map(({ name }) => name)).toEqual([
        'ApproximateNumberOfMessagesVisible',
      ]);
      for (const title of ['Clone function', 'Api function']) {
        expect(shown(title).map(({ name, stat }) => `${name} ${stat}`)).toEqual([
          'Invocations Sum',
          'Errors Sum',
          'Throttles Sum',
        ]);
        expect(shown(`${title} duration (ms)`).map(({ name, stat }) => `${name} ${stat}`)).toEqual([
          'Duration p50',
          'Duration p95',
          'Duration Maximum',
        ]);
      }
      expect(shown('Retention sweep').map(({ name }) => name)).toEqual([
        'Invocations',
        'Errors',
        'Throttles',
        'RetentionDeletions',
        'RetentionFailures',
      ]);
      expect(shown('API requests').map(({ name }) => name)).toEqual(['Count', '4XXError', '5XXError']);
      expect(shown('API latency (ms)').map(({ name, stat }) => `${name} ${stat}`)).toEqual([
        'Latency p50',
        'Latency p95',
        'IntegrationLatency p95',
      ]);
    });

    it('shows the handlers’ business metrics under the names and dimensions the handlers emit', () => {
      const widgets = dashboardWidgets(subject.template);
      const shown = (title: string) => widgets.find((widget) => widget.title === title)?.metrics ?? [];

      expect(shown('Clones (handler metrics)')).toEqual(
        CLONE_METRICS.map((name) => ({
          namespace: METRICS_NAMESPACE,
          name,
          dimensions: { service: SERVICE_NAMES.clone },
          stat: 'Sum',
        })),
      );
      expect(shown('Speech (handler metrics)')).toEqual(
        SPEECH_METRICS.map((name) => ({
          namespace: METRICS_NAMESPACE,
          name,
          dimensions: { service: SERVICE_NAMES.speech },
          stat: 'Sum',
        })),
      );
      for (const [operation, service] of [
        ['clone', 'voicedrop-clone'],
        ['speech', 'voicedrop-speech'],
      ] as const) {
        expect(shown(`Provider latency: ${operation} (ms)`)).toEqual(
          ['smallest', 'typecast'].flatMap((provider) =>
            ['p50', 'p95'].map((stat) => ({
              namespace: 'Voicedrop',
              name: 'ProviderLatency',
              dimensions: { service, Provider: provider, Operation: operation },
              stat,
            })),
          ),
        );
      }
    });
  });
});
