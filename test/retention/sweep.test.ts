import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionDecision } from '../../functions/retention/policy';
import { sweepRetention } from '../../functions/retention/sweep';
import { silentLog } from '../../functions/shared/logger';
import { noMetrics } from '../../functions/shared/metrics';
import type { VoiceRecord } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { startPipelineFixture } from '../support/pipeline-fixture';

// The retention sweep on the real handlers' storage (dynalite, s3rver) and the provider simulators.
const DAY_MS = 86_400_000;
let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;

beforeAll(async () => {
  fixture = await startPipelineFixture();
}, 60_000);
afterAll(async () => fixture?.stop());

const dependencies = (voices: VoiceRepository = fixture.voices) => ({
  s3: fixture.local.s3,
  bucket: fixture.bucket,
  voices,
  providers: fixture.providers,
  logger: silentLog,
  metrics: noMetrics,
  now: () => new Date(),
});

describe('retention policy', () => {
  const ready = {
    voiceId: 'vc_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    status: 'ready',
    provider: 'smallest',
    source: { bucket: 'b', key: 'k', bytes: 1 },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  } as VoiceRecord;
  const at = (days: number) => new Date(Date.parse(ready.createdAt) + days * DAY_MS);
  /** The ready voice, last spoken with `days` after it was created. */
  const usedOn = (days: number) =>
    ({
      ...ready,
      usage: {
        requests: 1,
        characters: 1,
        providerCharacters: 1,
        cacheHits: 0,
        lastUsedAt: at(days).toISOString(),
      },
    }) as VoiceRecord;

  it('measures unused time from the last use, else from creation', () => {
    const settings = { unusedDays: 30, rejectedDays: 7 };
    expect(retentionDecision(ready, settings, at(29), undefined)).toBeUndefined();
    expect(retentionDecision(ready, settings, at(30), undefined)).toMatchObject({
      reason: 'expired',
      lastUsedAt: null,
    });
    const used = usedOn(20);
    expect(retentionDecision(used, settings, at(40), undefined)).toBeUndefined();
    expect(retentionDecision(used, settings, at(50), undefined)).toMatchObject({
      lastUsedAt: at(20).toISOString(),
    });
  });

  it('deletes at maxAgeDays used or not, and at once for a revoked consent', () => {
    const used = usedOn(99);
    expect(retentionDecision(used, { maxAgeDays: 100, rejectedDays: 7 }, at(100), undefined)?.reason).toBe(
      'expired',
    );
    expect(retentionDecision(ready, { rejectedDays: 7 }, at(1), 'revoked')?.reason).toBe('consent_revoked');
    expect(retentionDecision(ready, { rejectedDays: 7 }, at(1), 'expired')?.reason).toBe('expired');
  });

  it('leaves work in progress alone, and takes up a stalled deletion', () => {
    expect(
      retentionDecision(
        { ...ready, status: 'cloning' },
        { unusedDays: 1, rejectedDays: 1 },
        at(500),
        undefined,
      ),
    ).toBeUndefined();
    const stalled = { ...ready, status: 'deleting', deletion: { reason: 'requested' } } as VoiceRecord;
    expect(retentionDecision(stalled, { rejectedDays: 7 }, at(1), undefined)?.reason).toBe('requested');
  });
});

describe('retention sweep', () => {
  it('keeps a voice spoken with between listing and deleting (the conditional write)', async () => {
    const voiceId = await fixture.cloneVoice('incoming/smallest/Used.wav');
    // A repository whose list hands out the record, then the voice is used before the sweep deletes it.
    class UsedMeanwhile extends VoiceRepository {
      override async list(options: Parameters<VoiceRepository['list']>[0]) {
        const page = await super.list(options);
        await this.recordUsage(voiceId, {
          requests: 1,
          characters: 5,
          providerCharacters: 5,
          cacheHits: 0,
          at: new Date().toISOString(),
        });
        return page;
      }
    }
    const voices = new UsedMeanwhile(fixture.voices.client, fixture.voices.tableName);
    const report = await sweepRetention(
      { unusedDays: 30, rejectedDays: 30 },
      { asOf: new Date(Date.now() + 31 * DAY_MS) },
      dependencies(voices),
    );
    expect(report.kept.map((entry) => entry.voiceId)).toContain(voiceId);
    expect(report.deleted.map((entry) => entry.voiceId)).not.toContain(voiceId);
    expect((await fixture.voices.get(voiceId))?.status).toBe('ready');
  });

  it('is bounded per run, and idempotent: the next runs carry on and then find nothing', async () => {
    const ids = [
      await fixture.cloneVoice('incoming/smallest/Old1.wav'),
      await fixture.cloneVoice('incoming/typecast/Old2.wav'),
      await fixture.cloneVoice('incoming/smallest/Old3.wav'),
    ];
    const options = { asOf: new Date(Date.now() + 400 * DAY_MS), maxDeletions: 2 };
    const settings = { unusedDays: 365, rejectedDays: 30 };
    const dry = await sweepRetention(settings, { ...options, dryRun: true }, dependencies());
    expect(dry.deleted).toHaveLength(2);
    expect((await fixture.voices.get(ids[0] as string))?.status).toBe('ready');
    const first = await sweepRetention(settings, options, dependencies());
    expect(first.deleted).toHaveLength(2);
    expect(first.complete).toBe(false);
    const second = await sweepRetention(settings, options, dependencies());
    const third = await sweepRetention(settings, options, dependencies());
    expect(third.deleted).toEqual([]);
    expect(third.complete).toBe(true);
    const deleted = [...first.deleted, ...second.deleted].map((entry) => entry.voiceId);
    for (const id of ids) {
      expect(deleted).toContain(id);
      const record = (await fixture.voices.get(id)) as VoiceRecord;
      expect(record.deletion).toMatchObject({ reason: 'expired', by: 'retention' });
    }
  }, 30_000);
});
