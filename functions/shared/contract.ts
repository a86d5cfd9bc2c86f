/**
 * What the stack (lib/), the functions and local mode agree on, defined once: key prefixes, the voices
 * table's keys and index, the metric namespace and service names, the API's binary media types and the
 * gateway's time limit. Plain values only, so every side can import them without pulling in the others.
 */

/**
 * Uploads below this prefix are cloned (the upload contract, README). A fixed contract, not a setting: the
 * bucket notification, the clone function's read grant and the presigned uploads all depend on it.
 */
export const INCOMING_PREFIX = 'incoming/';

/**
 * Synthesized audio the API stores for `"delivery": "url"` lives below this prefix and expires within days;
 * the api function's grants and the bucket's lifecycle rule depend on it, so it is not a setting either.
 */
export const SPEECH_PREFIX = 'speech/';

/**
 * The synthesis cache: the audio of each provider speech request, at `cache/<voiceId>/<key>.<format>`
 * (functions/api/speech/synthesis-cache.ts). Expired by a lifecycle rule, deleted with its voice; the
 * speech function's grants and the lifecycle rule depend on it.
 */
export const SPEECH_CACHE_PREFIX = 'cache/';

/** Days a cached piece of speech lives unless `speech.cacheDays` (cdk.json) or SPEECH_CACHE_DAYS says otherwise. */
export const DEFAULT_SPEECH_CACHE_DAYS = 30;

/**
 * The voices table: one item per voice record (and audio claims, provider slots), keyed by `voiceId`, with
 * one index that lists voice records newest first. The stack (lib/voicedrop-pipeline.ts) and local mode
 * (local/servers.ts) create it from this; all attributes are strings.
 */
export const VOICES_TABLE = {
  partitionKey: 'voiceId',
  byCreatedAt: {
    indexName: 'byCreatedAt',
    /** Constant on voice records (LIST_PARTITION), absent on claims and slots, which the index never sees. */
    partitionKey: 'listPartition',
    sortKey: 'createdAt',
  },
  /**
   * The voices cloned under one consent, oldest first: sparse, since only voice records that named a
   * consent carry `consentId` (consent items themselves are keyed `cs_…` and carry no `consentId`).
   */
  byConsent: {
    indexName: 'byConsent',
    partitionKey: 'consentId',
    sortKey: 'createdAt',
  },
} as const;

