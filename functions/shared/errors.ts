import type { ProviderName } from './providers/types';

/**
 * The one error hierarchy of voicedrop. Every error that crosses a module boundary is a VoicedropError:
 * it carries a stable `code` (shown to users and stored on voice records), whether trying again later can
 * succeed (`retryable`), and the original `cause`. Messages are safe to show to users; details that are
 * not (response bodies, stack traces) stay on the error for logs only.
 */
export class VoicedropError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** A required setting is missing or malformed. Thrown at cold start so the function fails loudly. */
export class ConfigurationError extends VoicedropError {
  constructor(message: string) {
    super('configuration_error', message);
  }
}

/** The provider's API key is not in the secret (or the environment, in local mode). */
export class ProviderKeyMissingError extends VoicedropError {
  readonly provider: ProviderName;

  constructor(provider: ProviderName, where: string) {
    super(
      'provider_key_missing',
      `No API key for ${provider}: put it into ${where} (see README, "Put the provider keys into the secret"), then redrive or re-upload.`,
      { retryable: true },
    );
    this.provider = provider;
  }
}

/** What went wrong, as one line of text: an Error's message, anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
