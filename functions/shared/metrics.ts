import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type CLONE_METRICS,
  METRICS_NAMESPACE,
  PROVIDER_LATENCY_METRIC,
  type RETENTION_METRICS,
  type SPEECH_METRICS,
  type SPEECH_PROVIDER_METRICS,
  type WEBHOOK_METRICS,
} from './contract';
import type { ProviderName } from './providers/types';

/** The pipeline's business metrics (README, "Reading failures"; named in contract.ts, which lib/ reads too). */
export type BusinessMetric =
  | (typeof CLONE_METRICS)[number]
  | (typeof SPEECH_METRICS)[number]
  | (typeof RETENTION_METRICS)[number]
  | (typeof WEBHOOK_METRICS)[number];

/** Counts per provider (dimension `Provider`): what speech cost and what the cache saved. */
export type ProviderMetric = (typeof SPEECH_PROVIDER_METRICS)[number];

export type ProviderOperation = 'clone' | 'speech' | 'delete';

/** What handlers record; the Lambda implementation writes CloudWatch embedded metrics into the logs. */
export interface MetricsRecorder {
  count(name: BusinessMetric, value?: number): void;
  providerLatency(provider: ProviderName, operation: ProviderOperation, milliseconds: number): void;
  providerCount(provider: ProviderName, name: ProviderMetric, value: number): void;
}

/** Records nothing (tests, local mode). */
export const noMetrics: MetricsRecorder = { count() {}, providerLatency() {}, providerCount() {} };

/**
 * Embedded metrics through Powertools: counts are buffered and written once per invocation by
 * `publish()`; provider latencies carry their own dimensions and are written at once.
 */
export function createLambdaMetrics(serviceName: string): MetricsRecorder & { publish(): void } {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  let pending = false;
  return {
    count(name, value = 1) {
      metrics.addMetric(name, MetricUnit.Count, value);
      pending = true;
    },
    providerLatency(provider, operation, milliseconds) {
      const single = metrics.singleMetric();
      single.addDimensions({ Provider: provider, Operation: operation });
      single.addMetric(PROVIDER_LATENCY_METRIC, MetricUnit.Milliseconds, milliseconds);
    },
    providerCount(provider, name, value) {
      const single = metrics.singleMetric();
      single.addDimensions({ Provider: provider });
      single.addMetric(name, MetricUnit.Count, value);
    },
    publish() {
      // Publishing nothing would log a warning on every invocation without business events.
      if (!pending) return;
      metrics.publishStoredMetrics();
      pending = false;
    },
  };
}
