/** The metric helpers the alarms and the dashboard share: periods, statistics and the handlers' counts. */
import { Duration } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, SERVICE_NAMES } from '../functions/shared/contract';

export const FIVE_MINUTES = Duration.minutes(5);

/** Sum over five minutes, as alarms and graphs of counts read them. */
export const SUM = { statistic: Stats.SUM, period: FIVE_MINUTES } as const;
/** Maximum over five minutes, as alarms and graphs of queue depths and ages read them. */
export const MAXIMUM = { statistic: Stats.MAXIMUM, period: FIVE_MINUTES } as const;

/** The dimension of each handler's business metrics. */
export const CLONE_SERVICE = { service: SERVICE_NAMES.clone };
export const SPEECH_SERVICE = { service: SERVICE_NAMES.speech };
export const RETENTION_SERVICE = { service: SERVICE_NAMES.retention };

/** A business metric a handler counts (embedded metrics in the voicedrop namespace), summed per period. */
export function handlerCount(
  metricName: string,
  dimensionsMap: Record<string, string>,
  period: Duration = FIVE_MINUTES,
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap,
    statistic: Stats.SUM,
    period,
  });
}
