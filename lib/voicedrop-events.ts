/**
 * Voice lifecycle events and webhooks (README "Events and webhooks"): the voices table's stream → the
 * events function (only voice records whose status is an event status reach it: filter criteria) → bus
 * `voicedrop`; one rule per webhook endpoint → the webhook queue → the webhook function (signed POSTs,
 * retried for 24 hours, then the webhook dead-letter queue, redrivable like the clone queue).
 */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { EventSourceMapping, FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_STATUSES, VOICE_EVENT_TYPES } from '../functions/events/voice-events';
import {
  ENV,
  EVENT_BUS_NAME,
  EVENT_SOURCE,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
  VOICES_TABLE,
} from '../functions/shared/contract';
import type { BusinessMetric } from '../functions/shared/metrics';
import { LIST_PARTITION } from '../functions/shared/voices/record';
import { WEBHOOK_RETRY_BACKOFF, webhookMaxReceiveCount } from '../functions/webhooks/batch';
import { acknowledge } from './acknowledgements';
import type { WebhookConfig } from './config';
import { HouseFunction, type HouseFunctionProps } from './house-function';

export interface VoicedropEventsProps {
  readonly table: ITable;
  readonly webhooks: readonly WebhookConfig[];
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

const EVENTS_TIMEOUT = Duration.seconds(30);
const WEBHOOKS_TIMEOUT = Duration.seconds(60);

export class VoicedropEvents extends Construct {
  readonly bus: EventBus;
  readonly eventsFunction: HouseFunction;
  readonly eventsDeadLetterQueue: Queue;
  readonly webhookQueue: Queue;
  readonly webhookDeadLetterQueue: Queue;
  readonly webhookFunction?: HouseFunction;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: VoicedropEventsProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: EVENT_BUS_NAME });
    const common: FunctionCommon = {
      metricsNamespace: METRICS_NAMESPACE,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
    };
    const publisher = this.createEventsPublisher(props.table, common);
    this.eventsFunction = publisher.eventsFunction;
    this.eventsDeadLetterQueue = publisher.deadLetterQueue;

    this.webhookDeadLetterQueue = deadLetterQueue(this, 'WebhookDeadLetters', 'the webhook queue');
    this.webhookQueue = new Queue(this, 'WebhookQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(WEBHOOKS_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: {
        queue: this.webhookDeadLetterQueue,
        maxReceiveCount: webhookMaxReceiveCount(WEBHOOK_RETRY_BACKOFF),
      },
    });
    if (props.webhooks.length > 0) this.webhookFunction = this.webhooks(props, common);
    this.alarms.push(...this.deliveryAlarms());
  }

  /**
   * The events function on the table's stream (voice records in an event status only), publishing to the
   * bus, with its on-failure dead-letter queue.
   */
  private createEventsPublisher(
    table: ITable,
    common: FunctionCommon,
  ): { eventsFunction: HouseFunction; deadLetterQueue: Queue } {
    const eventsFunction = new HouseFunction(this, 'EventsFunction', {
      entry: 'functions/events/handler.ts',
      description: 'voicedrop events: announces committed status changes of voices on the voicedrop bus',
      memorySize: 256,
      timeout: EVENTS_TIMEOUT,
      serviceName: SERVICE_NAMES.events,
      ...common,
      environment: { [ENV.eventBusName]: this.bus.eventBusName },
    });
    this.bus.grantPutEventsTo(eventsFunction.lambdaFunction);
    const eventsDeadLetterQueue = deadLetterQueue(
      this,
      'EventsDeadLetters',
      'the voices table stream (records that failed every retry)',
    );
    acknowledge(
      eventsDeadLetterQueue,
      'AwsSolutions-SQS3',
      "This queue is the events function's on-failure destination (it holds the stream batches that failed every retry, for a person to look at); it is a dead-letter queue itself.",
    );
    eventsFunction.lambdaFunction.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(24),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(eventsDeadLetterQueue),
        filters: [voiceEventFilter()],
      }),
    );
    acknowledge(
      eventsFunction.lambdaFunction,
      'Serverless-LambdaDLQ',
      'Only the table stream invokes this function; its event source mapping has an on-failure SQS destination.',
    );
    return { eventsFunction, deadLetterQueue: eventsDeadLetterQueue };
  }

  /** The alarms on events that were not published and webhooks that were not delivered. */
  private deliveryAlarms(): Alarm[] {
    return [
      queueAlarm(
        this,
        'EventsDeadLettersAlarm',
        this.eventsDeadLetterQueue,
        'Voice events could not be published',
      ),
      queueAlarm(this, 'WebhookDeadLettersAlarm', this.webhookDeadLetterQueue, 'Webhooks were dead-lettered'),
      new Alarm(this, 'WebhookFailuresAlarm', {
        alarmDescription: 'Webhook deliveries are failing (timeouts, 5xx, 429 or refusals)',
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: 'WebhookDeliveriesFailed' satisfies BusinessMetric,
          dimensionsMap: { service: SERVICE_NAMES.webhooks },
          statistic: 'Sum',
          period: Duration.minutes(15),
        }),
        threshold: 10,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    ];
  }

  /** The webhook side: a rule per endpoint onto the webhook queue, and the function that delivers. */
  private webhooks(props: VoicedropEventsProps, common: FunctionCommon): HouseFunction {
    // Events EventBridge could not put on the webhook queue (after its own retries), kept for a person.
    const undelivered = deadLetterQueue(
      this,
      'WebhookRuleDeadLetters',
      'the webhook rules (events not put on the webhook queue)',
    );
    acknowledge(
      undelivered,
      'AwsSolutions-SQS3',
      "This queue is the webhook rules' dead-letter queue (EventBridge's target DLQ); it is a dead-letter queue itself.",
    );
    this.alarms.push(
      queueAlarm(
        this,
        'WebhookRuleDeadLettersAlarm',
        undelivered,
        'Voice events did not reach the webhook queue',
      ),
    );
    const endpoints = props.webhooks.map((webhook, index) =>
      this.webhookEndpoint(webhook, index, undelivered, props.removalPolicy),
    );
    return this.createWebhookFunction(endpoints, common);
  }

  /** One endpoint: its signing secret and the rule that puts its events on the webhook queue. */
  private webhookEndpoint(
    webhook: WebhookConfig,
    index: number,
    undelivered: Queue,
    removalPolicy: RemovalPolicy,
  ): WebhookEndpoint {
    const id = `endpoint-${index + 1}`;
    const secret: ISecret = webhook.secretArn
      ? Secret.fromSecretCompleteArn(this, `Secret${index + 1}`, webhook.secretArn)
      : this.signingSecret(index, webhook.url, removalPolicy);
    const types = (webhook.events ?? EVENT_STATUSES.map((status) => VOICE_EVENT_TYPES[status].type)).map(
      (type) => EVENT_STATUSES.find((status) => VOICE_EVENT_TYPES[status].type === type) ?? type,
    );
    new Rule(this, `WebhookRule${index + 1}`, {
      eventBus: this.bus,
      description: `voicedrop webhook ${id}: ${webhook.url}`,
      eventPattern: {
        source: [EVENT_SOURCE],
        detailType: types.map(
          (status) => VOICE_EVENT_TYPES[status as keyof typeof VOICE_EVENT_TYPES].detailType,
        ),
      },
      targets: [
        new SqsQueue(this.webhookQueue, {
          deadLetterQueue: undelivered,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          message: RuleTargetInput.fromObject({
            endpoint: id,
            detailType: EventField.detailType,
            detail: EventField.fromPath('$.detail'),
          }),
        }),
      ],
    });
    return { id, url: webhook.url, secret };
  }

  /** The webhook function: reads the webhook queue, signs and POSTs each event to its endpoint. */
  private createWebhookFunction(
    endpoints: readonly WebhookEndpoint[],
    common: FunctionCommon,
  ): HouseFunction {
    const webhookFunction = new HouseFunction(this, 'WebhookFunction', {
      entry: 'functions/webhooks/handler.ts',
      description: 'voicedrop webhooks: signed deliveries of voice events to the configured endpoints',
      memorySize: 256,
      timeout: WEBHOOKS_TIMEOUT,
      serviceName: SERVICE_NAMES.webhooks,
      ...common,
      environment: {
        [ENV.webhookEndpoints]: JSON.stringify(
          endpoints.map(({ id, url, secret }) => ({ id, url, secretArn: secret.secretArn })),
        ),
        [ENV.webhookDlqUrl]: this.webhookDeadLetterQueue.queueUrl,
      },
    });
    for (const { secret } of endpoints) secret.grantRead(webhookFunction.lambdaFunction);
    this.webhookDeadLetterQueue.grantSendMessages(webhookFunction.lambdaFunction);
    webhookFunction.lambdaFunction.addEventSource(
      new SqsEventSource(this.webhookQueue, {
        batchSize: 10,
        maxConcurrency: 5,
        reportBatchItemFailures: true,
      }),
    );
    acknowledge(
      webhookFunction.lambdaFunction,
      'Serverless-LambdaDLQ',
      'Only the SQS event source invokes this function; failed messages move to the webhook dead-letter queue by its redrive policy.',
    );
    for (const mapping of webhookFunction.lambdaFunction.node.children) {
      if (!(mapping instanceof EventSourceMapping)) continue;
      acknowledge(
        mapping,
        'Serverless-LambdaEventSourceMappingDestination',
        "SQS event sources take no on-failure destination; failed records go to the webhook queue's dead-letter queue.",
      );
    }
    return webhookFunction;
  }

  /** A signing secret the stack creates: 32 letters and digits, a valid base64 key (`whsec_` + it). */
  private signingSecret(index: number, url: string, removalPolicy: RemovalPolicy): Secret {
    const secret = new Secret(this, `SigningSecret${index + 1}`, {
      description: `voicedrop webhook signing secret for ${url}: receivers verify with whsec_<this value>`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'A webhook signing secret is shared with the receiver, who must be told a new one; rotating it automatically would break their verification.',
    );
    return secret;
  }
}

