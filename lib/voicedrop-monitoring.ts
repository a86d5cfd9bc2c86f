import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  type IMetric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CLONE_METRICS, PROVIDER_LATENCY_METRIC, SPEECH_METRICS } from '../functions/shared/contract';
import { acknowledge } from './acknowledgements';
import { dashboardRows } from './monitoring-dashboard';
import { CLONE_SERVICE, handlerCount, MAXIMUM, RETENTION_SERVICE, SUM } from './monitoring-metrics';

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

// Every function is watched alike: any failed or throttled invocation raises the alarm.
function failedInvocations(
  fn: IFunction,
  name: string,
  causes = 'an unhandled error or a timeout',
): AlarmDefinition {
  return {
    metric: fn.metricErrors(SUM),
    threshold: 0,
    description: `The ${name} function failed an invocation: ${causes}.`,
  };
}

function throttledInvocations(fn: IFunction, name: string): AlarmDefinition {
  return {
    metric: fn.metricThrottles(SUM),
    threshold: 0,
    description: `The ${name} function was throttled: the account's Lambda concurrency is exhausted.`,
  };
}

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
    this.alarmTopicKey = this.createAlarmTopicKey();
    this.alarmTopic = this.createAlarmTopic(this.alarmTopicKey);
    if (props.alarmEmail !== undefined) this.alarmEmailSubscription = this.subscribe(props.alarmEmail);
    this.alarms = this.createAlarms(props);
    const otherAlarms = props.otherAlarms ?? [];
    for (const alarm of otherAlarms) this.notify(alarm);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(24),
    });
    for (const row of dashboardRows(props, [...Object.values(this.alarms), ...otherAlarms])) {
      this.dashboard.addWidgets(...row);
    }
  }

  /** Customer managed, so that CloudWatch alarms can publish to the topic it encrypts. */
  private createAlarmTopicKey(): Key {
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'voicedrop: encrypts the alarm topic; CloudWatch alarms use it to publish',
      enableKeyRotation: true,
      // Alarm notifications are delivered within seconds and never stored, so nothing outlives the stack that
      // this key would still have to decrypt: it goes with the stack, after KMS's shortest waiting period.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // The actions an encrypted topic's publisher needs (AWS re:Post, "CloudWatch alarm with an encrypted SNS
    // topic"); the AWS managed key's policy does not grant them to CloudWatch and cannot be changed.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );

    return key;
  }

  /** The topic every alarm notifies, for CloudWatch alarms of this account only, over TLS. */
  private createAlarmTopic(key: Key): Topic {
    const stack = Stack.of(this);
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: 'voicedrop alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy that enforceSSL creates replaces SNS's default policy, so CloudWatch needs its own
    // statement: alarms of this account only.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`,
          },
        },
      }),
    );

    return topic;
  }

  /** An e-mail subscription to the alarm topic (AWS sends a confirmation mail first). */
  private subscribe(alarmEmail: string): Subscription {
    const subscription = new Subscription(this, 'AlarmEmail', {
      topic: this.alarmTopic,
      protocol: SubscriptionProtocol.EMAIL,
      endpoint: alarmEmail,
    });
    acknowledge(
      subscription,
      'Serverless-SNSRedrivePolicy',
      'An alarm e-mail that cannot be delivered has nobody to read a dead-letter queue either; the alarm ' +
        'state stays in CloudWatch and on the dashboard, where it is seen without the mail.',
    );
    return subscription;
  }

  /** Every alarm of the pipeline, each notifying the topic. */
  private createAlarms(props: VoicedropMonitoringProps): VoicedropAlarms {
    const oldestAgeSeconds = props.oldestCloneMessageAge.toSeconds();

    return {
      deadLetters: this.alarm('DeadLetters', {
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(MAXIMUM),
        threshold: 0,
        description:
          'An upload failed every clone attempt and waits in the clone dead-letter queue (kept 14 days). ' +
          'Read the clone function logs for its key, fix the cause, then redrive the DLQ to the clone queue.',
        // SQS stops reporting a queue nobody touches; a DLQ is only read by people. Missing data keeps the
        // last state, so the alarm stays in ALARM until a datapoint shows the queue empty again.
        treatMissingData: TreatMissingData.IGNORE,
      }),
      cloneBacklog: this.alarm('CloneBacklog', {
        metric: props.cloneQueue.metricApproximateAgeOfOldestMessage(MAXIMUM),
        threshold: oldestAgeSeconds,
        description:
          `An upload has waited more than ${props.oldestCloneMessageAge.toHumanString()} in the clone queue: ` +
          'clones are failing and being retried, or the queue does not drain (throttling, provider limits).',
      }),
      cloneErrors: this.alarm('CloneErrors', failedInvocations(props.cloneFunction, 'clone')),
      cloneThrottles: this.alarm('CloneThrottles', throttledInvocations(props.cloneFunction, 'clone')),
      clonesFailed: this.alarm('ClonesFailed', {
        metric: handlerCount('ClonesFailed', CLONE_SERVICE, Duration.minutes(15)),
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
        metric: handlerCount('RetentionFailures', RETENTION_SERVICE, Duration.days(1)),
        threshold: 0,
        description:
          'The retention sweep could not delete a voice that its schedule says must go (the function log ' +
          'names it and why); the next daily run tries again, or run npm run retention.',
      }),
      apiServerErrors: this.alarm('ApiServerErrors', {
        metric: props.apiStage.metricServerError(SUM),
        threshold: 0,
        description:
          'The API answered 5xx: the api function failed or timed out, or a provider failed or refused ' +
          'the key (502/503).',
      }),
    };
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