/** One global secondary index of the voices table: string keys, every attribute projected. */
export interface VoicesTableIndex {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/**
 * The voices table's global secondary indexes, in the order the stack adds them. The stack's table
 * (lib/voicedrop-pipeline.ts) and local mode's CreateTable (local/servers.ts) are both built from this list;
 * every index projects all attributes (ProjectionType ALL).
 */
export const VOICES_TABLE_INDEXES: readonly VoicesTableIndex[] = [
  VOICES_TABLE.byCreatedAt,
  VOICES_TABLE.byConsent,
];

/** Every key attribute of the table and its indexes, each once (all strings). */
export function voicesTableKeyAttributes(): readonly string[] {
  return [
    ...new Set([
      VOICES_TABLE.partitionKey,
      ...VOICES_TABLE_INDEXES.flatMap((index) => [index.partitionKey, index.sortKey]),
    ]),
  ];
}

/** The voices table's index of the voices cloned under each consent. */
export const VOICES_BY_CONSENT_INDEX = VOICES_TABLE.byConsent.indexName;

/**
 * Evidence of consent (a recorded or signed statement) is uploaded below this prefix and named by
 * `evidenceKey` in `POST /consents`. Nothing clones from it; it is kept with its consent.
 */
export const CONSENT_EVIDENCE_PREFIX = 'consents/';

/** Days the audio of a rejected, failed or duplicate upload is kept unless `retention.rejectedDays` says otherwise. */
export const DEFAULT_RETENTION_REJECTED_DAYS = 30;

/** Days a ready voice may go unused before the sweep deletes it, unless `retention.unusedDays` says otherwise. */
export const DEFAULT_RETENTION_UNUSED_DAYS = 1_095;

/** BIPA's ceiling: biometric data is destroyed at most three years after the last interaction. */
export const MAX_RETENTION_DAYS = 1_095;

/**
 * Messages per clone invocation unless `cloneQueue.batchSize` says otherwise: the stack's default
 * (lib/config.ts) and local mode's queue.
 */
export const DEFAULT_CLONE_BATCH_SIZE = 5;

/** The voices table's index for listing, newest first. */
export const VOICES_BY_CREATED_AT_INDEX = VOICES_TABLE.byCreatedAt.indexName;

/**
 * The CloudWatch namespace of the handlers' embedded metrics (POWERTOOLS_METRICS_NAMESPACE): the handlers
 * emit, the alarms and the dashboard read.
 */
export const METRICS_NAMESPACE = 'Voicedrop';

/**
 * The handlers' business metrics (README, "Reading failures"), one definition for the functions that emit
 * them (functions/shared/metrics.ts types its names from these) and the alarms and dashboard that read them
 * (lib/voicedrop-monitoring.ts, lib/voicedrop-events.ts).
 */
/** Counts the clone handler emits, dimension `service` = voicedrop-clone. */
export const CLONE_METRICS = [
  'ClonesStarted',
  'ClonesReady',
  'ClonesFailed',
  'UploadsRejected',
  'UploadsDuplicate',
  'ClonesDeferred',
] as const;

/**
 * Counts the speech handler emits, dimension `service` = voicedrop-speech (in the order the dashboard shows
 * them). `SpeechStreamsTruncated`: a stream that ended early after audio had been sent.
 */
export const SPEECH_METRICS = ['SpeechRequests', 'SpeechStreamsTruncated', 'SpeechCharacters'] as const;

/** Voices (and expired upload audio) the retention sweep deleted, and deletions it could not finish. */
export const RETENTION_METRICS = ['RetentionDeletions', 'RetentionFailures'] as const;

/** Webhook deliveries the endpoint took (2xx), failed (retried or refused) and refused (dead-lettered at once). */
export const WEBHOOK_METRICS = ['WebhooksDelivered', 'WebhookDeliveriesFailed', 'WebhooksRefused'] as const;

/** Counts per provider (dimension `Provider`): what speech cost and what the cache saved. */
export const SPEECH_PROVIDER_METRICS = [
  'SpeechProviderCharacters',
  'SpeechCacheHits',
  'SpeechCachedPieces',
] as const;

/**
 * Milliseconds per provider call, dimensions `service`, `Provider` (smallest | typecast) and `Operation`
 * (clone | speech | delete).
 */
export const PROVIDER_LATENCY_METRIC = 'ProviderLatency';

/** POWERTOOLS_SERVICE_NAME of each function, and the `service` dimension of every metric it emits. */
export const SERVICE_NAMES = {
  clone: 'voicedrop-clone',
  api: 'voicedrop-api',
  speech: 'voicedrop-speech',
  retention: 'voicedrop-retention',
  events: 'voicedrop-events',
  webhooks: 'voicedrop-webhooks',
} as const;

/**
 * Response types API Gateway treats as binary: a Lambda answer with `isBase64Encoded: true` reaches the
 * caller as raw bytes when the request's Accept header names one of these. Deliberately no catch-all type,
 * which would turn the JSON answers into base64 too.
 */
export const BINARY_MEDIA_TYPES = ['audio/wav', 'audio/mpeg', 'audio/*'] as const;

/** API Gateway REST APIs end a Lambda integration after 29 s, whatever the function's own timeout. */
export const API_GATEWAY_TIMEOUT_MS = 29_000;

/** One of API Gateway's own error answers, in the API's `{ "error": { code, message, retryable } }` shape. */
export interface GatewayErrorAnswer {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/**
 * The error answers API Gateway gives itself, without the handler, that local mode's gateway gives too: the
 * stack's gateway responses (lib/voicedrop-api.ts) and local/api-gateway/ both read them, so local mode
 * answers what the deployed API answers.
 */
export const GATEWAY_ERRORS = {
  /**
   * An unknown route, or a method the route does not have: REST API Gateway answers both as
   * MISSING_AUTHENTICATION_TOKEN, which the stack turns into this 404 when the API has no authorization
   * (local mode has none either)...
   */
  noRoute: { statusCode: 404, code: 'not_found', message: 'No such route.', retryable: false },
  /** ...and into this 403 when it requires IAM, since API Gateway cannot tell an unsigned call from an unknown route. */
  noRouteOrUnsigned: {
    statusCode: 403,
    code: 'unauthorized',
    message:
      'Sign requests with AWS Signature Version 4 (service execute-api); an unknown route answers this too.',
    retryable: false,
  },
  /** The function failed or answered something that is not a proxy result (API Gateway answers 502). */
  integrationFailed: {
    statusCode: 502,
    code: 'internal_error',
    message: 'The API failed to answer; try again.',
    retryable: true,
  },
  /** The function did not answer within API Gateway's integration timeout. */
  timeout: {
    statusCode: 504,
    code: 'timeout',
    message: `No answer within ${API_GATEWAY_TIMEOUT_MS / 1_000} seconds; retry, or send shorter text.`,
    retryable: true,
  },
  /** A request body over API Gateway's payload limit. */
  requestTooLarge: {
    statusCode: 413,
    code: 'request_too_large',
    message: 'The request is larger than API Gateway accepts (10 MB).',
    retryable: false,
  },
} as const satisfies Record<string, GatewayErrorAnswer>;

/**
 * How long one streamed speech response may run: API Gateway's limit for response streaming (15 minutes),
 * which is also the speech function's timeout and its integration's.
 */
export const SPEECH_STREAM_LIMIT_MS = 15 * 60 * 1_000;

/** One method of the HTTPS API. */
export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The resource path, API Gateway's template (`/voices/{voiceId}`). */
  readonly resource: string;
  /** Its name in the OpenAPI document. */
  readonly operationId: string;
  /**
   * The answer streams (API Gateway response streaming to the speech function); every other method is
   * buffered through the api function.
   */
  readonly streamed?: true;
  /** The JSON body it takes, by the name of its schema (the API Gateway model and the OpenAPI schema). */
  readonly requestBody?: 'SpeechRequest' | 'UploadRequest' | 'ConsentRequest';
  /** The query string it takes, by the name of its schema. */
  readonly query?: 'ListVoicesQuery';
}

/**
 * The HTTPS API's routes (README, "HTTPS API"), in the order the stack adds them: the stack's resources and
 * methods (lib/voicedrop-api.ts), local mode's gateway (local/api-gateway/routes.ts) and the OpenAPI
 * document (scripts/openapi/document.ts) are all made from this list. Every method takes the API's default
 * authorization (IAM unless `api.authorization` is "none").
 */
export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', resource: '/voices', operationId: 'listVoices', query: 'ListVoicesQuery' },
  { method: 'GET', resource: '/voices/{voiceId}', operationId: 'getVoice' },
  { method: 'DELETE', resource: '/voices/{voiceId}', operationId: 'deleteVoice' },
  {
    method: 'POST',
    resource: '/voices/{voiceId}/speech',
    operationId: 'speak',
    streamed: true,
    requestBody: 'SpeechRequest',
  },
  { method: 'POST', resource: '/uploads', operationId: 'createUpload', requestBody: 'UploadRequest' },
  { method: 'POST', resource: '/consents', operationId: 'createConsent', requestBody: 'ConsentRequest' },
  { method: 'GET', resource: '/consents/{consentId}', operationId: 'getConsent' },
  { method: 'DELETE', resource: '/consents/{consentId}', operationId: 'revokeConsent' },
];

