/** VoicedropPipeline's props: what a user may set, and their validation into the settings the stack builds. */

import { type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';
import { TRIM_MODES, type TrimMode } from '../functions/shared/validation/options';
import {
  QUALITY_THRESHOLD_NAMES,
  type QualityThresholds,
} from '../functions/shared/validation/quality-rules';
import {
  BOUNDS,
  type Bounds,
  boundsMessage,
  DEFAULT_CONFIG,
  isEmailAddress,
  logRetentionProblem,
  providerModelProblem,
  STAGE_NAME_MESSAGE,
  STAGE_NAME_PATTERN,
  type VoicedropConfig,
  type WebhookConfig,
} from './config';

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

/** Every problem found in a VoicedropPipeline's props, reported together. */
export class InvalidPipelinePropsError extends Error {
  constructor(
    readonly path: string,
    readonly problems: readonly string[],
  ) {
    super(
      `Invalid VoicedropPipeline props at ${path}, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'InvalidPipelinePropsError';
  }
}

/** The settings a pipeline is built with: the props validated, with every default filled in. */
export interface VoicedropPipelineSettings extends VoicedropConfig {
  readonly dashboardName?: string;
}

/**
 * Validates props and fills in the defaults (the same as cdk.json's). Throws one InvalidPipelinePropsError
 * listing every problem; `path` names the construct in that message.
 */
export function resolvePipelineProps(
  props: VoicedropPipelineProps = {},
  path = 'VoicedropPipeline',
): VoicedropPipelineSettings {
  const problems: string[] = [];
  const defaults = DEFAULT_CONFIG;

  const whole = (name: string, value: number | undefined, bounds: Bounds, fallback: number): number => {
    if (value === undefined) return fallback;
    if (Token.isUnresolved(value)) {
      problems.push(`${name} must be known at synth time (got a token)`);
    } else if (!Number.isInteger(value) || value < bounds.minimum || value > bounds.maximum) {
      problems.push(`${name} ${boundsMessage(bounds)} (got ${value})`);
    }
    return value;
  };
  const duration = (
    name: string,
    value: Duration | undefined,
    unit: 'milliseconds' | 'seconds' | 'minutes' | 'days',
    bounds: Bounds,
    fallback: number,
  ): number => {
    if (value === undefined) return fallback;
    if (value.isUnresolved()) {
      problems.push(`${name} must be known at synth time (got a token)`);
      return fallback;
    }
    const amount =
      value.toMilliseconds({ integral: false }) /
      { milliseconds: 1, seconds: 1_000, minutes: 60_000, days: 86_400_000 }[unit];
    if (!Number.isInteger(amount) || amount < bounds.minimum || amount > bounds.maximum) {
      problems.push(`${name} ${boundsMessage(bounds, unit)} (got ${value.toHumanString()})`);
    }
    return amount;
  };
  const known = (value: string | undefined): value is string =>
    value !== undefined && !Token.isUnresolved(value);

  const defaultProvider = props.defaultProvider ?? defaults.defaultProvider;
  if (!PROVIDER_NAMES.includes(defaultProvider)) {
    problems.push(
      `defaultProvider must be one of ${PROVIDER_NAMES.map((name) => `"${name}"`).join(', ')} (got "${defaultProvider}")`,
    );
  }
  const provider = (name: ProviderName) => {
    const options = props.providers?.[name] ?? {};
    const fallback = defaults.providers[name];
    const baseUrl = (options.baseUrl ?? fallback.baseUrl).replace(/\/+$/, '');
    if (known(options.baseUrl) && !isHttpsUrl(options.baseUrl)) {
      problems.push(`providers.${name}.baseUrl must be an https:// URL (got "${options.baseUrl}")`);
    }
    const model = options.model ?? fallback.model;
    const modelProblem = known(options.model) ? providerModelProblem(name, options.model) : undefined;
    if (modelProblem) problems.push(`providers.${name}.model ${modelProblem} (got "${options.model}")`);
    const concurrency = (setting: 'cloneConcurrency' | 'speechConcurrency') =>
      whole(`providers.${name}.${setting}`, options[setting], BOUNDS.providerConcurrency, fallback[setting]);
    return {
      baseUrl,
      model,
      cloneConcurrency: concurrency('cloneConcurrency'),
      speechConcurrency: concurrency('speechConcurrency'),
    };
  };
  const providers = { smallest: provider('smallest'), typecast: provider('typecast') };

  const providerTimeoutMs = duration(
    'providerTimeout',
    props.providerTimeout,
    'milliseconds',
    BOUNDS.providerTimeoutMs,
    defaults.providerTimeoutMs,
  );

  const queue = props.cloneQueue ?? {};
  const cloneQueue = {
    batchSize: whole(
      'cloneQueue.batchSize',
      queue.batchSize,
      BOUNDS.batchSize,
      defaults.cloneQueue.batchSize,
    ),
    maxBatchingWindowSeconds: duration(
      'cloneQueue.maxBatchingWindow',
      queue.maxBatchingWindow,
      'seconds',
      BOUNDS.maxBatchingWindowSeconds,
      defaults.cloneQueue.maxBatchingWindowSeconds,
    ),
    maxReceiveCount: whole(
      'cloneQueue.maxReceiveCount',
      queue.maxReceiveCount,
      BOUNDS.maxReceiveCount,
      defaults.cloneQueue.maxReceiveCount,
    ),
    maxConcurrency: whole(
      'cloneQueue.maxConcurrency',
      queue.maxConcurrency,
      BOUNDS.maxConcurrency,
      defaults.cloneQueue.maxConcurrency,
    ),
  };

  const apiOptions = props.api ?? {};
  const authorization = apiOptions.authorization ?? defaults.api.authorization;
  if (authorization !== 'iam' && authorization !== 'none') {
    problems.push(`api.authorization must be "iam" or "none" (got "${authorization}")`);
  }
  const stageName = apiOptions.stageName ?? defaults.api.stageName;
  if (known(apiOptions.stageName) && !STAGE_NAME_PATTERN.test(apiOptions.stageName)) {
    problems.push(`api.stageName ${STAGE_NAME_MESSAGE} (got "${apiOptions.stageName}")`);
  }
  const api = {
    authorization,
    stageName,
    throttle: {
      rateLimit: whole(
        'api.throttleRateLimit',
        apiOptions.throttleRateLimit,
        BOUNDS.throttleRateLimit,
        defaults.api.throttle.rateLimit,
      ),
      burstLimit: whole(
        'api.throttleBurstLimit',
        apiOptions.throttleBurstLimit,
        BOUNDS.throttleBurstLimit,
        defaults.api.throttle.burstLimit,
      ),
    },
  };

  const speechUrlTtlSeconds = duration(
    'speechUrlTtl',
    props.speechUrlTtl,
    'seconds',
    BOUNDS.urlTtlSeconds,
    defaults.speechUrlTtlSeconds,
  );
  const speechCacheDays = duration(
    'speechCacheLifetime',
    props.speechCacheLifetime,
    'days',
    BOUNDS.speechCacheDays,
    defaults.speechCacheDays,
  );
  const uploadUrlTtlSeconds = duration(
    'uploadUrlTtl',
    props.uploadUrlTtl,
    'seconds',
    BOUNDS.urlTtlSeconds,
    defaults.uploadUrlTtlSeconds,
  );

  const logRetentionDays = props.logRetention ?? defaults.logRetentionDays;
  const retentionProblem = logRetentionProblem(logRetentionDays);
  if (retentionProblem) problems.push(`logRetention ${retentionProblem} (got ${logRetentionDays})`);

  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
    problems.push(
      `removalPolicy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY (got "${removalPolicy}")`,
    );
  }

  if (known(props.alarmEmail) && !isEmailAddress(props.alarmEmail)) {
    problems.push(`alarmEmail must be an e-mail address (got "${props.alarmEmail}")`);
  }

  const oldestMessageAgeMinutes = duration(
    'alarms.oldestCloneMessageAge',
    props.alarms?.oldestCloneMessageAge,
    'minutes',
    BOUNDS.oldestMessageAgeMinutes,
    defaults.alarms.oldestMessageAgeMinutes,
  );

  const validation = {
    trim: props.validation?.trim ?? defaults.validation.trim,
    quality: { ...defaults.validation.quality, ...props.validation?.quality },
  };
  if (!TRIM_MODES.includes(validation.trim)) {
    problems.push(`validation.trim must be "off" or "auto" (got "${validation.trim}")`);
  }
  for (const [key, names] of Object.entries(QUALITY_THRESHOLD_NAMES)) {
    const value = validation.quality[key as keyof QualityThresholds];
    const [minimum, maximum] = names.range;
    if (!(value >= minimum && value <= maximum)) {
      problems.push(
        `validation.quality.${key} must be a number from ${minimum} to ${maximum} (got ${value})`,
      );
    }
  }

  const consent = { required: props.consent?.required ?? defaults.consent.required };
  if (typeof consent.required !== 'boolean') {
    problems.push(`consent.required must be true or false (got ${JSON.stringify(consent.required)})`);
  }
  const optionalDays = (name: 'unusedDays' | 'maxAgeDays'): number | null => {
    const value = props.retention?.[name];
    if (value === null) return null;
    return (
      whole(`retention.${name}`, value, BOUNDS.retentionDays, defaults.retention[name] as number) ?? null
    );
  };
  const retention = {
    unusedDays:
      props.retention?.unusedDays === undefined ? defaults.retention.unusedDays : optionalDays('unusedDays'),
    maxAgeDays:
      props.retention?.maxAgeDays === undefined ? defaults.retention.maxAgeDays : optionalDays('maxAgeDays'),
    rejectedDays: whole(
      'retention.rejectedDays',
      props.retention?.rejectedDays,
      BOUNDS.retentionDays,
      defaults.retention.rejectedDays,
    ),
  };

  if (known(props.dashboardName) && !/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)) {
    problems.push(
      `dashboardName must be 1 to 255 letters, digits, hyphens or underscores (got "${props.dashboardName}")`,
    );
  }

  (props.webhooks ?? []).forEach((webhook, index) => {
    if (known(webhook.url) && !isHttpsUrl(webhook.url)) {
      problems.push(`webhooks[${index}].url must be an https:// URL (got "${webhook.url}")`);
    }
  });

  if (problems.length > 0) throw new InvalidPipelinePropsError(path, problems);
  return {
    defaultProvider,
    providers,
    providerTimeoutMs,
    cloneQueue,
    api,
    speechUrlTtlSeconds,
    speechCacheDays,
    uploadUrlTtlSeconds,
    logRetentionDays,
    removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
    alarmEmail: props.alarmEmail ?? null,
    alarms: { oldestMessageAgeMinutes },
    validation,
    consent,
    retention,
    webhooks: props.webhooks ?? [],
    ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
  };
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}
