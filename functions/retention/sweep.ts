/**
 * The retention sweep: reads every voice record through the list index (newest first, never a table scan),
 * decides each by the retention schedule (policy.ts) and deletes what is due through the one deletion
 * routine (reason `expired` or `consent_revoked`, by `retention`). Idempotent (a deleted voice is not listed
 * again, a half-done deletion carries on), bounded (at most `maxDeletions` per run and never past
 * `deadline`; the next run takes up the rest) and safe against use: an unused voice is deleted only while
 * its `usage.lastUsedAt` is still what was listed (a conditional write), so a voice spoken with meanwhile
 * stays.
 */

import { type ConsentProblem, consentProblem } from '../shared/consents/record';
import { ConsentRepository } from '../shared/consents/repository';
import { describeError } from '../shared/logger';
import { type DeleteDependencies, deleteVoice, VoiceDeletionError } from '../shared/voices/deletion';
import type { DeletionReason, VoiceRecord } from '../shared/voices/record';
import { type RetentionSettings, retentionDecision } from './policy';

export interface SweepOptions {
  /** The sweep's clock: `npm run retention -- --as-of` moves it. */
  readonly asOf: Date;
  /** Only report what would be deleted. */
  readonly dryRun?: boolean;
  /** Deletions per run at most (default 100). */
  readonly maxDeletions?: number;
  /** Epoch ms after which no new deletion starts (a Lambda's own end). */
  readonly deadline?: number;
}

export interface SweepEntry {
  readonly voiceId: string;
  readonly status: string;
  readonly reason: DeletionReason;
  readonly because: string;
}

export interface SweepReport {
  readonly asOf: string;
  readonly dryRun: boolean;
  readonly settings: RetentionSettings;
  /** Voice records read. */
  readonly examined: number;
  /** Deleted (or, in a dry run, due). */
  readonly deleted: readonly SweepEntry[];
  /** Due, but used or changed since they were listed: they stay. */
  readonly kept: readonly SweepEntry[];
  /** Due, but the deletion failed: the next run tries again. */
  readonly failed: readonly (SweepEntry & { readonly error: string })[];
  /** False when the run stopped at its bound or deadline: the next run carries on. */
  readonly complete: boolean;
}

const DEFAULT_MAX_DELETIONS = 100;
const PAGE_SIZE = 100;

export async function sweepRetention(
  settings: RetentionSettings,
  options: SweepOptions,
  dependencies: DeleteDependencies,
): Promise<SweepReport> {
  const consents = ConsentRepository.beside(dependencies.voices);
  const consentOf = consentLookup(consents, options.asOf);
  const maxDeletions = options.maxDeletions ?? DEFAULT_MAX_DELETIONS;
  const report = {
    examined: 0,
    deleted: [] as SweepEntry[],
    kept: [] as SweepEntry[],
    failed: [] as (SweepEntry & { error: string })[],
  };
  let complete = true;
  let after: { voiceId: string; createdAt: string } | undefined;
  pages: do {
    const page = await dependencies.voices.list({ limit: PAGE_SIZE, after });
    for (const record of page.items) {
      report.examined += 1;
      const decision = retentionDecision(record, settings, options.asOf, await consentOf(record));
      if (!decision) continue;
      const entry: SweepEntry = { voiceId: record.voiceId, status: record.status, ...decision };
      const attempted = report.deleted.length + report.failed.length + report.kept.length;
      if (attempted >= maxDeletions || (options.deadline !== undefined && Date.now() > options.deadline)) {
        complete = false;
        break pages;
      }
      if (options.dryRun) {
        report.deleted.push(entry);
        continue;
      }
      await deleteOne(record, entry, decision.lastUsedAt, dependencies, report);
    }
    after = page.last;
  } while (after);
  return {
    asOf: options.asOf.toISOString(),
    dryRun: options.dryRun === true,
    settings,
    ...report,
    complete,
  };
}

async function deleteOne(
  record: VoiceRecord,
  entry: SweepEntry,
  lastUsedAt: string | null | undefined,
  dependencies: DeleteDependencies,
  report: { deleted: SweepEntry[]; kept: SweepEntry[]; failed: (SweepEntry & { error: string })[] },
): Promise<void> {
  try {
    await deleteVoice(record.voiceId, { reason: entry.reason, by: 'retention', lastUsedAt }, dependencies);
    report.deleted.push(entry);
    dependencies.logger.info('retention deleted a voice', { ...entry });
  } catch (error) {
    if (error instanceof VoiceDeletionError && error.code === 'voice_used') {
      report.kept.push(entry);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    report.failed.push({ ...entry, error: message });
    dependencies.logger.error('retention could not delete a voice', {
      ...entry,
      error: describeError(error),
    });
  }
}

/** Each consent read once per run. */
function consentLookup(
  consents: ConsentRepository,
  asOf: Date,
): (record: VoiceRecord) => Promise<ConsentProblem | undefined> {
  const known = new Map<string, Promise<ConsentProblem | undefined>>();
  return (record) => {
    const consentId = record.consentId;
    if (!consentId || record.status !== 'ready') return Promise.resolve(undefined);
    let problem = known.get(consentId);
    if (!problem) {
      problem = consents.get(consentId).then((consent) => consentProblem(consent, asOf));
      known.set(consentId, problem);
    }
    return problem;
  };
}
