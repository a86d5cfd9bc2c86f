/**
 * What the clone pipeline asks a provider about clones it already made: finding one by the record it
 * belongs to, waiting for one the provider is still processing, and removing leftovers. The decisions
 * (ready, failed, wait in the queue) stay with the upload session; these only talk to the provider.
 */
import { describeError, type Log } from '../shared/logger';
import type { ClonedVoice, CloneHint, ProviderName, VoiceProvider } from '../shared/providers/types';
import { type Backoff, backoffDelayMs, sleep } from '../shared/retry';
import type { VoiceRecord } from '../shared/voices/record';
import type { VoiceRepository } from '../shared/voices/repository';

/** A clone that exists but cannot speak yet: its client read the provider's answer as `processing`. */
export function isUnfinished(voice: ClonedVoice): boolean {
  return voice.state === 'processing';
}

/** The waits between looks at a clone still processing: 1 s doubling up to 5 s, with jitter. */
export const CLONE_POLL_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 5_000, jitter: 'equal' };

/** What the provider is asked to recognise a record's clone by (see VoiceProvider.findClone). */
export async function cloneHintFor(
  record: VoiceRecord,
  providerName: ProviderName,
  provider: VoiceProvider,
  voices: VoiceRepository,
): Promise<CloneHint> {
  const displayName = record.displayName ?? '';
  return {
    voiceRecordId: record.voiceId,
    displayName,
    model: record.model ?? provider.limits.models.default,
    startedAt: new Date(record.processing?.cloneStartedAt ?? record.createdAt),
    // Matched by name: another voice of ours with the same name is not this clone. (Matched by the record
    // id in the tags, nothing needs ruling out.)
    knownProviderVoiceIds:
      provider.limits.cloneLookup === 'name-and-time'
        ? await voices.knownProviderVoiceIds(providerName, displayName)
        : undefined,
    providerVoiceId: record.processing?.processingProviderVoiceId ?? undefined,
  };
}

export type Completion =
  | { readonly outcome: 'settled'; readonly voice: ClonedVoice }
  | { readonly outcome: 'still_processing' }
  | { readonly outcome: 'vanished' };

/**
 * Looks the clone up again, at growing intervals (CLONE_POLL_BACKOFF), until its client no longer reads it
 * as processing, while `timeLeftMs()` leaves room for another look.
 */
export async function waitForCompletion(
  provider: VoiceProvider,
  voice: ClonedVoice,
  hint: () => Promise<CloneHint>,
  timeLeftMs: () => number,
): Promise<Completion> {
  let current = voice;
  for (let look = 1; isUnfinished(current); look += 1) {
    const pollMs = backoffDelayMs(look, CLONE_POLL_BACKOFF);
    if (timeLeftMs() < pollMs + 1_000) return { outcome: 'still_processing' };
    await sleep(pollMs);
    const remaining = Math.max(1_000, timeLeftMs());
    const lookup = await provider.findClone(
      { ...(await hint()), providerVoiceId: voice.providerVoiceId },
      {
        signal: AbortSignal.timeout(remaining),
        deadline: Date.now() + remaining,
      },
    );
    if (lookup.outcome !== 'found' || lookup.voice.providerVoiceId !== voice.providerVoiceId) {
      return { outcome: 'vanished' };
    }
    current = { ...voice, state: lookup.voice.state };
  }
  return { outcome: 'settled', voice: current };
}

/**
 * Smallest tags every clone with the record id: if an earlier request whose answer was lost created a
 * clone after all (later than the grace period allowed for), it is found here and deleted, so the
 * provider never keeps two paid clones for one voice. Best effort: a failure is logged.
 */
export async function removeStrayClone(
  provider: VoiceProvider,
  record: VoiceRecord,
  keep: string,
  logger: Log,
): Promise<void> {
  try {
    const lookup = await provider.findClone(
      {
        voiceRecordId: record.voiceId,
        displayName: record.displayName ?? '',
        model: record.model ?? provider.limits.models.default,
        startedAt: new Date(record.createdAt),
        knownProviderVoiceIds: [keep],
      },
      { signal: AbortSignal.timeout(10_000) },
    );
    if (lookup.outcome !== 'found') return;
    const result = await provider.deleteVoice(lookup.voice.providerVoiceId, {
      signal: AbortSignal.timeout(10_000),
    });
    // A provider that refuses deletion with an API key leaves it there: say so, not that it is gone.
    logger.warn(
      result.deleted
        ? 'deleted a stray clone from an earlier lost request'
        : 'found a stray clone from an earlier lost request; the provider would not delete it',
      { voiceId: record.voiceId, providerVoiceId: lookup.voice.providerVoiceId, detail: result.detail },
    );
  } catch (error) {
    logger.warn('could not check for stray clones', { voiceId: record.voiceId, error: describeError(error) });
  }
}

/** Deletes a clone that is of no use (it ended `failed`: it may still hold a clone slot). Best effort. */
export async function deleteUselessClone(
  provider: VoiceProvider,
  voice: ClonedVoice,
  voiceId: string,
  logger: Log,
): Promise<void> {
  try {
    await provider.deleteVoice(voice.providerVoiceId, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    logger.warn('could not delete a failed clone', { voiceId, error: describeError(error) });
  }
}
