import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import * as z from 'zod';
import { type VoiceEventType, WEBHOOK_EVENT_TYPES } from '../functions/events/voice-events';
import {
  DEFAULT_CLONE_BATCH_SIZE,
  DEFAULT_RETENTION_REJECTED_DAYS,
  DEFAULT_RETENTION_UNUSED_DAYS,
  DEFAULT_SPEECH_CACHE_DAYS,
  MAX_RETENTION_DAYS,
} from '../functions/shared/contract';
import { PROVIDER_LIMITS } from '../functions/shared/providers/limits';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';
import { TRIM_MODES, type TrimMode } from '../functions/shared/validation/options';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  QUALITY_THRESHOLD_NAMES,
  type QualityThresholds,
} from '../functions/shared/validation/quality-rules';

/** The cdk.json context key that holds the project configuration. */
export const CONFIG_CONTEXT_KEY = 'voicedrop';

/** One provider's deployment settings. */
export interface ProviderConfig {
  /** API origin without a trailing slash; https only, since the request carries the provider key. */
  readonly baseUrl: string;
  /** Model used when an upload does not name one; must be a model the provider accepts for cloning. */
  readonly model: string;
  /**
   * Clone requests in flight at the provider at once: voicedrop never has more there (slots in the voices
   * table, shared by every clone invocation and local mode). Default: the provider's smallest plan.
   */
  readonly cloneConcurrency: number;
  /**
   * Synthesis requests one speech request keeps in flight at the provider (the pieces of a long text).
   * Default: the provider's smallest plan.
   */
  readonly speechConcurrency: number;
}

export interface CloneQueueConfig {
  /**
   * Records per clone invocation.
   * @default 5
   */
  readonly batchSize: number;
  /**
   * How long Lambda waits to fill a batch. Every second of it is added to the drop-to-ready time of an upload
   * that arrives alone, the common case; 0 takes what the queue holds at each poll (up to `batchSize`).
   * @default 0
   */
  readonly maxBatchingWindowSeconds: number;
  /**
   * Deliveries before a message moves to the dead-letter queue; the clone handler reads it
   * (CLONE_MAX_RECEIVE_COUNT) to tell a final attempt from one that will be retried. Failed deliveries come
   * back after 10 s, 20 s, 40 s … (at most 15 min, or the provider's Retry-After); 8 deliveries span about
   * 20 minutes. Waiting for a provider slot is not a delivery.
   * @default 8
   */
  readonly maxReceiveCount: number;
  /**
   * Concurrent clone invocations (event-source maximum concurrency, at least 2). Each invocation works on
   * its batch's uploads side by side; each provider's `cloneConcurrency` then limits its clone requests exactly.
   * @default 2
   */
  readonly maxConcurrency: number;
}

export interface ApiThrottleConfig {
  /**
   * Steady-state requests per second for the whole stage (API Gateway's token-bucket refill rate).
   * @default 10
   */
  readonly rateLimit: number;
  /**
   * Requests the stage accepts at once above the steady rate (the token bucket's size).
   * @default 20
   */
  readonly burstLimit: number;
}

export interface ApiConfig {
  /**
   * How callers authenticate. `iam`: every route requires a SigV4-signed request from a principal allowed
   * `execute-api:Invoke`. `none` opens every route to anyone who knows the URL, provider keys and voices
   * included: for short-lived test deployments only, and it must be written out explicitly.
   * @default 'iam'
   */
  readonly authorization: 'iam' | 'none';
  /**
   * The stage, and the first path segment of every URL (`…/v1/voices`).
   * @default 'v1'
   */
  readonly stageName: string;
  readonly throttle: ApiThrottleConfig;
}

export interface AlarmsConfig {
  /**
   * How long the oldest message may wait in the clone queue before the backlog alarm fires, in minutes. Above
   * one visibility timeout (about 30 minutes with the 5-minute clone function), so that a single retry does not
   * page anyone while two in a row, or a queue that does not drain, do.
   * @default 60
   */
  readonly oldestMessageAgeMinutes: number;
}

