import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CLONE_METRICS,
  METRICS_NAMESPACE,
  PROVIDER_LATENCY_METRIC,
  SERVICE_NAMES,
  SPEECH_METRICS,
} from '../functions/shared/contract';
import type { ProviderOperation } from '../functions/shared/metrics';
import { PROVIDER_NAMES } from '../functions/shared/providers/types';
import { acknowledge } from './acknowledgements';

// The names are defined once, beside the functions that emit them.
export { CLONE_METRICS, PROVIDER_LATENCY_METRIC, SPEECH_METRICS };

export interface VoicedropMonitoringProps {
  readonly cloneQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly cloneFunction: IFunction;
  readonly apiFunction: IFunction;
  /** The function behind the streamed speech route. */
  readonly speechFunction: IFunction;
  /** The daily retention sweep's function. */
  readonly retentionFunction: IFunction;
  /**
   * Alarms other constructs define (the events' and webhooks' dead letters and delivery failures): they
   * notify the topic and show on the dashboard like these.
   */
  readonly otherAlarms?: readonly Alarm[];
  /** Further functions to chart beside the pipeline's (the events and webhook functions). */
  readonly otherFunctions?: readonly { readonly title: string; readonly fn: IFunction }[];
  /** The API's stage: its metrics carry the ApiName and Stage dimensions. */
  readonly apiStage: Stage;
  /** The backlog alarm's threshold for the clone queue's ApproximateAgeOfOldestMessage. */
  readonly oldestCloneMessageAge: Duration;
  /**
   * Subscribed to the alarm topic; AWS sends a confirmation mail first.
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

/** Every alarm, by what it watches. */
export interface VoicedropAlarms {
  /** A message is waiting in the clone dead-letter queue: an upload failed every attempt. */
  readonly deadLetters: Alarm;
  /** The clone queue's oldest message waited longer than the configured age: a backlog, or retries. */
  readonly cloneBacklog: Alarm;
  readonly cloneErrors: Alarm;
  readonly cloneThrottles: Alarm;
  /** The clone handler recorded a voice as `failed` (business metric ClonesFailed). */
  readonly clonesFailed: Alarm;
  readonly apiErrors: Alarm;
  readonly apiThrottles: Alarm;
  /** API Gateway answered 5xx: the function failed, timed out, or a provider failed (502/503). */
  readonly apiServerErrors: Alarm;
  /** The speech function failed an invocation: an error (a stream that ended early included) or a timeout. */
  readonly speechErrors: Alarm;
  readonly speechThrottles: Alarm;
  /** The retention sweep failed a run, or could not delete a voice it should have (RetentionFailures). */
  readonly retentionErrors: Alarm;
  readonly retentionFailures: Alarm;
}

interface AlarmDefinition {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly description: string;
  readonly treatMissingData?: TreatMissingData;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms, one encrypted topic they notify (ALARM and OK), an optional e-mail subscription, and one dashboard
 * with the queues, functions, API and the handlers' business metrics.
 */
export class VoicedropMonitoring extends Construct {
  /** Customer managed: CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key. */
  readonly alarmTopicKey: Key;
  readonly alarmTopic: Topic;
  readonly alarmEmailSubscription?: Subscription;
  readonly alarms: VoicedropAlarms;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: VoicedropMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.alarmTopicKey = new Key(this, 'AlarmTopicKey', {
      description: 'voicedrop: encrypts the alarm topic; CloudWatch alarms use it to publish',
      enableKeyRotation: true,
      // Alarm notifications are delivered within seconds and never stored, so nothing outlives the stack that
      // this key would still have to decrypt: it goes with the stack, after KMS's shortest waiting period.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // The actions an encrypted topic's publisher needs (AWS re:Post, "CloudWatch alarm with an encrypted SNS
    // topic"); the AWS managed key's policy does not grant them to CloudWatch and cannot be changed.
    this.alarmTopicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: 'voicedrop alarms',
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
    // The topic policy that enforceSSL creates replaces SNS's default policy, so CloudWatch needs its own
    // statement: alarms of this account only.
    this.alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );

    if (props.alarmEmail !== undefined) {
      this.alarmEmailSubscription = new Subscription(this, 'AlarmEmail', {
        topic: this.alarmTopic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: props.alarmEmail,
      });
      acknowledge(
        this.alarmEmailSubscription,
        'Serverless-SNSRedrivePolicy',
        'An alarm e-mail that cannot be delivered has nobody to read a dead-letter queue either; the alarm ' +
          'state stays in CloudWatch and on the dashboard, where it is seen without the mail.',
      );
    }

    const cloneService = { service: SERVICE_NAMES.clone };
    const speechService = { service: SERVICE_NAMES.speech };
    const count = (metricName: string, dimensionsMap: Record<string, string>, period = FIVE_MINUTES) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, statistic: Stats.SUM, period });

