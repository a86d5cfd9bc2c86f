import { AwsV4Signer } from 'aws4fetch';
import { ConfigurationError } from '../errors';
import type { AwsSettings } from './config';
import {
  type AwsErrorDetails,
  AwsNetworkError,
  AwsServiceError,
  errorCodeForStatus,
  jsonErrorDetails,
  xmlErrorDetails,
} from './errors';

/**
 * Replayable bodies (strings and bytes) are retried; a stream can be sent once only, so a request with
 * a stream body makes a single attempt. A stream must come with an `x-amz-content-sha256` header
 * (for S3, the signer adds `UNSIGNED-PAYLOAD` itself).
 */
export type AwsRequestBody = string | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>;

/** What every client call accepts besides its input. */
export interface AwsCallOptions {
  /** Ends the call, retries and backoff included (pass the Lambda's deadline); an abort is never retried. */
  readonly signal?: AbortSignal | undefined;
  /** How long each attempt waits for the response headers; see `AwsRequest.timeoutMs`. */
  readonly timeoutMs?: number | undefined;
}

export interface AwsRequest {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: AwsRequestBody;
  /** Ends the whole call, retries and backoff included; an abort is never retried. */
  readonly signal?: AbortSignal | undefined;
  /**
   * How long each attempt waits for the response headers (and an error response's body). An attempt
   * that runs out counts as a network failure and is retried; the caller's `signal` bounds the total.
   * @default no limit beyond `signal`
   */
  readonly timeoutMs?: number | undefined;
  /** How error responses are read: JSON protocols (DynamoDB, SQS, Secrets Manager) or REST-XML (S3). @default 'json' */
  readonly errorFormat?: 'json' | 'xml';
  /** Which statuses are answers rather than errors (S3's 304 for a conditional GET, say). @default 2xx */
  readonly acceptStatus?: (status: number) => boolean;
}

/**
 * Error codes that mean "too fast, try again later" or "took too long, try again": retried like 5xx
 * whatever their status. The names are the services' documented error codes.
 */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Derived signing keys, one per secret key, day, region and service; a handful at most per process. */
const signingKeys = new Map<string, ArrayBuffer>();

/**
 * Signs `request` with SigV4 for `service` (the signing name: `dynamodb`, `s3`, `sqs`,
 * `secretsmanager`) in the settings' region, sends it with fetch and retries transient failures the way
 * the AWS SDK's standard mode does: up to 3 attempts with capped exponential backoff and full jitter,
 * after network failures, 429, 5xx and throttling error codes. Each attempt is signed afresh (the
 * signature covers the time). Resolves with the response for accepted statuses (its body unread);
 * otherwise throws `AwsServiceError`, `AwsNetworkError`, or the signal's reason when aborted.
 */
export async function awsRequest(
  settings: AwsSettings,
  service: string,
  request: AwsRequest,
): Promise<Response> {
  const credentials = settings.credentials;
  if (!credentials) {
    throw new ConfigurationError(`No AWS credentials to sign the ${service} request with.`);
  }
  const replayable = !(request.body instanceof ReadableStream);
  const maxAttempts = replayable ? Math.max(1, settings.retry?.maxAttempts ?? 3) : 1;
  const baseDelayMs = settings.retry?.baseDelayMs ?? 100;
  const maxDelayMs = settings.retry?.maxDelayMs ?? 20_000;
  const accept = request.acceptStatus ?? ((status: number) => status >= 200 && status < 300);
  const signal = request.signal;

  for (let attempt = 1; ; attempt += 1) {
    signal?.throwIfAborted();
    if (signingKeys.size > 32) signingKeys.clear();
    const signed = await new AwsV4Signer({
      method: request.method,
      url: request.url.toString(),
      ...(request.headers ? { headers: request.headers } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      service,
      region: settings.region,
      cache: signingKeys,
    }).sign();

    const attemptAbort = new AbortController();
    const timer =
      request.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              attemptAbort.abort(
                new DOMException(`No response within ${request.timeoutMs} ms`, 'TimeoutError'),
              ),
            request.timeoutMs,
          );
    const attemptSignal = signal ? AbortSignal.any([signal, attemptAbort.signal]) : attemptAbort.signal;

    let failure: AwsServiceError | AwsNetworkError;
    try {
      const response = await fetch(signed.url, {
        method: signed.method,
        headers: signed.headers,
        body: request.body ?? null,
        signal: attemptSignal,
        // A redirect to another host would arrive signed for this one: surface it as an error instead.
        redirect: 'manual',
        ...(replayable ? {} : { duplex: 'half' }),
      } as RequestInit);
      if (accept(response.status)) {
        clearTimeout(timer);
        return response;
      }
      const body = await response.text();
      failure = serviceError(service, response, body, request.errorFormat ?? 'json');
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      failure = new AwsNetworkError(
        service,
        attemptAbort.signal.aborted ? attemptAbort.signal.reason : error,
      );
    } finally {
      clearTimeout(timer);
    }

    if (!failure.retryable || attempt >= maxAttempts) throw failure;
    const delayMs = Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    await sleep(delayMs, signal);
  }
}

function serviceError(
  service: string,
  response: Response,
  body: string,
  format: 'json' | 'xml',
): AwsServiceError {
  const details: AwsErrorDetails =
    format === 'xml' ? xmlErrorDetails(body, response.headers) : jsonErrorDetails(body, response.headers);
  const code = details.code || errorCodeForStatus(response.status);
  return new AwsServiceError({
    code,
    message: details.message ?? `${service} answered ${response.status} ${code}`,
    service,
    statusCode: response.status,
    requestId:
      details.requestId ??
      response.headers.get('x-amzn-requestid') ??
      response.headers.get('x-amz-request-id') ??
      undefined,
    retryable: RETRYABLE_STATUSES.has(response.status) || RETRYABLE_ERROR_CODES.has(code),
  });
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