/** How uploads are judged before a provider is called (functions/shared/validation/). */
export interface ValidationConfig {
  /**
   * Trim for uploads that do not say (`trim` metadata, `POST /uploads` `trim`): `auto` cuts a sample longer
   * than the provider's window to its best window of speech; `off` rejects it as too long.
   * @default 'off'
   */
  readonly trim: TrimMode;
  /** The speech-quality gate's thresholds (README "Speech quality"). */
  readonly quality: QualityThresholds;
}

/** Consent to clone (README "Voice data"). */
export interface ConsentConfig {
  /**
   * Uploads must name a consent on record (`consent-id` metadata, `POST /uploads` `consentId`); without one
   * they are rejected `consent_required`, with an unknown, revoked or expired one `consent_invalid`.
   * @default false
   */
  readonly required: boolean;
}

/** The retention schedule the daily sweep applies (README "Voice data"). */
export interface RetentionConfig {
  /**
   * A ready voice not spoken with for this many days is deleted (last use: `usage.lastUsedAt`, else its
   * creation); `null` turns it off. At most 1,095 (BIPA: three years after the last interaction).
   * @default 1095
   */
  readonly unusedDays: number | null;
  /**
   * A ready voice older than this many days is deleted, used or not; `null` turns it off. At most 1,095.
   * @default null
   */
  readonly maxAgeDays: number | null;
  /**
   * Days the audio of rejected, failed and duplicate uploads is kept after they ended (their records stay,
   * with the deletion receipt).
   * @default 30
   */
  readonly rejectedDays: number;
}

/** The project configuration: cdk.json context `voicedrop`, validated once per synth. */
export interface VoicedropConfig {
  /**
   * Provider for uploads directly under `incoming/`.
   * @default 'smallest'
   */
  readonly defaultProvider: ProviderName;
  readonly providers: Readonly<Record<ProviderName, ProviderConfig>>;
  /**
   * Timeout for one provider call; the handlers cap it further by the Lambda's remaining time.
   * @default 60000
   */
  readonly providerTimeoutMs: number;
  readonly cloneQueue: CloneQueueConfig;
  readonly api: ApiConfig;
  /**
   * Lifetime of the presigned GET URL that `"delivery": "url"` speech answers with, in seconds.
   * @default 900
   */
  readonly speechUrlTtlSeconds: number;
  /**
   * Days a piece of synthesized speech stays in the synthesis cache (`cache/`), then a lifecycle rule
   * expires it.
   * @default 30
   */
  readonly speechCacheDays: number;
  /**
   * Lifetime of the presigned POST form that `POST /uploads` answers with, in seconds.
   * @default 900
   */
  readonly uploadUrlTtlSeconds: number;
  /**
   * Retention of every function's log group, in days (a CloudWatch Logs retention period).
   * @default 30
   */
  readonly logRetentionDays: RetentionDays;
  /**
   * What stack deletion does to the data (bucket, table, secret, logs). `retain` keeps them and turns on
   * the table's deletion protection; `destroy` removes them, emptying the bucket first.
   * @default 'retain'
   */
  readonly removalPolicy: 'retain' | 'destroy';
  /**
   * Where alarms are sent; `null` creates no subscription.
   * @default null
   */
  readonly alarmEmail: string | null;
  readonly alarms: AlarmsConfig;
  readonly validation: ValidationConfig;
  readonly consent: ConsentConfig;
  readonly retention: RetentionConfig;
  /**
   * Webhook endpoints (README "Events and webhooks"): HTTPS only; `events` limits the webhook types sent
   * (all when absent); `secretArn` names an existing Secrets Manager secret holding the `whsec_…` signing
   * secret, else the stack creates one per endpoint.
   * @default []
   */
  readonly webhooks: readonly WebhookConfig[];
}

export interface WebhookConfig {
  readonly url: string;
  readonly events?: readonly VoiceEventType[];
  readonly secretArn?: string;
}

