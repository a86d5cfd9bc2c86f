import { VoicedropError } from '../errors';

/**
 * Reading the bytes failed (file system or S3), as opposed to the bytes being bad. Kept apart from
 * validation verdicts so that a network hiccup is retried instead of rejecting a good upload.
 */
export class AudioSourceError extends VoicedropError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super('audio_source_error', message, { retryable: options.retryable ?? true, cause: options.cause });
  }
}
