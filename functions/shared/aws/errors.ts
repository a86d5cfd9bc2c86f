/**
 * Errors of the thin AWS clients. A failed AWS call throws one of two kinds:
 * - `AwsServiceError`: the service answered with an error. Its `name` is the AWS error code
 *   (`ConditionalCheckFailedException`, `ResourceNotFoundException`, `NoSuchKey`, `NotFound`, …), the
 *   same `name` the AWS SDK v3 gives its exceptions, so `error.name === '…'` checks carry over.
 * - `AwsNetworkError`: no answer (connection refused or reset, DNS, an attempt timing out).
 * An aborted caller signal is not wrapped: its `reason` is rethrown as fetch does.
 */
export class AwsError extends Error {
  /** The signing name of the service, e.g. `dynamodb`, `s3`, `sqs`, `secretsmanager`. */
  readonly service: string;
  /** Whether trying the same request again later can succeed. */
  readonly retryable: boolean;

  constructor(message: string, options: { service: string; retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.service = options.service;
    this.retryable = options.retryable;
  }
}

export class AwsServiceError extends AwsError {
  readonly statusCode: number;
  readonly requestId: string | undefined;
  /** The error code, also in `name`; kept under this name for logs and structured output. */
  readonly code: string;

  constructor(options: {
    code: string;
    message: string;
    service: string;
    statusCode: number;
    requestId?: string | undefined;
    retryable: boolean;
  }) {
    super(options.message || options.code, { service: options.service, retryable: options.retryable });
    this.name = options.code;
    this.code = options.code;
    this.statusCode = options.statusCode;
    this.requestId = options.requestId;
  }
}

export class AwsNetworkError extends AwsError {
  constructor(service: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`No response from ${service}: ${reason}`, { service, retryable: true, cause });
  }
}

/** Whether `error` is an AWS service error with the given code (or any of the given codes). */
export function isAwsError(error: unknown, ...codes: readonly string[]): error is AwsServiceError {
  return error instanceof AwsServiceError && (codes.length === 0 || codes.includes(error.code));
}

/** What an error response says, read by a protocol-specific parser. */
export interface AwsErrorDetails {
  readonly code?: string | undefined;
  readonly message?: string | undefined;
  readonly requestId?: string | undefined;
}

/**
 * JSON protocols (DynamoDB, SQS, Secrets Manager): the code is in `__type` (or `code`), possibly behind
 * a namespace (`com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`) or followed by a
 * `:`-separated URI; the `x-amzn-errortype` header carries the same when the body does not. Survives
 * empty and non-JSON bodies.
 */
export function jsonErrorDetails(body: string, headers: Headers): AwsErrorDetails {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(body);
    if (value && typeof value === 'object' && !Array.isArray(value))
      parsed = value as Record<string, unknown>;
  } catch {
    // Proxies and load balancers answer with HTML or nothing; the status code still tells the story.
  }
  const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  // The order the SDK reads them in for JSON-RPC services.
  const code =
    text(parsed.__type) ?? text(parsed.code) ?? text(parsed.Code) ?? text(headers.get('x-amzn-errortype'));
  return {
    code: code === undefined ? undefined : sanitizeErrorCode(code),
    message: text(parsed.message) ?? text(parsed.Message) ?? text(parsed.errorMessage),
    requestId: headers.get('x-amzn-requestid') ?? undefined,
  };
}

/**
 * REST-XML (S3): `<Error><Code>…</Code><Message>…</Message><RequestId>…</RequestId></Error>`. HEAD
 * responses have no body; the status code then names the error (see `errorCodeForStatus`).
 */
export function xmlErrorDetails(body: string, headers: Headers): AwsErrorDetails {
  const element = (name: string) => {
    const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(body);
    return match?.[1] ? decodeXmlText(match[1]) : undefined;
  };
  return {
    code: element('Code'),
    message: element('Message'),
    requestId: headers.get('x-amz-request-id') ?? element('RequestId'),
  };
}

/** The code the SDK reports when a response names none (HEAD requests, proxies). */
export function errorCodeForStatus(statusCode: number): string {
  return STATUS_CODES[statusCode] ?? `Http${statusCode}`;
}

const STATUS_CODES: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  412: 'PreconditionFailed',
  413: 'PayloadTooLarge',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function sanitizeErrorCode(raw: string): string {
  let code = raw;
  const comma = code.indexOf(',');
  if (comma >= 0) code = code.slice(0, comma);
  const colon = code.indexOf(':');
  if (colon >= 0) code = code.slice(0, colon);
  const hash = code.lastIndexOf('#');
  if (hash >= 0) code = code.slice(hash + 1);
  return code.trim();
}

function decodeXmlText(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, entity: string) => XML_ENTITIES[entity] ?? '');
}

const XML_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
