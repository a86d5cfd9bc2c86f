import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../functions/shared/logger';
import type { VoiceRecord } from '../../functions/shared/voices/record';
import { FINAL_STATUSES } from '../../functions/shared/voices/status';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import {
  type SmallestSimulator,
  startSmallestSimulator,
  startTypecastSimulator,
  type TypecastSimulator,
} from '../../simulators';
import { makeMp3, makeWav } from '../support/audio';
import { dropSample } from '../support/drop';

const KEYS = { smallest: 'sk_burst', typecast: 'tc_burst' } as const;
/** A clone slower than this never answers in time (PROVIDER_TIMEOUT_MS). */
const PROVIDER_TIMEOUT_MS = 1_500;
const SAMPLES_PER_PROVIDER = 16;

/**
 * Issue 5's burst: 32 distinct samples and assorted garbage dropped at once into local mode, which is pointed
 * (as a user would point it at any implementation of the contracts) at provider servers that allow 2
 * requests in flight and inject 429s, 503s, a voice_clone_timeout, a clone that outlives the client's
 * deadline and one voice_clone_error.
 */
describe('burst: 32 samples and garbage at once, providers at concurrency 2 with faults', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-burst-'));
  let smallest: SmallestSimulator;
  let typecast: TypecastSimulator;
  let local: LocalPipeline;

  beforeAll(async () => {
    smallest = await startSmallestSimulator({ cloneSlots: 1_000, concurrency: 2, apiKeys: [KEYS.smallest] });
    typecast = await startTypecastSimulator({ cloneSlots: 1_000, concurrency: 2, apiKeys: [KEYS.typecast] });
    local = await startLocalPipeline({
      dataDir,
      s3Port: 0,
      dynamodbPort: 0,
      apiPort: 0,
      environment: {
        SMALLEST_API_KEY: KEYS.smallest,
        TYPECAST_API_KEY: KEYS.typecast,
        SMALLEST_API_BASE_URL: smallest.url,
        TYPECAST_API_BASE_URL: typecast.url,
        PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
        SMALLEST_CLONE_CONCURRENCY: '2',
        TYPECAST_CLONE_CONCURRENCY: '2',
      },
      log: silentLog,
      // Local mode's own policy, on a shorter clock so the suite stays fast.
      queue: { retryBackoff: { baseSeconds: 0.25, maxSeconds: 4 } },
    });
  });

  afterAll(async () => {
    await local?.close();
    await smallest?.close();
    await typecast?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('settles every upload, clones each good sample exactly once and sends no garbage to a provider', async () => {
    expect(local.info.providers).toEqual({ smallest: 'live', typecast: 'live' });
    for (const simulator of [smallest, typecast]) {
      simulator.injectFault({ route: 'clone', type: 'status', status: 429, retryAfterSec: 0, times: 4 });
      simulator.injectFault({ route: 'clone', type: 'status', status: 503, times: 2 });
      simulator.injectFault({
        route: 'clone',
        type: 'slow',
        delayMs: PROVIDER_TIMEOUT_MS + 1_000,
        completeClone: true,
      });
    }
    smallest.injectFault({ route: 'clone', type: 'status', status: 500, errorCode: 'voice_clone_timeout' });
    smallest.injectFault({ route: 'clone', type: 'status', status: 500, errorCode: 'voice_clone_error' });

    const good = [
      ...Array.from({ length: SAMPLES_PER_PROVIDER }, (_, i) => ({
        key: `incoming/smallest/speaker-${i}.${i % 4 === 0 ? 'mp3' : 'wav'}`,
        body:
          i % 4 === 0
            ? makeMp3({ durationSec: 6 + i * 0.2, seed: i + 1 })
            : makeWav({ durationSec: 6 + i * 0.2, sampleRate: 16_000, seed: i + 1 }),
      })),
      ...Array.from({ length: SAMPLES_PER_PROVIDER }, (_, i) => ({
        key: `incoming/typecast/narrator-${i}.wav`,
        body: makeWav({ durationSec: 7 + i * 0.2, sampleRate: 22_050, seed: 100 + i }),
      })),
    ];
    const garbage = [
      { key: 'incoming/smallest/empty.wav', body: new Uint8Array(0) },
      { key: 'incoming/typecast/tiny.mp3', body: randomBytes(12) },
      { key: 'incoming/smallest/random.wav', body: randomBytes(64 * 1024) },
      { key: 'incoming/typecast/huge.wav', body: randomBytes(30 * 1024 * 1024) },
      { key: 'incoming/notes.txt', body: new TextEncoder().encode('not audio at all\n') },
    ];
    const started = Date.now();
    const uploads = await Promise.all(
      [...good, ...garbage].map(async ({ key, body }) => ({
        key,
        voiceId: await dropSample(local.info, key, body),
      })),
    );

    const records = new Map<string, VoiceRecord>();
    const deadline = Date.now() + 120_000;
    while (records.size < uploads.length) {
      if (Date.now() > deadline) {
        const open = uploads.filter(({ voiceId }) => !records.has(voiceId)).map(({ key }) => key);
        throw new Error(`not final after 120 s: ${open.join(', ')}`);
      }
      for (const { voiceId } of uploads) {
        if (records.has(voiceId)) continue;
        const record = await local.voices.get(voiceId);
        if (record && FINAL_STATUSES.has(record.status)) records.set(voiceId, record);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const settleMs = Date.now() - started;
    const recordOf = (key: string) =>
      records.get(uploads.find((upload) => upload.key === key)?.voiceId ?? '');

    // Garbage: rejected with a reason, never sent anywhere.
    for (const { key } of garbage) {
      expect(recordOf(key), key).toMatchObject({ status: 'rejected', error: { retryable: false } });
      expect(recordOf(key)?.error?.message.length).toBeGreaterThan(10);
    }
    const sentNames = [...smallest.state.requests, ...typecast.state.requests]
      .filter((request) => request.route === 'clone')
      .map((request) => request.fields.displayName ?? request.fields.name ?? '');
    for (const name of ['empty', 'tiny', 'random', 'huge', 'notes']) expect(sentNames).not.toContain(name);

    // Good samples: all ready but the one the provider could not clone, which failed with the reason.
    const outcomes = good.map(({ key }) => recordOf(key));
    const failed = outcomes.filter((record) => record?.status === 'failed');
    const ready = outcomes.filter((record) => record?.status === 'ready');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toMatchObject({ code: 'provider_bad_sample', retryable: false });
    expect(ready).toHaveLength(good.length - 1);

    // Nothing paid twice: one live clone per ready voice, each a different one.
    const alive = new Set([...smallest.state.clones.keys(), ...typecast.state.clones.keys()]);
    const readyClones = new Set(ready.map((record) => record?.providerVoiceId));
    expect(readyClones.size).toBe(ready.length);
    expect(alive).toEqual(readyClones);
    expect(local.queue.deadLetters).toEqual([]);
    // Never more in flight than the providers allow.
    expect(smallest.state.peakInFlight.clone).toBeLessThanOrEqual(2);
    expect(typecast.state.peakInFlight.clone).toBeLessThanOrEqual(2);

    const attempts = [...records.values()].reduce(
      (sum, record) => sum + (record.processing?.attempts ?? 0),
      0,
    );
    console.log(
      `burst: ${uploads.length} uploads (${good.length} samples, ${garbage.length} garbage) final in ${settleMs} ms; ` +
        `${ready.length} ready, ${failed.length} failed (bad sample), ${garbage.length} rejected; ` +
        `${attempts - records.size} redeliveries; clone requests smallest ${smallest.state.counts.clone}, ` +
        `typecast ${typecast.state.counts.clone}; 429s ${smallest.state.rateLimited + typecast.state.rateLimited}; ` +
        `peak clone requests in flight ${smallest.state.peakInFlight.clone}/${typecast.state.peakInFlight.clone}`,
    );
  });
});
