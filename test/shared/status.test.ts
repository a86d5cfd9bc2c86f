import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import {
  CLONE_HELD_STATUSES,
  DELETABLE_STATUSES,
  DELETED_STATUSES,
  ENDED_WITHOUT_VOICE_STATUSES,
  FINAL_STATUSES,
  IN_PROGRESS_STATUSES,
  isResumable,
  mayMove,
  RETRIED_WHEN_RETRYABLE_STATUSES,
  statusesThatMayBecome,
  TRANSITIONS,
  VOICE_MADE_STATUSES,
  VOICE_STATUSES,
  type VoiceStatus,
  WITHOUT_OWN_CLONE_STATUSES,
} from '../../functions/shared/voices/status';
import { startAwsLocal } from '../support/aws-local';

let local: Awaited<ReturnType<typeof startAwsLocal>>;
let voices: VoiceRepository;

beforeAll(async () => {
  local = await startAwsLocal({ bucket: 'status-test', table: 'voices' });
  voices = new VoiceRepository(local.dynamo, 'voices');
});

afterAll(async () => {
  await local?.stop();
});

/** A record in `status`, written directly (only `received` is ever created by the pipeline). */
async function recordIn(
  status: VoiceStatus,
  name: string,
  error?: { code: string; message: string; retryable: boolean },
): Promise<string> {
  const voiceId = deriveVoiceId('status-test', `incoming/${name}.wav`, 'e');
  const now = new Date().toISOString();
  await voices.createIfAbsent({
    voiceId,
    status: 'received',
    provider: 'smallest',
    source: { bucket: 'status-test', key: `incoming/${name}.wav`, bytes: 1 },
    createdAt: now,
    updatedAt: now,
    processing: {},
  });
  // Walk there along allowed moves, as the pipeline and the API would.
  const path: Record<VoiceStatus, readonly VoiceStatus[]> = {
    received: [],
    validating: ['validating'],
    rejected: ['validating', 'rejected'],
    cloning: ['validating', 'cloning'],
    ready: ['validating', 'cloning', 'ready'],
    failed: ['validating', 'failed'],
    duplicate: ['validating', 'duplicate'],
    deleting: ['validating', 'rejected', 'deleting'],
    deleted: ['validating', 'rejected', 'deleting', 'deleted'],
  };
  let at: VoiceStatus = 'received';
  for (const next of path[status]) {
    const changes = next === status && error ? { error } : undefined;
    expect(await voices.transition(voiceId, { from: [at], to: next, changes, now: new Date() })).toBe(true);
    at = next;
  }
  return voiceId;
}