    const sum = { statistic: Stats.SUM, period: FIVE_MINUTES };
    const maximum = { statistic: Stats.MAXIMUM, period: FIVE_MINUTES };
    const oldestAgeSeconds = props.oldestCloneMessageAge.toSeconds();

    // Every function is watched alike: any failed or throttled invocation raises the alarm.
    const failedInvocations = (
      fn: IFunction,
      name: string,
      causes = 'an unhandled error or a timeout',
    ): AlarmDefinition => ({
      metric: fn.metricErrors(sum),
      threshold: 0,
      description: `The ${name} function failed an invocation: ${causes}.`,
    });
    const throttledInvocations = (fn: IFunction, name: string): AlarmDefinition => ({
      metric: fn.metricThrottles(sum),
      threshold: 0,
      description: `The ${name} function was throttled: the account's Lambda concurrency is exhausted.`,
    });

    this.alarms = {
      deadLetters: this.alarm('DeadLetters', {
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(maximum),
        threshold: 0,
        description:
          'An upload failed every clone attempt and waits in the clone dead-letter queue (kept 14 days). ' +
          'Read the clone function logs for its key, fix the cause, then redrive the DLQ to the clone queue.',
        // SQS stops reporting a queue nobody touches; a DLQ is only read by people. Missing data keeps the
        // last state, so the alarm stays in ALARM until a datapoint shows the queue empty again.
        treatMissingData: TreatMissingData.IGNORE,
      }),
      cloneBacklog: this.alarm('CloneBacklog', {
        metric: props.cloneQueue.metricApproximateAgeOfOldestMessage(maximum),
        threshold: oldestAgeSeconds,
        description:
          `An upload has waited more than ${props.oldestCloneMessageAge.toHumanString()} in the clone queue: ` +
          'clones are failing and being retried, or the queue does not drain (throttling, provider limits).',
      }),
      cloneErrors: this.alarm('CloneErrors', failedInvocations(props.cloneFunction, 'clone')),
      cloneThrottles: this.alarm('CloneThrottles', throttledInvocations(props.cloneFunction, 'clone')),
      clonesFailed: this.alarm('ClonesFailed', {
        metric: count('ClonesFailed', cloneService, Duration.minutes(15)),
        threshold: 0,
        description:
          'A clone ended as failed (provider error or rejection after retries); the voice record says why.',
      }),
      apiErrors: this.alarm('ApiErrors', failedInvocations(props.apiFunction, 'api')),
      apiThrottles: this.alarm('ApiThrottles', throttledInvocations(props.apiFunction, 'api')),
      speechErrors: this.alarm(
        'SpeechErrors',
        failedInvocations(
          props.speechFunction,
          'speech',
          'an unhandled error, a stream that ended early after audio had been sent (the caller got a ' +
            'truncated body; the log says why), or a timeout',
        ),
      ),
      speechThrottles: this.alarm('SpeechThrottles', throttledInvocations(props.speechFunction, 'speech')),
      retentionErrors: this.alarm('RetentionErrors', failedInvocations(props.retentionFunction, 'retention')),
      retentionFailures: this.alarm('RetentionFailures', {
        metric: count('RetentionFailures', { service: SERVICE_NAMES.retention }, Duration.days(1)),
        threshold: 0,
        description:
          'The retention sweep could not delete a voice that its schedule says must go (the function log ' +
          'names it and why); the next daily run tries again, or run npm run retention.',
      }),
      apiServerErrors: this.alarm('ApiServerErrors', {
        metric: props.apiStage.metricServerError(sum),
        threshold: 0,
        description:
          'The API answered 5xx: the api function failed or timed out, or a provider failed or refused ' +
          'the key (502/503).',
      }),
    };