/** Every problem found in the configuration, reported together so one edit fixes them all. */
export class InvalidConfigurationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid voicedrop configuration (cdk.json context "${CONFIG_CONTEXT_KEY}" or -c ${CONFIG_CONTEXT_KEY}=<json>), ` +
        `${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
    this.name = 'InvalidConfigurationError';
  }
}

/** A whole-number setting's accepted range. */
export interface Bounds {
  readonly minimum: number;
  readonly maximum: number;
  /** Where the range comes from, when that is not obvious. */
  readonly reason?: string;
}

/**
 * The accepted ranges of whole-number settings, shared by the cdk.json schema and VoicedropPipeline's own
 * props validation, so that the context and the construct accept exactly the same values.
 */
export const BOUNDS = {
  providerConcurrency: { minimum: 1, maximum: 100 },
  // The upper bound leaves the 5-minute clone function time to download, validate and record.
  providerTimeoutMs: { minimum: 1_000, maximum: 240_000 },
  // Ten is the most SQS hands over without a batching window; clones are slow, so more would only push
  // records past the function timeout.
  batchSize: { minimum: 1, maximum: 10 },
  maxBatchingWindowSeconds: { minimum: 0, maximum: 300, reason: 'the Lambda limit' },
  maxReceiveCount: { minimum: 1, maximum: 1_000, reason: 'the SQS limit' },
  maxConcurrency: { minimum: 2, maximum: 1_000, reason: 'SQS event sources accept at least 2' },
  throttleRateLimit: { minimum: 1, maximum: 10_000, reason: "API Gateway's default account limit" },
  throttleBurstLimit: { minimum: 1, maximum: 5_000, reason: "API Gateway's default account limit" },
  // URLs are signed with the api function's temporary credentials, which can expire first; an hour keeps
  // the promised lifetime honest, and speech/ objects are gone within two days anyway.
  urlTtlSeconds: { minimum: 60, maximum: 3_600 },
  // Cached speech derives from a voice (biometric data): kept at most about a year.
  speechCacheDays: { minimum: 1, maximum: 365 },
  // The alarm looks at 5-minute periods; a day is far inside the clone queue's 4-day retention, so the alarm
  // fires while the waiting uploads can still be saved.
  oldestMessageAgeMinutes: { minimum: 5, maximum: 1_440, reason: 'the clone queue keeps messages 4 days' },
  retentionDays: {
    minimum: 1,
    maximum: MAX_RETENTION_DAYS,
    reason: 'BIPA: at most three years after the last interaction',
  },
} as const satisfies Record<string, Bounds>;

/** `must be a whole number from 1 to 10 (the Lambda limit)`, with an optional unit after "number of". */
export function boundsMessage(bounds: Bounds, unit?: string): string {
  const what = unit ? `a whole number of ${unit}` : 'a whole number';
  return `must be ${what} from ${bounds.minimum} to ${bounds.maximum}${bounds.reason ? ` (${bounds.reason})` : ''}`;
}

/** API Gateway allows letters, digits, hyphens and underscores in a stage name. */
export const STAGE_NAME_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const STAGE_NAME_MESSAGE = 'must be 1 to 128 letters, digits, hyphens or underscores';

/** Why a provider does not take `model` for cloning, or undefined when it does. */
export function providerModelProblem(provider: ProviderName, model: string): string | undefined {
  const models = PROVIDER_LIMITS[provider].models;
  if (models.accepted.includes(model)) return undefined;
  const rejection = models.rejected[model];
  return rejection
    ? `is rejected by the provider: ${rejection}`
    : `must be one of ${models.accepted.map((accepted) => `"${accepted}"`).join(', ')}`;
}

const retentionMessage = `must be a CloudWatch Logs retention period in days: ${Object.values(RetentionDays)
  .filter((days) => typeof days === 'number' && days !== RetentionDays.INFINITE)
  .join(', ')}`;

/**
 * Why `days` cannot be a log retention, or undefined when it can. Biometric data: logs are kept for a bounded
 * time, so INFINITE is not offered.
 */