describe('The status machine', () => {
  it('reaches every status from received, and ends only in deleted', () => {
    const reached = new Set<VoiceStatus>(['received']);
    const queue: VoiceStatus[] = ['received'];
    for (let at = queue.shift(); at; at = queue.shift()) {
      for (const next of TRANSITIONS[at]) {
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      }
    }
    expect([...reached].sort()).toEqual([...VOICE_STATUSES].sort());
    expect(VOICE_STATUSES.filter((status) => TRANSITIONS[status].length === 0)).toEqual(['deleted']);
    // Every final status but deleting and deleted can be deleted; nothing in progress can.
    expect([...DELETABLE_STATUSES].sort()).toEqual(
      [...FINAL_STATUSES].filter((status) => status !== 'deleted').sort(),
    );
  });

  it('lets the voices table make exactly the moves of the table, and refuses every other', async () => {
    let name = 0;
    const made: string[] = [];
    const refused: string[] = [];
    for (const from of VOICE_STATUSES) {
      for (const to of VOICE_STATUSES) {
        name += 1;
        const voiceId = await recordIn(from, `walk-${name}`);
        const move = `${from} → ${to}`;
        if (mayMove(from, to)) {
          expect(await voices.transition(voiceId, { from: [from], to, now: new Date() }), move).toBe(true);
          expect((await voices.get(voiceId))?.status, move).toBe(to);
          made.push(move);
        } else {
          await expect(
            voices.transition(voiceId, { from: [from], to, now: new Date() }),
            move,
          ).rejects.toThrow('Not a move of the status machine');
          expect((await voices.get(voiceId))?.status, move).toBe(from);
          refused.push(move);
        }
      }
    }
    expect(made).toHaveLength(Object.values(TRANSITIONS).flat().length);
    expect(made.length + refused.length).toBe(VOICE_STATUSES.length ** 2);
  });

  it('names its sets by what they mean, each derived from or checked against the table', () => {
    const sorted = (statuses: Iterable<VoiceStatus>) => [...statuses].sort();
    // Only failed comes back to work, and only from the final statuses.
    expect(sorted(RETRIED_WHEN_RETRYABLE_STATUSES)).toEqual(['failed']);
    expect(statusesThatMayBecome('validating').filter((from) => FINAL_STATUSES.has(from))).toEqual([
      ...RETRIED_WHEN_RETRYABLE_STATUSES,
    ]);
    // Deleted or going: the final statuses a deletion reaches.
    expect(sorted(DELETED_STATUSES)).toEqual(
      sorted(VOICE_STATUSES.filter((status) => status === 'deleted' || mayMove(status, 'deleted'))),
    );
    expect(sorted(ENDED_WITHOUT_VOICE_STATUSES)).toEqual(['failed', 'rejected']);
    expect(sorted(WITHOUT_OWN_CLONE_STATUSES)).toEqual(['duplicate', 'failed', 'rejected']);
    expect(sorted(CLONE_HELD_STATUSES)).toEqual(['deleting', 'ready']);
    // Final statuses split into a voice made, none made, and deleted or going, with nothing left over.
    expect(sorted([...VOICE_MADE_STATUSES, ...ENDED_WITHOUT_VOICE_STATUSES, ...DELETED_STATUSES])).toEqual(
      sorted(FINAL_STATUSES),
    );
  });

  it('ends an upload session only from the work it holds a lease on, never from received', () => {
    // UploadSession.finish records these outcomes from statusesThatMayBecome(outcome).
    for (const outcome of ['ready', 'rejected', 'failed', 'duplicate'] as const) {
      const from = statusesThatMayBecome(outcome);
      expect(from.length, outcome).toBeGreaterThan(0);
      expect(
        from.every((status) => IN_PROGRESS_STATUSES.has(status) && status !== 'received'),
        outcome,
      ).toBe(true);
    }
  });

  it('leases exactly the records isResumable names, for every status with and without a retryable error', async () => {
    let name = 0;
    for (const status of VOICE_STATUSES) {
      for (const retryable of [undefined, false, true]) {
        name += 1;
        const error = retryable === undefined ? undefined : { code: 'x', message: 'x', retryable };
        const voiceId = await recordIn(status, `lease-${name}`, error);
        const now = Date.now();
        const leased = await voices.acquireLease(voiceId, `t${name}`, now + 60_000, now);
        const label = `${status} retryable=${retryable}`;
        expect(leased !== undefined, label).toBe(isResumable({ status, error }));
      }
    }
  });

  it('lists every status by default but the deleted ones, and each one when asked for it', async () => {
    const ids = new Map<string, VoiceStatus>();
    for (const status of VOICE_STATUSES) ids.set(await recordIn(status, `list-${status}`), status);
    const listed = async (status?: VoiceStatus) => {
      const seen: VoiceStatus[] = [];
      let after: { voiceId: string; createdAt: string } | undefined;
      do {
        const page = await voices.list({ limit: 100, status, after });
        for (const item of page.items) {
          const of = ids.get(item.voiceId);
          if (of) seen.push(of);
        }
        after = page.last;
      } while (after);
      return seen.sort();
    };
    expect(await listed()).toEqual(VOICE_STATUSES.filter((status) => !DELETED_STATUSES.has(status)).sort());
    for (const status of VOICE_STATUSES) expect(await listed(status), status).toEqual([status]);
  });
});
