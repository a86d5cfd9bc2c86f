/** The pipeline's dashboard, row by row: what flows through it, its functions, its API and its providers. */
import { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  GraphWidget,
  type IWidget,
  Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  CLONE_METRICS,
  METRICS_NAMESPACE,
  PROVIDER_LATENCY_METRIC,
  SERVICE_NAMES,
  SPEECH_METRICS,
} from '../functions/shared/contract';
import type { ProviderOperation } from '../functions/shared/metrics';
import { PROVIDER_NAMES } from '../functions/shared/providers/types';
import {
  CLONE_SERVICE,
  FIVE_MINUTES,
  handlerCount,
  MAXIMUM,
  RETENTION_SERVICE,
  SPEECH_SERVICE,
  SUM,
} from './monitoring-metrics';
import type { VoicedropMonitoringProps } from './voicedrop-monitoring';

/** The dashboard's rows, top to bottom; `alarms` are shown in one status widget. */
export function dashboardRows(props: VoicedropMonitoringProps, alarms: readonly Alarm[]): IWidget[][] {
  return [
    [
      new TextWidget({
        markdown:
          '# voicedrop\nUploads below `incoming/` → clone queue → clone function → voices table; HTTPS API → api ' +
          'function. A message in the dead-letter queue is an upload that failed every attempt: fix the cause, ' +
          'then redrive it to the clone queue.',
        width: 24,
        height: 2,
      }),
    ],
    [new AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: 24, height: 3 })],
    cloneRow(props),
    [
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
    ],
    speechAndRetentionRow(props),
    ...(props.otherFunctions?.length
      ? [
          props.otherFunctions.map(
            ({ title, fn }) => new GraphWidget({ title, left: functionActivity(fn), width: 6 }),
          ),
        ]
      : []),
    apiRow(props),
    [
      new GraphWidget({ title: 'Provider latency: clone (ms)', left: providerLatency('clone'), width: 12 }),
      new GraphWidget({ title: 'Provider latency: speech (ms)', left: providerLatency('speech'), width: 12 }),
    ],
  ];
}

/** The clone handler's counts, the clone queue and its dead-letter queue. */
function cloneRow(props: VoicedropMonitoringProps): IWidget[] {
  return [
    new GraphWidget({
      title: 'Clones (handler metrics)',
      left: CLONE_METRICS.map((name) => handlerCount(name, CLONE_SERVICE).with({ label: name })),
      width: 12,
    }),
    new GraphWidget({
      title: 'Clone queue',
      left: [
        props.cloneQueue.metricApproximateNumberOfMessagesVisible({ ...MAXIMUM, label: 'Waiting' }),
        props.cloneQueue.metricApproximateNumberOfMessagesNotVisible({ ...MAXIMUM, label: 'In flight' }),
      ],
      right: [
        props.cloneQueue.metricApproximateAgeOfOldestMessage({ ...MAXIMUM, label: 'Oldest message (s)' }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Dead-letter queue',
      left: [
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...MAXIMUM, label: 'Messages' }),
      ],
      leftAnnotations: [{ value: 1, label: 'alarm', color: '#d62728' }],
      width: 4,
    }),
  ];
}

/** The speech function, and the daily retention sweep with what it deleted and could not. */
function speechAndRetentionRow(props: VoicedropMonitoringProps): IWidget[] {
  return [
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
        handlerCount('RetentionDeletions', RETENTION_SERVICE, Duration.days(1)).with({
          label: 'Voices deleted',
        }),
        handlerCount('RetentionFailures', RETENTION_SERVICE, Duration.days(1)).with({
          label: 'Deletions failed',
        }),
      ],
      width: 12,
    }),
  ];
}

/** The API's requests and latency, and the speech handler's counts. */
function apiRow(props: VoicedropMonitoringProps): IWidget[] {
  return [
    new GraphWidget({
      title: 'API requests',
      left: [
        props.apiStage.metricCount({ ...SUM, label: 'Requests' }),
        props.apiStage.metricClientError({ ...SUM, label: '4xx' }),
        props.apiStage.metricServerError({ ...SUM, label: '5xx' }),
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
        handlerCount(name, SPEECH_SERVICE).with({ label: name }),
      ),
      right: [handlerCount('SpeechCharacters', SPEECH_SERVICE).with({ label: 'SpeechCharacters' })],
      width: 8,
    }),
  ];
}

/** Invocations, errors and throttles of one function. */
function functionActivity(fn: IFunction) {
  return [
    fn.metricInvocations({ ...SUM, label: 'Invocations' }),
    fn.metricErrors({ ...SUM, label: 'Errors' }),
    fn.metricThrottles({ ...SUM, label: 'Throttles' }),
  ];
}

/** p50, p95 and the maximum of one function's duration. */
function functionDuration(fn: IFunction) {
  return [Stats.p(50), Stats.p(95), Stats.MAXIMUM].map((statistic) =>
    fn.metricDuration({ statistic, period: FIVE_MINUTES, label: statistic }),
  );
}

/** p50 and p95 of each provider's latency for one operation. */
function providerLatency(operation: Extract<ProviderOperation, 'clone' | 'speech'>) {
  return PROVIDER_NAMES.flatMap((provider) =>
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
}