export function logRetentionProblem(days: number): string | undefined {
  const periods: readonly unknown[] = Object.values(RetentionDays);
  return periods.includes(days) && days !== RetentionDays.INFINITE ? undefined : retentionMessage;
}

const emailSchema = z.email();

export function isEmailAddress(value: string): boolean {
  return emailSchema.safeParse(value).success;
}

function wholeNumber(bounds: Bounds) {
  const message = boundsMessage(bounds);
  return z
    .int({ error: message })
    .min(bounds.minimum, { error: message })
    .max(bounds.maximum, { error: message });
}

const RENAMED_CONCURRENCY =
  'was split in two: set cloneConcurrency (clone requests in flight) and speechConcurrency (synthesis requests in flight)';

function qualityThreshold(key: keyof QualityThresholds) {
  const [minimum, maximum] = QUALITY_THRESHOLD_NAMES[key].range;
  const message = `must be a number from ${minimum} to ${maximum}`;
  return z
    .number({ error: message })
    .min(minimum, { error: message })
    .max(maximum, { error: message })
    .default(DEFAULT_QUALITY_THRESHOLDS[key]);
}

function providerSchema(provider: ProviderName) {
  const limits = PROVIDER_LIMITS[provider];
  const models = limits.models;
  const accepted = models.accepted.map((model) => `"${model}"`).join(', ');
  return z
    .strictObject({
      baseUrl: z
        .url({ protocol: /^https$/, error: 'must be an https:// URL' })
        .transform((url) => url.replace(/\/+$/, ''))
        .default(limits.baseUrl),
      model: z
        .string({ error: `must be one of ${accepted}` })
        .superRefine((model, context) => {
          const problem = providerModelProblem(provider, model);
          if (problem) context.addIssue({ code: 'custom', input: model, message: problem });
        })
        .default(models.default),
      cloneConcurrency: wholeNumber(BOUNDS.providerConcurrency).default(limits.clone.concurrency),
      speechConcurrency: wholeNumber(BOUNDS.providerConcurrency).default(limits.speech.concurrency),
      concurrency: z.never({ error: RENAMED_CONCURRENCY }).optional(),
    })
    .prefault({});
}