/** The path parameters of a resource template, in order (`/voices/{voiceId}` → `voiceId`). */
export function pathParameterNames(resource: string): readonly string[] {
  return [...resource.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] ?? '');
}

/** The routes whose answer streams; the stack and local mode's gateway both follow this. */
export const STREAMED_ROUTES: readonly ApiRoute[] = API_ROUTES.filter((route) => route.streamed);

/**
 * Voice lifecycle events (README, "Events and webhooks"): the bus the stack creates and the source of every
 * event on it. The stack (lib/voicedrop-events.ts), the events function and local mode agree on these.
 */
export const EVENT_BUS_NAME = 'voicedrop';
export const EVENT_SOURCE = 'voicedrop';

/**
 * Every environment variable the functions read, the stack sets and local mode and the scripts read, by
 * name, defined once: the stack (lib/) sets them from these, the readers (functions/**, local/, scripts/)
 * read them by these, and test/infra/environment.test.ts fails a Lambda variable that is not one of these.
 * POWERTOOLS_* (Powertools), AWS_* (the Lambda runtime) and CDK_* (the CDK CLI) belong to those tools and
 * are not listed.
 */
export const ENV = {
  // Resources the stack creates.
  voicesTableName: 'VOICES_TABLE_NAME',
  bucketName: 'BUCKET_NAME',
  providerKeysSecretArn: 'PROVIDER_KEYS_SECRET_ARN',
  /** The event bus's name (its value is EVENT_BUS_NAME above). */
  eventBusName: 'EVENT_BUS_NAME',
  webhookEndpoints: 'WEBHOOK_ENDPOINTS',
  webhookDlqUrl: 'WEBHOOK_DLQ_URL',
  // Providers.
  defaultProvider: 'DEFAULT_PROVIDER',
  providerTimeoutMs: 'PROVIDER_TIMEOUT_MS',
  smallestApiBaseUrl: 'SMALLEST_API_BASE_URL',
  smallestDefaultModel: 'SMALLEST_DEFAULT_MODEL',
  smallestCloneConcurrency: 'SMALLEST_CLONE_CONCURRENCY',
  smallestSpeechConcurrency: 'SMALLEST_SPEECH_CONCURRENCY',
  typecastApiBaseUrl: 'TYPECAST_API_BASE_URL',
  typecastDefaultModel: 'TYPECAST_DEFAULT_MODEL',
  typecastCloneConcurrency: 'TYPECAST_CLONE_CONCURRENCY',
  typecastSpeechConcurrency: 'TYPECAST_SPEECH_CONCURRENCY',
  // Validation (the quality thresholds, by QUALITY_THRESHOLD_NAMES in functions/shared/validation/quality-rules.ts).
  trimDefault: 'TRIM_DEFAULT',
  qualitySilencePeakDbfs: 'QUALITY_SILENCE_PEAK_DBFS',
  qualityMinSpeechLevelDbfs: 'QUALITY_MIN_SPEECH_LEVEL_DBFS',
  qualityMaxClippedRatio: 'QUALITY_MAX_CLIPPED_RATIO',
  // The clone function and the API.
  cloneMaxReceiveCount: 'CLONE_MAX_RECEIVE_COUNT',
  consentRequired: 'CONSENT_REQUIRED',
  speechUrlTtlSeconds: 'SPEECH_URL_TTL_SECONDS',
  uploadUrlTtlSeconds: 'UPLOAD_URL_TTL_SECONDS',
  // Retention.
  retentionUnusedDays: 'RETENTION_UNUSED_DAYS',
  retentionMaxAgeDays: 'RETENTION_MAX_AGE_DAYS',
  retentionRejectedDays: 'RETENTION_REJECTED_DAYS',
  // Local mode only: provider keys (in AWS they are in the provider-keys secret) and the webhooks' signing
  // secret. (The simulators' speech pace is theirs: SIMULATOR_LATENCY_ENV in simulators/latency.ts.)
  smallestApiKey: 'SMALLEST_API_KEY',
  typecastApiKey: 'TYPECAST_API_KEY',
  webhookSecret: 'WEBHOOK_SECRET',
} as const;

/** One of the environment variables' names. */
export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Each provider's own variables (functions/shared/providers/settings.ts and local mode read them by this). */
export const PROVIDER_ENV = {
  smallest: {
    apiKey: ENV.smallestApiKey,
    baseUrl: ENV.smallestApiBaseUrl,
    defaultModel: ENV.smallestDefaultModel,
    cloneConcurrency: ENV.smallestCloneConcurrency,
    speechConcurrency: ENV.smallestSpeechConcurrency,
  },
  typecast: {
    apiKey: ENV.typecastApiKey,
    baseUrl: ENV.typecastApiBaseUrl,
    defaultModel: ENV.typecastDefaultModel,
    cloneConcurrency: ENV.typecastCloneConcurrency,
    speechConcurrency: ENV.typecastSpeechConcurrency,
  },
} as const;