    const otherAlarms = props.otherAlarms ?? [];
    for (const alarm of otherAlarms) this.notify(alarm);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(24),
    });
    const latency = (operation: Extract<ProviderOperation, 'clone' | 'speech'>) =>
      PROVIDER_NAMES.flatMap((provider) =>
        [Stats.p(50), Stats.p(95)].map(
          (statistic) =>
            new Metric({
              namespace: METRICS_NAMESPACE,
              metricName: PROVIDER_LATENCY_METRIC,
              dimensionsMap: {
                service: operation === 'clone' ? SERVICE_NAMES.clone : SERVICE_NAMES.speech,
                Provider: provider,
                Operation: operation,
              },
              statistic,
              period: FIVE_MINUTES,
              label: `${provider} ${statistic}`,
            }),
        ),
      );
    const functionActivity = (fn: IFunction) => [
      fn.metricInvocations({ ...sum, label: 'Invocations' }),
      fn.metricErrors({ ...sum, label: 'Errors' }),
      fn.metricThrottles({ ...sum, label: 'Throttles' }),
    ];
    const functionDuration = (fn: IFunction) =>
      [Stats.p(50), Stats.p(95), Stats.MAXIMUM].map((statistic) =>
        fn.metricDuration({ statistic, period: FIVE_MINUTES, label: statistic }),
      );

    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# voicedrop\nUploads below `incoming/` → clone queue → clone function → voices table; HTTPS API → api ' +
          'function. A message in the dead-letter queue is an upload that failed every attempt: fix the cause, ' +
          'then redrive it to the clone queue.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...Object.values(this.alarms), ...otherAlarms],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Clones (handler metrics)',
        left: CLONE_METRICS.map((name) => count(name, cloneService).with({ label: name })),
        width: 12,
      }),
      new GraphWidget({
        title: 'Clone queue',
        left: [
          props.cloneQueue.metricApproximateNumberOfMessagesVisible({ ...maximum, label: 'Waiting' }),
          props.cloneQueue.metricApproximateNumberOfMessagesNotVisible({ ...maximum, label: 'In flight' }),
        ],
        right: [
          props.cloneQueue.metricApproximateAgeOfOldestMessage({ ...maximum, label: 'Oldest message (s)' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Dead-letter queue',
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...maximum, label: 'Messages' }),
        ],
        leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }],
        width: 4,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Clone function', left: functionActivity(props.cloneFunction), width: 6 }),
      new GraphWidget({
        title: 'Clone function duration (ms)',
        left: functionDuration(props.cloneFunction),
        width: 6,
      }),
      new GraphWidget({ title: 'Api function', left: functionActivity(props.apiFunction), width: 6 }),
      new GraphWidget({
        title: 'Api function duration (ms)',
        left: functionDuration(props.apiFunction),
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Speech function', left: functionActivity(props.speechFunction), width: 6 }),
      new GraphWidget({
        title: 'Speech function duration (ms)',
        left: functionDuration(props.speechFunction),
        width: 6,
      }),
      new GraphWidget({
        title: 'Retention sweep',
        left: [
          ...functionActivity(props.retentionFunction),
          count('RetentionDeletions', { service: SERVICE_NAMES.retention }, Duration.days(1)).with({
            label: 'Voices deleted',
          }),
          count('RetentionFailures', { service: SERVICE_NAMES.retention }, Duration.days(1)).with({
            label: 'Deletions failed',
          }),
        ],
        width: 12,
      }),
    );
    if (props.otherFunctions?.length) {
      this.dashboard.addWidgets(
        ...props.otherFunctions.map(
          ({ title, fn }) => new GraphWidget({ title, left: functionActivity(fn), width: 6 }),
        ),
      );
    }
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests',
        left: [
          props.apiStage.metricCount({ ...sum, label: 'Requests' }),
          props.apiStage.metricClientError({ ...sum, label: '4xx' }),
          props.apiStage.metricServerError({ ...sum, label: '5xx' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: [
          props.apiStage.metricLatency({ statistic: Stats.p(50), period: FIVE_MINUTES, label: 'p50' }),
          props.apiStage.metricLatency({ statistic: Stats.p(95), period: FIVE_MINUTES, label: 'p95' }),
          props.apiStage.metricIntegrationLatency({
            statistic: Stats.p(95),
            period: FIVE_MINUTES,
            label: 'integration p95',
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Speech (handler metrics)',
        // Counts of requests on the left, characters (a much larger number) on the right.
        left: SPEECH_METRICS.filter((name) => name !== 'SpeechCharacters').map((name) =>
          count(name, speechService).with({ label: name }),
        ),
        right: [count('SpeechCharacters', speechService).with({ label: 'SpeechCharacters' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Provider latency: clone (ms)', left: latency('clone'), width: 12 }),
      new GraphWidget({ title: 'Provider latency: speech (ms)', left: latency('speech'), width: 12 }),
    );
  }

  /** Greater than the threshold in one period; ALARM and OK both notify the topic. */
  private alarm(id: string, definition: AlarmDefinition): Alarm {
    const alarm = new Alarm(this, id, {
      metric: definition.metric,
      threshold: definition.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: definition.description,
      treatMissingData: definition.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    return this.notify(alarm);
  }

  /** ALARM and OK of `alarm` go to the topic. */
  private notify(alarm: Alarm): Alarm {
    const action = new SnsAction(this.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