// Defaults live here, field by field, so an override names only what it changes. They equal the object
// cdk.json ships with (a test keeps the two in step).
const configSchema = z.strictObject({
  defaultProvider: z
    .enum(PROVIDER_NAMES, { error: `must be one of ${PROVIDER_NAMES.map((name) => `"${name}"`).join(', ')}` })
    .default('smallest'),
  providers: z
    .strictObject({
      smallest: providerSchema('smallest'),
      typecast: providerSchema('typecast'),
    })
    .prefault({}),
  providerTimeoutMs: wholeNumber(BOUNDS.providerTimeoutMs).default(60_000),
  cloneQueue: z
    .strictObject({
      batchSize: wholeNumber(BOUNDS.batchSize).default(DEFAULT_CLONE_BATCH_SIZE),
      maxBatchingWindowSeconds: wholeNumber(BOUNDS.maxBatchingWindowSeconds).default(0),
      maxReceiveCount: wholeNumber(BOUNDS.maxReceiveCount).default(8),
      maxConcurrency: wholeNumber(BOUNDS.maxConcurrency).default(2),
    })
    .prefault({}),
  api: z
    .strictObject({
      authorization: z
        .enum(['iam', 'none'], { error: 'must be "iam" or "none" (none: for test deployments only)' })
        .default('iam'),
      stageName: z
        .string({ error: STAGE_NAME_MESSAGE })
        .regex(STAGE_NAME_PATTERN, { error: STAGE_NAME_MESSAGE })
        .default('v1'),
      throttle: z
        .strictObject({
          rateLimit: wholeNumber(BOUNDS.throttleRateLimit).default(10),
          burstLimit: wholeNumber(BOUNDS.throttleBurstLimit).default(20),
        })
        .prefault({}),
    })
    .prefault({}),
  speechUrlTtlSeconds: wholeNumber(BOUNDS.urlTtlSeconds).default(900),
  speechCacheDays: wholeNumber(BOUNDS.speechCacheDays).default(DEFAULT_SPEECH_CACHE_DAYS),
  uploadUrlTtlSeconds: wholeNumber(BOUNDS.urlTtlSeconds).default(900),
  logRetentionDays: z
    .enum(RetentionDays, { error: retentionMessage })
    .refine((days) => logRetentionProblem(days) === undefined, { error: retentionMessage })
    .default(RetentionDays.ONE_MONTH),
  removalPolicy: z.enum(['retain', 'destroy'], { error: 'must be "retain" or "destroy"' }).default('retain'),
  alarmEmail: z.email({ error: 'must be an e-mail address or null' }).nullable().default(null),
  alarms: z
    .strictObject({
      oldestMessageAgeMinutes: wholeNumber(BOUNDS.oldestMessageAgeMinutes).default(60),
    })
    .prefault({}),
  webhooks: z
    .array(
      z.strictObject({
        url: z.url({ protocol: /^https$/, error: 'must be an https:// URL' }),
        events: z
          .array(
            z.enum(WEBHOOK_EVENT_TYPES as [VoiceEventType, ...VoiceEventType[]], {
              error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}`,
            }),
          )
          .nonempty({ error: 'must name at least one event type (leave it out for all)' })
          .optional(),
        secretArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, {
            error: 'must be a Secrets Manager secret ARN',
          })
          .optional(),
      }),
    )
    .max(20, { error: 'takes at most 20 endpoints' })
    .default([]),
  validation: z
    .strictObject({
      trim: z.enum(TRIM_MODES, { error: 'must be "off" or "auto"' }).default('off'),
      quality: z
        .strictObject({
          silencePeakDbfs: qualityThreshold('silencePeakDbfs'),
          minSpeechLevelDbfs: qualityThreshold('minSpeechLevelDbfs'),
          maxClippedRatio: qualityThreshold('maxClippedRatio'),
        })
        .prefault({}),
    })
    .prefault({}),
  consent: z
    .strictObject({
      required: z.boolean({ error: 'must be true or false' }).default(false),
    })
    .prefault({}),
  retention: z
    .strictObject({
      unusedDays: wholeNumber(BOUNDS.retentionDays).nullable().default(DEFAULT_RETENTION_UNUSED_DAYS),
      maxAgeDays: wholeNumber(BOUNDS.retentionDays).nullable().default(null),
      rejectedDays: wholeNumber(BOUNDS.retentionDays).default(DEFAULT_RETENTION_REJECTED_DAYS),
    })
    .prefault({}),
});

/** The configuration an empty context means: every default. VoicedropPipeline's props default to the same. */
export const DEFAULT_CONFIG: VoicedropConfig = configSchema.parse({});

/**
 * Validates a raw `voicedrop` context value. Absent keys take the defaults; an object given with
 * `-c voicedrop='{…}'` arrives as a JSON string and replaces the cdk.json object as a whole (that is how
 * the CDK CLI layers context), so keys it leaves out take the defaults, not the cdk.json values.
 * Throws one InvalidConfigurationError listing every problem.
 */
export function parseConfig(raw: unknown): VoicedropConfig {
  let value: unknown = raw ?? {};
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (error) {
      throw new InvalidConfigurationError([
        `${CONFIG_CONTEXT_KEY} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      ]);
    }
  }
  const result = configSchema.safeParse(value, { reportInput: true });
  if (!result.success) {
    throw new InvalidConfigurationError(result.error.issues.map(describeIssue));
  }
  return result.data;
}

/** Reads and validates the configuration from the app's context (cdk.json and `-c`). */
export function readConfig(scope: IConstruct): VoicedropConfig {
  return parseConfig(scope.node.tryGetContext(CONFIG_CONTEXT_KEY));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = [CONFIG_CONTEXT_KEY, ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    return `${where} has unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  }
  const got = 'input' in issue && issue.input !== undefined ? ` (got ${JSON.stringify(issue.input)})` : '';
  return `${where} ${issue.message}${got}`;
}
