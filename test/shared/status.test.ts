import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import {
  DELETABLE_STATUSES,
  FINAL_STATUSES,
  mayMove,
  TRANSITIONS,
  VOICE_STATUSES,
  type VoiceStatus,
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
async function recordIn(status: VoiceStatus, name: string): Promise<string> {
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
    expect(await voices.transition(voiceId, { from: [at], to: next, now: new Date() })).toBe(true);
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
});
