import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { z } from 'zod';
import { PROVIDER_LIMITS } from '../functions/shared/providers/limits';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';

/** The cdk.json context key that holds the project configuration. */
export const CONFIG_CONTEXT_KEY = 'voicedrop';

/**
 * Uploads below this prefix are cloned (DESIGN.md, upload contract). A fixed contract, not a setting: the
 * bucket notification, the clone function's read grant and the presigned uploads all depend on it.
 */
export const INCOMING_PREFIX = 'incoming/';

/**
 * Synthesized audio the API stores for `"delivery": "url"` lives below this prefix and expires within days;
 * the api function's grants and the bucket's lifecycle rule depend on it, so it is not a setting either.
 */
export const SPEECH_PREFIX = 'speech/';

/** The voices table's index for listing, newest first (items carry `listPartition`; audio claims do not). */
export const VOICES_BY_CREATED_AT_INDEX = 'byCreatedAt';

/** One provider's deployment settings. */
export interface ProviderConfig {
  /** API origin without a trailing slash; https only, since the request carries the provider key. */
  readonly baseUrl: string;
  /** Model used when an upload does not name one; must be a model the provider accepts for cloning. */
  readonly model: string;
  /** Concurrent requests the provider allows for this account's plan. */
  readonly concurrency: number;
}

export interface CloneQueueConfig {
  /**
   * Records per clone invocation.
   * @default 5
   */
  readonly batchSize: number;
  /**
   * How long Lambda waits to fill a batch.
   * @default 5
   */
  readonly maxBatchingWindowSeconds: number;
  /**
   * Deliveries before a message moves to the dead-letter queue; the clone handler reads it
   * (CLONE_MAX_RECEIVE_COUNT) to tell a final attempt from one that will be retried.
   * @default 5
   */
  readonly maxReceiveCount: number;
  /**
   * Concurrent clone invocations (event-source maximum concurrency, at least 2); the backpressure that
   * keeps provider calls under the providers' rate limits.
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
   * Lifetime of the presigned PUT URL that `POST /uploads` answers with, in seconds.
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

const retentionMessage = `must be a CloudWatch Logs retention period in days: ${Object.values(RetentionDays)
  .filter((days) => typeof days === 'number' && days !== RetentionDays.INFINITE)
  .join(', ')}`;

function wholeNumber(minimum: number, maximum: number, reason?: string) {
  const message = `must be a whole number from ${minimum} to ${maximum}${reason ? ` (${reason})` : ''}`;
  return z.int({ error: message }).min(minimum, { error: message }).max(maximum, { error: message });
}

function providerSchema(provider: ProviderName, defaults: Omit<ProviderConfig, 'model'>) {
  const models = PROVIDER_LIMITS[provider].models;
  const accepted = models.accepted.map((model) => `"${model}"`).join(', ');
  return z
    .strictObject({
      baseUrl: z
        .url({ protocol: /^https$/, error: 'must be an https:// URL' })
        .transform((url) => url.replace(/\/+$/, ''))
        .default(defaults.baseUrl),
      model: z
        .string({ error: `must be one of ${accepted}` })
        .superRefine((model, context) => {
          if (models.accepted.includes(model)) return;
          const rejection = models.rejected[model];
          context.addIssue({
            code: 'custom',
            input: model,
            message: rejection ? `is rejected by the provider: ${rejection}` : `must be one of ${accepted}`,
          });
        })
        .default(models.default),
      concurrency: wholeNumber(1, 100).default(defaults.concurrency),
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
      smallest: providerSchema('smallest', { baseUrl: 'https://api.smallest.ai', concurrency: 1 }),
      typecast: providerSchema('typecast', { baseUrl: 'https://api.typecast.ai', concurrency: 2 }),
    })
    .prefault({}),
  // The upper bound leaves the 5-minute clone function time to download, validate and record.
  providerTimeoutMs: wholeNumber(1_000, 240_000).default(60_000),
  cloneQueue: z
    .strictObject({
      // Ten is the most SQS hands over without a batching window; clones are slow, so more would only
      // push records past the function timeout.
      batchSize: wholeNumber(1, 10).default(5),
      maxBatchingWindowSeconds: wholeNumber(0, 300, 'the Lambda limit').default(5),
      maxReceiveCount: wholeNumber(1, 1000, 'the SQS limit').default(5),
      maxConcurrency: wholeNumber(2, 1000, 'SQS event sources accept at least 2').default(2),
    })
    .prefault({}),
  api: z
    .strictObject({
      authorization: z
        .enum(['iam', 'none'], { error: 'must be "iam" or "none" (none: for test deployments only)' })
        .default('iam'),
      // API Gateway allows letters, digits, hyphens and underscores in a stage name.
      stageName: z
        .string({ error: 'must be 1 to 128 letters, digits, hyphens or underscores' })
        .regex(/^[A-Za-z0-9_-]{1,128}$/, {
          error: 'must be 1 to 128 letters, digits, hyphens or underscores',
        })
        .default('v1'),
      throttle: z
        .strictObject({
          rateLimit: wholeNumber(1, 10_000, "API Gateway's default account limit").default(10),
          burstLimit: wholeNumber(1, 5_000, "API Gateway's default account limit").default(20),
        })
        .prefault({}),
    })
    .prefault({}),
  // URLs are signed with the api function's temporary credentials, which can expire first; an hour keeps
  // the promised lifetime honest, and speech/ objects are gone within two days anyway.
  speechUrlTtlSeconds: wholeNumber(60, 3_600).default(900),
  uploadUrlTtlSeconds: wholeNumber(60, 3_600).default(900),
  // Biometric data: logs are kept for a bounded time, so INFINITE is not offered.
  logRetentionDays: z
    .enum(RetentionDays, { error: retentionMessage })
    .refine((days) => days !== RetentionDays.INFINITE, { error: retentionMessage })
    .default(RetentionDays.ONE_MONTH),
  removalPolicy: z.enum(['retain', 'destroy'], { error: 'must be "retain" or "destroy"' }).default('retain'),
  alarmEmail: z.email({ error: 'must be an e-mail address or null' }).nullable().default(null),
});

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
