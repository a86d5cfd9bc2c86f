// A named import from zod's core: `z.core.…` through a namespace would keep all of core (every locale).
import { $ZodError, type $ZodIssue } from 'zod/v4/core';
import { ProviderKeyMissingError, VoicedropError } from '../shared/errors';
import { isProviderError, type ProviderError } from '../shared/providers/errors';
import { VoiceDeletionError } from '../shared/voices/deletion';

/** An error with the HTTP answer it deserves. Its message is shown to the caller, so it must be safe. */
export class ApiError extends VoicedropError {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    options: { retryable?: boolean; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, message, { retryable: options.retryable ?? false, cause: options.cause });
    this.statusCode = statusCode;
    this.headers = options.headers ?? {};
  }
}

export interface ErrorAnswer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { error: { code: string; message: string; retryable: boolean } };
  /** True when the cause is ours (a bug, an outage of AWS): logged as an error. */
  readonly unexpected: boolean;
}

/** The one mapping from anything thrown to the HTTP answer; nothing internal reaches the caller. */
export function toErrorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof ApiError)
    return answer(error.statusCode, error.code, error.message, error.retryable, error.headers);
  if (error instanceof $ZodError) {
    return answer(400, 'invalid_request', describeZodError(error), false);
  }
  if (error instanceof VoiceDeletionError) {
    return answer(error.code === 'voice_not_found' ? 404 : 409, error.code, error.message, error.retryable);
  }
  if (error instanceof ProviderKeyMissingError) {
    return answer(503, 'provider_key_missing', error.message, true);
  }
  if (isProviderError(error)) return providerAnswer(error);
  // The provider's audio parts could not be joined (mixed formats, no frames): its answer was unusable.
  if (error instanceof VoicedropError && error.code === 'audio_join_failed') {
    return answer(
      502,
      'provider_audio_invalid',
      'The provider returned audio that could not be joined; try again.',
      true,
    );
  }
  return { ...answer(500, 'internal_error', 'Internal error; it has been logged.', true), unexpected: true };
}

function providerAnswer(error: ProviderError): ErrorAnswer {
  switch (error.kind) {
    case 'rate_limited': {
      const seconds = Math.max(1, Math.ceil((error.retryAfterMs ?? 1_000) / 1_000));
      return answer(429, 'provider_rate_limited', error.message, true, { 'Retry-After': String(seconds) });
    }
    case 'auth':
      return answer(503, 'provider_key_rejected', error.message, true);
    case 'invalid_request':
      return answer(422, 'provider_rejected_input', error.message, false);
    case 'aborted':
    case 'timeout':
      return answer(502, 'provider_timeout', error.message, true);
    default:
      return answer(502, error.code, error.message, error.retryable);
  }
}

function answer(
  statusCode: number,
  code: string,
  message: string,
  retryable: boolean,
  headers: Readonly<Record<string, string>> = {},
): ErrorAnswer {
  return { statusCode, headers, body: { error: { code, message, retryable } }, unexpected: false };
}

// Unknown keys are the caller's own text: name a few, shortened, so an answer never echoes a body back.
const NAMED_UNKNOWN_KEYS = 3;
const UNKNOWN_KEY_CHARACTERS = 40;

/** "text: must not be empty; format: expected one of wav, mp3" — field paths, never values. */
export function describeZodError(error: $ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issueMessage(issue)}`)
    .join('; ');
}

function issueMessage(issue: $ZodIssue): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const named = issue.keys.slice(0, NAMED_UNKNOWN_KEYS).map((key) => {
    const characters = [...key];
    const shown = characters.length > UNKNOWN_KEY_CHARACTERS;
    return JSON.stringify(shown ? `${characters.slice(0, UNKNOWN_KEY_CHARACTERS).join('')}…` : key);
  });
  const more = issue.keys.length - named.length;
  const fields = issue.keys.length === 1 ? 'field' : 'fields';
  return `unknown ${fields} ${named.join(', ')}${more > 0 ? ` and ${more.toLocaleString('en-US')} more` : ''}`;
}
