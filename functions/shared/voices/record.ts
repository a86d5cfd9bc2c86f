import { createHash } from 'node:crypto';
import type { KeptSpan } from '../audio/trim';
import { isProviderName, type ProviderName, type VoiceSample } from '../providers/types';
import type { QualityReport } from '../validation/sound';
import type { VoiceStatus } from './status';

export interface VoiceSource {
  readonly bucket: string;
  /** Decoded object key. */
  readonly key: string;
  readonly versionId?: string;
  readonly etag?: string;
  readonly sha256?: string;
  readonly bytes: number;
  readonly format?: string;
  readonly durationSec?: number;
  readonly sampleRate?: number;
  readonly channels?: number;
  /** The speech-quality figures of what was (or would have been) sent to the provider. */
  readonly quality?: QualityReport;
  /** With trim: the span of the upload that was sent (seconds); the object itself stays whole. */
  readonly trimmed?: KeptSpan;
}

export const DELETION_REASONS = ['requested', 'expired', 'consent_revoked'] as const;
export type DeletionReason = (typeof DELETION_REASONS)[number];

/** The receipt a deleted voice keeps: why, by whom, when, and what went. */
export interface VoiceDeletion {
  readonly reason?: DeletionReason;
  /** The caller's IAM principal for API calls; `retention` for the sweep, `consent` for a revocation. */
  readonly by?: string;
  readonly at?: string;
  readonly provider?: 'deleted' | 'not_deleted' | 'not_applicable';
  readonly detail?: string;
  /** Versions of the source object deleted (the object itself when the store keeps no versions). */
  readonly sourceVersionsDeleted?: number;
  /** Cached pieces of speech (cache/<voiceId>/) deleted with the voice. */
  readonly cachedObjectsDeleted?: number;
}

export interface VoiceError {
  /** The first problem's code (a rejected upload's every problem is in `issues`). */
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  /** A rejected upload's problems, each with its code and sentence, in the order validation found them. */
  readonly issues?: readonly { readonly code: string; readonly message: string }[];
}

/**
 * Bookkeeping that makes retries safe; not part of the public voice JSON.
 * `leaseToken`/`leaseUntil`: who is working on the record and until when (epoch ms).
 * `cloneStartedAt`/`cloneOutcomeUnknown`: a clone request went out and its answer may have been lost,
 * so the next attempt must look for the clone at the provider before cloning again.
 */
export interface VoiceProcessing {
  readonly leaseToken?: string;
  readonly leaseUntil?: number;
  /**
   * Deliveries that took the lease so far, counted by acquireLease: the clone function's final `voice
   * status` log line reports it, so an operator sees which uploads needed redeliveries.
   */
  readonly attempts?: number;
  readonly cloneStartedAt?: string;
  readonly cloneOutcomeUnknown?: boolean;
  /** No answer came at all (timeout, dropped connection, crash): the provider may still be working on it. */
  readonly cloneAnswerLost?: boolean;
  /** A clone the provider was still processing when a delivery ended: the next one looks for it by id. */
  readonly processingProviderVoiceId?: string | null;
  /** The byte-identical-audio claim this voice owns (released when it fails). */
  readonly claimKey?: string;
}

/** Counted atomically by every speech request that reached synthesis. */
export interface VoiceUsage {
  readonly requests: number;
  /** Characters (code points) of the requests' text. */
  readonly characters: number;
  /** Characters sent to the provider: what was not in the synthesis cache. */
  readonly providerCharacters: number;
  /** Requests answered entirely from the synthesis cache (`X-Cache: hit`). */
  readonly cacheHits: number;
  readonly lastUsedAt: string;
}

export interface VoiceRecord {
  readonly voiceId: string;
  readonly status: VoiceStatus;
  /**
   * The provider the upload named: one of PROVIDER_NAMES for every voice that can reach a provider; a
   * rejected `unknown_provider` upload keeps what its key said (the voice JSON and every event carry
   * `provider`, so that record says `"provider": "elevenlabs"` rather than nothing). Code that calls a
   * provider, counts per provider or keys by provider takes a ProviderName: read it through
   * `knownProviderOf`, the one place a record's provider is narrowed.
   */
  readonly provider: string;
  readonly providerVoiceId?: string;
  readonly displayName?: string;
  readonly language?: string;
  readonly model?: string;
  readonly accent?: string;
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly source: VoiceSource;
  readonly samples?: readonly VoiceSample[];
  readonly error?: VoiceError;
  /** The consent the upload named (`consent-id` metadata); indexed by `byConsent`. */
  readonly consentId?: string;
  /** Set when status is `duplicate`: the voice this upload duplicates. */
  readonly duplicateOf?: string;
  /** Set on deletion: whether the provider's clone is gone too, and why not when it is not. */
  readonly deletion?: VoiceDeletion;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly deletedAt?: string;
  readonly processing?: VoiceProcessing;
  /** What speech with this voice has used (README, "Speak"); absent until it first speaks. */
  readonly usage?: VoiceUsage;
  /** Constant partition of the `byCreatedAt` index (lists voices newest first without a scan). */
  readonly listPartition?: string;
}

export const LIST_PARTITION = 'voice';

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * `vc_` + 26 lowercase base32 characters (130 bits of SHA-256), derived from bucket, key and version
 * (or ETag when the bucket is not versioned), so every delivery of one event maps to the same record.
 */
export function deriveVoiceId(bucket: string, key: string, version: string): string {
  return hashedId('vc_', [bucket, key, version]);
}

/**
 * `prefix` + 26 lowercase base32 characters (130 bits) of SHA-256 over `parts` joined by newlines: the
 * voice ids above and the lifecycle events' ids (functions/events/voice-events.ts).
 */
export function hashedId(prefix: string, parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\n')).digest();
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && output.length < 26) {
      output += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (output.length === 26) break;
  }
  return `${prefix}${output}`;
}

export const VOICE_ID_PATTERN = /^vc_[a-z2-7]{26}$/;

/** The record's provider when it is one voicedrop serves (always so for a voice that reached a provider). */
export function knownProviderOf(record: Pick<VoiceRecord, 'provider'>): ProviderName | undefined {
  return isProviderName(record.provider) ? record.provider : undefined;
}