/** What every function here shares: the metrics namespace and its logs' retention and removal. */
type FunctionCommon = Pick<HouseFunctionProps, 'metricsNamespace' | 'logRetention' | 'logRemovalPolicy'>;

/** A webhook endpoint as the webhook function is told it: its id, URL and signing secret. */
interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly secret: ISecret;
}

/**
 * Only voice records (the list index's partition attribute) in an event status reach the events
 * function; the function itself checks that the status changed.
 */
function voiceEventFilter(): Record<string, unknown> {
  return FilterCriteria.filter({
    eventName: FilterRule.or('INSERT', 'MODIFY'),
    dynamodb: {
      NewImage: {
        [VOICES_TABLE.byCreatedAt.partitionKey]: { S: FilterRule.isEqual(LIST_PARTITION) },
        status: { S: FilterRule.or(...EVENT_STATUSES) },
      },
    },
  });
}

function deadLetterQueue(scope: Construct, id: string, of: string): Queue {
  const queue = new Queue(scope, id, {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  acknowledge(
    queue,
    'Serverless-SQSRedrivePolicy',
    `This is the dead-letter queue of ${of}; its messages wait for a person to redrive them.`,
  );
  return queue;
}

function queueAlarm(scope: Construct, id: string, queue: Queue, description: string): Alarm {
  return new Alarm(scope, id, {
    alarmDescription: description,
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}
