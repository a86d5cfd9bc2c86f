/**
 * The voice errors an upload session records for what was wrong with the upload, or went wrong at the
 * provider or in the record.
 */
import type { VoicedropError } from '../shared/errors';
import type { ProviderError } from '../shared/providers/errors';
import type { ValidationIssue } from '../shared/validation/types';
import type { VoiceError } from '../shared/voices/record';

/** A missing or rejected key is fixed by an operator, not by the uploader: keep the upload for a retry. */
export function isOperatorFixable(error: ProviderError): boolean {
  return error.kind === 'auth';
}

export function providerFailure(error: ProviderError): VoiceError {
  return { code: error.code, message: safeMessage(error), retryable: false };
}

export function unknownProviderFailure(provider: string): VoiceError {
  const message = `The voice record names provider "${provider}", which voicedrop does not serve; re-upload.`;
  return { code: 'needs_review', message, retryable: false };
}

export function safeMessage(error: VoicedropError): string {
  return error.message.slice(0, 1_000);
}

export const UNREADABLE_KEY_FAILURE: VoiceError = {
  code: 'unsupported_key',
  message:
    'The object key has a "." or ".." path segment, which voicedrop cannot read; rename the file and upload it again.',
  retryable: false,
};

export const SOURCE_MISSING_FAILURE: VoiceError = {
  code: 'source_missing',
  message: 'The uploaded object was deleted before it could be processed; upload it again.',
  retryable: false,
};

/** A rejection for every problem validation found (the first one's code; no problem: an unknown provider). */
export function validationFailure(errors: readonly ValidationIssue[]): VoiceError {
  const [first] = errors;
  return {
    code: first?.code ?? 'unknown_provider',
    message: errors.map((issue) => issue.message).join(' ') || 'The upload was rejected.',
    retryable: false,
    issues: errors.map(({ code, message }) => ({ code, message })),
  };
}
