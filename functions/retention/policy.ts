/**
 * What the retention schedule says about one voice record at a given time: nothing, or a deletion with
 * its reason. Pure, so the sweep (sweep.ts) and its tests share one reading of the settings.
 */
import type { ConsentProblem } from '../shared/consents/record';
import type { DeletionReason, VoiceRecord } from '../shared/voices/record';
import { WITHOUT_OWN_CLONE_STATUSES } from '../shared/voices/status';

export interface RetentionSettings {
  /** A ready voice not spoken with for this many days is deleted ("used": usage.lastUsedAt, else its creation). */
  readonly unusedDays?: number;
  /** A ready voice older than this many days is deleted, used or not (at most 1,095). */
  readonly maxAgeDays?: number;
  /** The audio of rejected, failed and duplicate uploads is deleted this many days after they ended. */
  readonly rejectedDays: number;
}

export interface RetentionDecision {
  readonly reason: DeletionReason;
  /** Why, in words, for the report. */
  readonly because: string;
  /** The sweep deletes only while the voice's usage.lastUsedAt is still this (an unused-voice expiry). */
  readonly lastUsedAt?: string | null;
}

const DAY_MS = 86_400_000;
/** A deletion that stopped half-way is taken up again once it has sat this long (not one still running). */
export const STALLED_DELETION_MS = 60 * 60_000;

export function retentionDecision(
  record: VoiceRecord,
  settings: RetentionSettings,
  asOf: Date,
  consent: ConsentProblem | undefined,
): RetentionDecision | undefined {
  const now = asOf.getTime();
  const daysSince = (iso: string | undefined) => (now - Date.parse(iso ?? record.createdAt)) / DAY_MS;
  if (record.status === 'deleting') {
    if (now - Date.parse(record.updatedAt) < STALLED_DELETION_MS) return undefined;
    return { reason: record.deletion?.reason ?? 'expired', because: 'a deletion that stopped half-way' };
  }
  if (WITHOUT_OWN_CLONE_STATUSES.has(record.status)) {
    const days = daysSince(record.updatedAt);
    if (days < settings.rejectedDays) return undefined;
    return {
      reason: 'expired',
      because: `${record.status} ${Math.floor(days)} days ago (rejectedDays ${settings.rejectedDays})`,
    };
  }
  if (record.status !== 'ready') return undefined;
  if (consent === 'revoked' || consent === 'unknown') {
    return {
      reason: 'consent_revoked',
      because: `its consent ${record.consentId} is ${consent === 'revoked' ? 'revoked' : 'gone'}`,
    };
  }
  if (consent === 'expired') return { reason: 'expired', because: `its consent ${record.consentId} expired` };
  const age = daysSince(record.createdAt);
  if (settings.maxAgeDays !== undefined && age >= settings.maxAgeDays) {
    return {
      reason: 'expired',
      because: `created ${Math.floor(age)} days ago (maxAgeDays ${settings.maxAgeDays})`,
    };
  }
  const lastUsedAt = record.usage?.lastUsedAt;
  const unused = daysSince(lastUsedAt);
  if (settings.unusedDays !== undefined && unused >= settings.unusedDays) {
    return {
      reason: 'expired',
      because: `${lastUsedAt ? 'last used' : 'created and never used'} ${Math.floor(unused)} days ago (unusedDays ${settings.unusedDays})`,
      lastUsedAt: lastUsedAt ?? null,
    };
  }
  return undefined;
}
