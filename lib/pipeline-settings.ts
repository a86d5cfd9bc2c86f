/** VoicedropPipeline's props validated into the settings the stack builds, every problem reported at once. */

import { type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';
import { TRIM_MODES } from '../functions/shared/validation/options';
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
} from './config';
import type { VoicedropPipelineProps } from './pipeline-props';

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
  const check = new PropsCheck();
  const defaults = DEFAULT_CONFIG;
  const { defaultProvider, providers } = providerSettings(props, check);
  const providerTimeoutMs = check.duration(
    'providerTimeout',
    props.providerTimeout,
    'milliseconds',
    BOUNDS.providerTimeoutMs,
    defaults.providerTimeoutMs,
  );
  const cloneQueue = cloneQueueSettings(props.cloneQueue ?? {}, check);
  const api = apiSettings(props.api ?? {}, check);
  const { speechUrlTtlSeconds, speechCacheDays, uploadUrlTtlSeconds } = lifetimeSettings(props, check);
  const operations = operationsSettings(props, check);
  const validation = validationSettings(props, check);
  const consent = consentSettings(props, check);
  const retention = retentionSettings(props, check);
  checkNamesAndUrls(props, check);

  if (check.problems.length > 0) throw new InvalidPipelinePropsError(path, check.problems);
  return {
    defaultProvider,
    providers,
    providerTimeoutMs,
    cloneQueue,
    api,
    speechUrlTtlSeconds,
    speechCacheDays,
    uploadUrlTtlSeconds,
    ...operations,
    validation,
    consent,
    retention,
    webhooks: props.webhooks ?? [],
    ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
  };
}

/** How long presigned URLs and cached speech last. */
function lifetimeSettings(props: VoicedropPipelineProps, check: PropsCheck) {
  const defaults = DEFAULT_CONFIG;
  return {
    speechUrlTtlSeconds: check.duration(
      'speechUrlTtl',
      props.speechUrlTtl,
      'seconds',
      BOUNDS.urlTtlSeconds,
      defaults.speechUrlTtlSeconds,
    ),
    speechCacheDays: check.duration(
      'speechCacheLifetime',
      props.speechCacheLifetime,
      'days',
      BOUNDS.speechCacheDays,
      defaults.speechCacheDays,
    ),
    uploadUrlTtlSeconds: check.duration(
      'uploadUrlTtl',
      props.uploadUrlTtl,
      'seconds',
      BOUNDS.urlTtlSeconds,
      defaults.uploadUrlTtlSeconds,
    ),
  };
}

function consentSettings(props: VoicedropPipelineProps, check: PropsCheck): { required: boolean } {
  const consent = { required: props.consent?.required ?? DEFAULT_CONFIG.consent.required };
  if (typeof consent.required !== 'boolean') {
    check.report(`consent.required must be true or false (got ${JSON.stringify(consent.required)})`);
  }
  return consent;
}

/** Collects the problems of one props object; each check returns the value to build with. */
class PropsCheck {
  readonly problems: string[] = [];

  report(problem: string): void {
    this.problems.push(problem);
  }

  /** A whole number within `bounds`, known at synth time; `fallback` when not given. */
  whole(name: string, value: number | undefined, bounds: Bounds, fallback: number): number {
    if (value === undefined) return fallback;
    if (Token.isUnresolved(value)) {
      this.report(`${name} must be known at synth time (got a token)`);
    } else if (!Number.isInteger(value) || value < bounds.minimum || value > bounds.maximum) {
      this.report(`${name} ${boundsMessage(bounds)} (got ${value})`);
    }
    return value;
  }

  /** A Duration as a whole number of `unit` within `bounds`; `fallback` (in `unit`) when not given. */
  duration(
    name: string,
    value: Duration | undefined,
    unit: 'milliseconds' | 'seconds' | 'minutes' | 'days',
    bounds: Bounds,
    fallback: number,
  ): number {
    if (value === undefined) return fallback;
    if (value.isUnresolved()) {
      this.report(`${name} must be known at synth time (got a token)`);
      return fallback;
    }
    const amount =
      value.toMilliseconds({ integral: false }) /
      { milliseconds: 1, seconds: 1_000, minutes: 60_000, days: 86_400_000 }[unit];
    if (!Number.isInteger(amount) || amount < bounds.minimum || amount > bounds.maximum) {
      this.report(`${name} ${boundsMessage(bounds, unit)} (got ${value.toHumanString()})`);
    }
    return amount;
  }
}

