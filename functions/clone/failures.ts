/** The voice errors an upload session records for what went wrong at the provider or in the record. */
import type { VoicedropError } from '../shared/errors';
import type { ProviderError } from '../shared/providers/errors';
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
