import { VoicedropError } from '../errors';
import type { ProviderName } from './types';

/**
 * Why a provider call failed, independent of the vendor. The clone pipeline maps these to record
 * reasons and the API to HTTP statuses, each in one place.
 */
export const PROVIDER_ERROR_KINDS = [
  'auth', // 401: key missing or rejected
  'forbidden', // 403: plan does not allow it
  'rate_limited', // 429: concurrency or rate limit
  'quota_exceeded', // clone slots full, out of credits
  'invalid_request', // 400/422 the provider will reject again (bad language, text, …)
  'bad_sample', // the provider could not clone from this audio (voice_clone_error, unreadable audio)
  'not_found', // 404 unknown voice
  'gone', // 410 retired route or model
  'incompatible_voice', // e.g. a lightning-large-only clone answering an empty WAV
  'unavailable', // 5xx, including voice_clone_timeout
  'timeout', // our deadline passed (PROVIDER_TIMEOUT_MS); the provider may still finish
  'network', // connection refused/reset, DNS
  'aborted', // the caller's signal aborted; never retried
  'invalid_response', // 2xx with a body that does not match the contract
] as const;
export type ProviderErrorKind = (typeof PROVIDER_ERROR_KINDS)[number];

const RETRYABLE_KINDS: ReadonlySet<ProviderErrorKind> = new Set([
  'rate_limited',
  'unavailable',
  'timeout',
  'network',
]);

export interface ProviderErrorDetails {
  readonly provider: ProviderName;
  readonly kind: ProviderErrorKind;
  /** Safe, actionable message (may quote the provider's own message). */
  readonly message: string;
  readonly statusCode?: number;
  /** The provider's machine code when it sends one (`voice_clone_timeout`, `MODEL_DEPRECATED`, …). */
  readonly providerCode?: string;
  /** First bytes of the response body, for logs only. */
  readonly responseBody?: string;
  /** From `Retry-After`, in milliseconds. */
  readonly retryAfterMs?: number;
  readonly requestId?: string;
  /** Overrides the default retryability of `kind`. */
  readonly retryable?: boolean;
  readonly cause?: unknown;
}

export class ProviderError extends VoicedropError {
  readonly provider: ProviderName;
  readonly kind: ProviderErrorKind;
  readonly statusCode?: number;
  readonly providerCode?: string;
  readonly responseBody?: string;
  readonly retryAfterMs?: number;
  readonly requestId?: string;

  constructor(details: ProviderErrorDetails) {
    super(`provider_${details.kind}`, details.message, {
      retryable: details.retryable ?? RETRYABLE_KINDS.has(details.kind),
      cause: details.cause,
    });
    this.provider = details.provider;
    this.kind = details.kind;
    this.statusCode = details.statusCode;
    this.providerCode = details.providerCode;
    this.responseBody = details.responseBody;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }

  /**
   * True when the provider may have acted on the request even though we saw no answer (our deadline,
   * a dropped connection, a 5xx after the body was sent). A clone retry must reconcile first.
   */
  get outcomeUnknown(): boolean {
    return this.kind === 'timeout' || this.kind === 'network' || this.kind === 'unavailable';
  }
}

export function isProviderError(error: unknown): error is ProviderError {
  return error instanceof ProviderError;
}

/**
 * A 404 or 410 from a provider route: the route is gone (or, on some routes, the voice is unknown). The
 * clients then try the provider's other route, which tells the two apart.
 */
export function isMissingRoute(error: unknown): boolean {
  return error instanceof ProviderError && (error.statusCode === 404 || error.statusCode === 410);
}