/** A string given and known at synth time (a token is checked by CloudFormation, not here). */
function known(value: string | undefined): value is string {
  return value !== undefined && !Token.isUnresolved(value);
}

/** The default provider, and each provider's base URL, model and concurrencies. */
function providerSettings(
  props: VoicedropPipelineProps,
  check: PropsCheck,
): Pick<VoicedropConfig, 'defaultProvider' | 'providers'> {
  const defaultProvider = props.defaultProvider ?? DEFAULT_CONFIG.defaultProvider;
  if (!PROVIDER_NAMES.includes(defaultProvider)) {
    check.report(
      `defaultProvider must be one of ${PROVIDER_NAMES.map((name) => `"${name}"`).join(', ')} (got "${defaultProvider}")`,
    );
  }
  const provider = (name: ProviderName) => {
    const options = props.providers?.[name] ?? {};
    const fallback = DEFAULT_CONFIG.providers[name];
    const baseUrl = (options.baseUrl ?? fallback.baseUrl).replace(/\/+$/, '');
    if (known(options.baseUrl) && !isHttpsUrl(options.baseUrl)) {
      check.report(`providers.${name}.baseUrl must be an https:// URL (got "${options.baseUrl}")`);
    }
    const model = options.model ?? fallback.model;
    const modelProblem = known(options.model) ? providerModelProblem(name, options.model) : undefined;
    if (modelProblem) check.report(`providers.${name}.model ${modelProblem} (got "${options.model}")`);
    const concurrency = (setting: 'cloneConcurrency' | 'speechConcurrency') =>
      check.whole(
        `providers.${name}.${setting}`,
        options[setting],
        BOUNDS.providerConcurrency,
        fallback[setting],
      );
    return {
      baseUrl,
      model,
      cloneConcurrency: concurrency('cloneConcurrency'),
      speechConcurrency: concurrency('speechConcurrency'),
    };
  };
  return { defaultProvider, providers: { smallest: provider('smallest'), typecast: provider('typecast') } };
}

/** The clone queue's batching, redelivery and concurrency. */
function cloneQueueSettings(
  queue: NonNullable<VoicedropPipelineProps['cloneQueue']>,
  check: PropsCheck,
): VoicedropConfig['cloneQueue'] {
  const defaults = DEFAULT_CONFIG.cloneQueue;
  return {
    batchSize: check.whole('cloneQueue.batchSize', queue.batchSize, BOUNDS.batchSize, defaults.batchSize),
    maxBatchingWindowSeconds: check.duration(
      'cloneQueue.maxBatchingWindow',
      queue.maxBatchingWindow,
      'seconds',
      BOUNDS.maxBatchingWindowSeconds,
      defaults.maxBatchingWindowSeconds,
    ),
    maxReceiveCount: check.whole(
      'cloneQueue.maxReceiveCount',
      queue.maxReceiveCount,
      BOUNDS.maxReceiveCount,
      defaults.maxReceiveCount,
    ),
    maxConcurrency: check.whole(
      'cloneQueue.maxConcurrency',
      queue.maxConcurrency,
      BOUNDS.maxConcurrency,
      defaults.maxConcurrency,
    ),
  };
}

/** The API's authorization, stage name and throttling. */
function apiSettings(
  apiOptions: NonNullable<VoicedropPipelineProps['api']>,
  check: PropsCheck,
): VoicedropConfig['api'] {
  const defaults = DEFAULT_CONFIG.api;
  const authorization = apiOptions.authorization ?? defaults.authorization;
  if (authorization !== 'iam' && authorization !== 'none') {
    check.report(`api.authorization must be "iam" or "none" (got "${authorization}")`);
  }
  const stageName = apiOptions.stageName ?? defaults.stageName;
  if (known(apiOptions.stageName) && !STAGE_NAME_PATTERN.test(apiOptions.stageName)) {
    check.report(`api.stageName ${STAGE_NAME_MESSAGE} (got "${apiOptions.stageName}")`);
  }
  return {
    authorization,
    stageName,
    throttle: {
      rateLimit: check.whole(
        'api.throttleRateLimit',
        apiOptions.throttleRateLimit,
        BOUNDS.throttleRateLimit,
        defaults.throttle.rateLimit,
      ),
      burstLimit: check.whole(
        'api.throttleBurstLimit',
        apiOptions.throttleBurstLimit,
        BOUNDS.throttleBurstLimit,
        defaults.throttle.burstLimit,
      ),
    },
  };
}

