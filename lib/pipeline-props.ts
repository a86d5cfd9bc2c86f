/** VoicedropPipeline's props: what a user may set (validated by resolvePipelineProps, pipeline-settings.ts). */

import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ProviderName } from '../functions/shared/providers/types';
import type { TrimMode } from '../functions/shared/validation/options';
import type { QualityThresholds } from '../functions/shared/validation/quality-rules';
import type { WebhookConfig } from './config';

export interface VoicedropProviderOptions {
  /**
   * API origin without a trailing slash; https only, since requests carry the provider key.
   * @default - the provider's public API: https://api.smallest.ai, https://api.typecast.ai
   */
  readonly baseUrl?: string;
  /**
   * Model used when an upload does not name one; must be a model the provider accepts for cloning.
   * @default - the provider's default cloning model: lightning-v3.1 (smallest), ssfm-v30 (typecast)
   */
  readonly model?: string;
  /**
   * Clone requests in flight at the provider at once (1 to 100), across all clone invocations.
   * @default - the provider's smallest plan: 1 (smallest), 2 (typecast)
   */
  readonly cloneConcurrency?: number;
  /**
   * Synthesis requests one speech request keeps in flight at the provider (1 to 100).
   * @default - the provider's smallest plan: 1 (smallest), 2 (typecast)
   */
  readonly speechConcurrency?: number;
}

export interface VoicedropCloneQueueOptions {
  /**
   * Records per clone invocation (1 to 10).
   * @default 5
   */
  readonly batchSize?: number;
  /**
   * How long Lambda waits to fill a batch (whole seconds, up to 5 minutes); it adds its whole length to the
   * drop-to-ready time of an upload that arrives alone.
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Deliveries before a message moves to the dead-letter queue (1 to 1000); the clone handler reads it to
   * tell a final attempt from one that will be retried (retries back off from 10 s to 15 min).
   * @default 8
   */
  readonly maxReceiveCount?: number;
  /**
   * Concurrent clone invocations (2 to 1000); each provider's `cloneConcurrency` limits its clone requests
   * exactly, across invocations.
   * @default 2
   */
  readonly maxConcurrency?: number;
}

export interface VoicedropApiOptions {
  /**
   * `iam`: every route requires a SigV4-signed request from a principal allowed `execute-api:Invoke`.
   * `none` opens every route to anyone who knows the URL: for short-lived test deployments only.
   * @default 'iam'
   */
  readonly authorization?: 'iam' | 'none';
  /**
   * The stage, and the first path segment of every URL (letters, digits, hyphens, underscores).
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Steady-state requests per second for the whole stage (1 to 10000).
   * @default 10
   */
  readonly throttleRateLimit?: number;
  /**
   * Requests the stage accepts at once above the steady rate (1 to 5000).
   * @default 20
   */
  readonly throttleBurstLimit?: number;
}

export interface VoicedropAlarmOptions {
  /**
   * The clone queue's oldest message may wait this long before the backlog alarm fires (whole minutes,
   * 5 minutes to a day). Above one visibility timeout (about 30 minutes), so a single retry does not page.
   * @default Duration.minutes(60)
   */
  readonly oldestCloneMessageAge?: Duration;
}

export interface VoicedropPipelineProps {
  /**
   * Provider for uploads directly under `incoming/`.
   * @default 'smallest'
   */
  readonly defaultProvider?: ProviderName;
  /**
   * Per-provider settings; a provider or a setting left out takes its default.
   * @default - the defaults of VoicedropProviderOptions
   */
  readonly providers?: { readonly [provider in ProviderName]?: VoicedropProviderOptions };
  /**
   * Timeout of one provider call from the clone function (whole milliseconds, 1 s to 4 min, below the
   * clone function's 5-minute timeout); the api function caps it at 25 s for API Gateway's 29 s.
   * @default Duration.seconds(60)
   */
  readonly providerTimeout?: Duration;
  /**
   * @default - the defaults of VoicedropCloneQueueOptions
   */
  readonly cloneQueue?: VoicedropCloneQueueOptions;
  /**
   * @default - the defaults of VoicedropApiOptions
   */
  readonly api?: VoicedropApiOptions;
  /**
   * Lifetime of the presigned GET URL that `"delivery": "url"` speech answers with (whole seconds, 1 minute
   * to 1 hour).
   * @default Duration.minutes(15)
   */
  readonly speechUrlTtl?: Duration;
  /**
   * How long a piece of synthesized speech stays in the synthesis cache (whole days, 1 to 365).
   * @default Duration.days(30)
   */
  readonly speechCacheLifetime?: Duration;
  /**
   * Lifetime of the presigned PUT URL that `POST /uploads` answers with (whole seconds, 1 minute to 1 hour).
   * @default Duration.minutes(15)
   */
  readonly uploadUrlTtl?: Duration;
  /**
   * Retention of the functions' log groups and the API access logs; never INFINITE (biometric data).
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * What deleting the stack does to the data. RETAIN keeps the upload bucket, the access-log bucket, the
   * voices table (with deletion protection on), the provider-keys secret and the log groups. DESTROY
   * removes them all, emptying the buckets first. No other policy is accepted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Subscribed to the alarm topic (AWS mails a confirmation link first).
   * @default - no subscription; the topic is there to subscribe to
   */
  readonly alarmEmail?: string;
  /** Webhook endpoints for the voice lifecycle events (lib/voicedrop-events.ts); HTTPS only. */
  readonly webhooks?: readonly WebhookConfig[];
  /**
   * @default - the defaults of VoicedropAlarmOptions
   */
  readonly alarms?: VoicedropAlarmOptions;
  /**
   * How uploads are judged: the trim default and the speech-quality thresholds.
   * @default - trim off; the thresholds of DEFAULT_QUALITY_THRESHOLDS
   */
  readonly validation?: { readonly trim?: TrimMode; readonly quality?: Partial<QualityThresholds> };
  /**
   * Whether uploads must name a consent on record (README "Voice data").
   * @default - not required
   */
  readonly consent?: { readonly required?: boolean };
  /**
   * The retention schedule the daily sweep applies, in days (at most 1,095); `null` turns a rule off.
   * @default - unusedDays 1,095, maxAgeDays off, rejectedDays 30
   */
  readonly retention?: {
    readonly unusedDays?: number | null;
    readonly maxAgeDays?: number | null;
    readonly rejectedDays?: number;
  };
  /**
   * Name of the CloudWatch dashboard (letters, digits, hyphens, underscores).
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
}
