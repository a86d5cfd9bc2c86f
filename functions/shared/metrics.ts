import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from './contract';

/** The pipeline's business metrics (README, "Reading failures"; the dashboard and alarms in lib/ use these names). */
export type BusinessMetric =
  | 'ClonesStarted'
  | 'ClonesReady'
  | 'UploadsRejected'
  | 'ClonesFailed'
  | 'UploadsDuplicate'
  | 'ClonesDeferred'
  | 'SpeechRequests'
  | 'SpeechCharacters'
  /** A speech stream that ended early after audio had been sent (the client sees a truncated body). */
  | 'SpeechStreamsTruncated'
  /** Voices (and expired upload audio) the retention sweep deleted. */
  | 'RetentionDeletions'
  /** Deletions the retention sweep could not finish (retried by its next run). */
  | 'RetentionFailures'
  /** Webhook deliveries the endpoint took (2xx), failed (retried or refused) and refused (dead-lettered at once). */
  | 'WebhooksDelivered'
  | 'WebhookDeliveriesFailed'
  | 'WebhooksRefused';

/** Counts per provider (dimension `Provider`): what speech cost and what the cache saved. */
export type ProviderMetric = 'SpeechProviderCharacters' | 'SpeechCacheHits' | 'SpeechCachedPieces';

export type ProviderOperation = 'clone' | 'speech' | 'delete';

/** What handlers record; the Lambda implementation writes CloudWatch embedded metrics into the logs. */
export interface MetricsRecorder {
  count(name: BusinessMetric, value?: number): void;
  providerLatency(provider: string, operation: ProviderOperation, milliseconds: number): void;
  providerCount(provider: string, name: ProviderMetric, value: number): void;
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
      single.addMetric('ProviderLatency', MetricUnit.Milliseconds, milliseconds);
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