/** Log retention, what happens to the data on stack deletion, and the alarms' settings. */
function operationsSettings(
  props: VoicedropPipelineProps,
  check: PropsCheck,
): Pick<VoicedropConfig, 'logRetentionDays' | 'removalPolicy' | 'alarmEmail' | 'alarms'> {
  const logRetentionDays = props.logRetention ?? DEFAULT_CONFIG.logRetentionDays;
  const retentionProblem = logRetentionProblem(logRetentionDays);
  if (retentionProblem) check.report(`logRetention ${retentionProblem} (got ${logRetentionDays})`);

  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  if (removalPolicy !== RemovalPolicy.RETAIN && removalPolicy !== RemovalPolicy.DESTROY) {
    check.report(
      `removalPolicy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY (got "${removalPolicy}")`,
    );
  }

  if (known(props.alarmEmail) && !isEmailAddress(props.alarmEmail)) {
    check.report(`alarmEmail must be an e-mail address (got "${props.alarmEmail}")`);
  }

  const oldestMessageAgeMinutes = check.duration(
    'alarms.oldestCloneMessageAge',
    props.alarms?.oldestCloneMessageAge,
    'minutes',
    BOUNDS.oldestMessageAgeMinutes,
    DEFAULT_CONFIG.alarms.oldestMessageAgeMinutes,
  );
  return {
    logRetentionDays,
    removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
    alarmEmail: props.alarmEmail ?? null,
    alarms: { oldestMessageAgeMinutes },
  };
}

/** Trimming and the quality thresholds, each within its range. */
function validationSettings(props: VoicedropPipelineProps, check: PropsCheck): VoicedropConfig['validation'] {
  const defaults = DEFAULT_CONFIG.validation;
  const validation = {
    trim: props.validation?.trim ?? defaults.trim,
    quality: { ...defaults.quality, ...props.validation?.quality },
  };
  if (!TRIM_MODES.includes(validation.trim)) {
    check.report(`validation.trim must be "off" or "auto" (got "${validation.trim}")`);
  }
  for (const [key, names] of Object.entries(QUALITY_THRESHOLD_NAMES)) {
    const value = validation.quality[key as keyof QualityThresholds];
    const [minimum, maximum] = names.range;
    if (!(value >= minimum && value <= maximum)) {
      check.report(`validation.quality.${key} must be a number from ${minimum} to ${maximum} (got ${value})`);
    }
  }
  return validation;
}

/** The retention schedule: days unused, days old (each may be switched off with null) and days rejected. */
function retentionSettings(props: VoicedropPipelineProps, check: PropsCheck): VoicedropConfig['retention'] {
  const defaults = DEFAULT_CONFIG.retention;
  const optionalDays = (name: 'unusedDays' | 'maxAgeDays'): number | null => {
    const value = props.retention?.[name];
    if (value === null) return null;
    return check.whole(`retention.${name}`, value, BOUNDS.retentionDays, defaults[name] as number) ?? null;
  };
  return {
    unusedDays: props.retention?.unusedDays === undefined ? defaults.unusedDays : optionalDays('unusedDays'),
    maxAgeDays: props.retention?.maxAgeDays === undefined ? defaults.maxAgeDays : optionalDays('maxAgeDays'),
    rejectedDays: check.whole(
      'retention.rejectedDays',
      props.retention?.rejectedDays,
      BOUNDS.retentionDays,
      defaults.rejectedDays,
    ),
  };
}

/** The dashboard's name and the webhook URLs. */
function checkNamesAndUrls(props: VoicedropPipelineProps, check: PropsCheck): void {
  if (known(props.dashboardName) && !/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)) {
    check.report(
      `dashboardName must be 1 to 255 letters, digits, hyphens or underscores (got "${props.dashboardName}")`,
    );
  }
  (props.webhooks ?? []).forEach((webhook, index) => {
    if (known(webhook.url) && !isHttpsUrl(webhook.url)) {
      check.report(`webhooks[${index}].url must be an https:// URL (got "${webhook.url}")`);
    }
  });
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}
