import type { KeptSpan } from '../audio/trim';
import type { QualityReport } from './sound';

/** Stable validation codes, shown to users and used by the CLI, the records and the API. */
export const VALIDATION_CODES = [
  'empty_file',
  'unreadable_audio',
  'unsupported_format',
  'file_too_large',
  'audio_too_short',
  'audio_too_long',
  'invalid_name',
  'invalid_option',
  'unknown_provider',
  'silent_audio',
  'too_quiet',
  'clipped_audio',
  'too_little_speech',
] as const;
export type ValidationCode = (typeof VALIDATION_CODES)[number];

export interface ValidationIssue {
  readonly code: ValidationCode;
  /** A sentence a person can act on, e.g. "Audio is 3.2 s long; Smallest needs 5–15 s." */
  readonly message: string;
}

/** The verdict for one upload or file, in the shape the CLI prints with --json. */
export interface ValidationReport {
  readonly ok: boolean;
  readonly provider: string;
  /** Detected container (`null` when nothing was read or it is unknown). */
  readonly format: string | null;
  readonly durationSec: number | null;
  /** Present when only an oversize file's header was read: the header's figure, or an estimate. */
  readonly durationFrom?: 'header' | 'estimate';
  readonly sampleRate: number | null;
  readonly channels: number | null;
  readonly sizeBytes: number;
  /** The speech-quality figures of what would be sent; `null` when the sound was not judged. */
  readonly quality: QualityReport | null;
  /** With trim: the span of the original that would be sent (seconds). */
  readonly trimmed?: KeptSpan;
  /** With trim: why the sample was not cut. */
  readonly trimSkipped?: string;
  readonly errors: readonly ValidationIssue[];
}
