import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleCloneEvent } from '../../functions/clone/batch';
import type { ClonePipelineDependencies } from '../../functions/clone/dependencies';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { silentLog } from '../../functions/shared/logger';
import { createProvider } from '../../functions/shared/providers/registry';
import { ProviderSlots } from '../../functions/shared/providers/slots';
import type { ProviderName } from '../../functions/shared/providers/types';
import { deriveVoiceId, type VoiceRecord } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { type SmallestSimulator, startSmallestSimulator } from '../../simulators/smallest/simulator';
import { startTypecastSimulator, type TypecastSimulator } from '../../simulators/typecast/simulator';
import { makeWav } from '../support/audio';
import {
  lambdaContext,
  s3NotificationRecord,
  sqsEvent,
  sqsRecord,
  startAwsLocal,
} from '../support/aws-local';

const BUCKET = 'uploads';
const TABLE = 'voices';
const KEYS = { smallest: 'sk_test_simulator', typecast: 'tc_test_simulator' } as const;

let local: Awaited<ReturnType<typeof startAwsLocal>>;
let smallest: SmallestSimulator;
let typecast: TypecastSimulator;
let voices: VoiceRepository;
let dependencies: ClonePipelineDependencies;
let sampleNumber = 0;

/** A distinct speech-like WAV each call (byte-identical audio would be deduplicated across tests). */
function uniqueWav(seconds = 6): Uint8Array {
  sampleNumber += 1;
  return makeWav({ durationSec: seconds + sampleNumber * 0.01, sampleRate: 16_000 });
}

function pipeline(overrides: Partial<ClonePipelineDependencies> = {}): ClonePipelineDependencies {
  const keys = createStaticKeyStore(KEYS, 'the test');
  const options = (name: ProviderName, url: string) => ({
    apiKey: keys.supplier(name),
    baseUrl: url,
    timeoutMs: 2_000,
    retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
  });
  return {
    s3: local.s3,
    voices,
    providers: {
      smallest: createProvider('smallest', options('smallest', smallest.url)),
      typecast: createProvider('typecast', options('typecast', typecast.url)),
    },
    keys,
    defaultProvider: 'smallest',
    defaultModels: { smallest: 'lightning-v3.1', typecast: 'ssfm-v30' },
    maxReceiveCount: 3,
    logger: silentLog,
    lostAnswerGraceMs: 0,
    ...overrides,
  };
}

async function upload(key: string, body: Uint8Array, metadata: Record<string, string> = {}) {
  await local.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }));
  const head = await local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  const etag = (head.ETag ?? '').replace(/"/g, '');
  return {
    voiceId: deriveVoiceId(BUCKET, key, etag),
    record: (receiveCount = 1) =>
      s3NotificationRecord({ bucket: BUCKET, key, size: body.length, etag, receiveCount }),
  };
}

async function voice(voiceId: string): Promise<VoiceRecord> {
  const record = await voices.get(voiceId);
  if (!record) throw new Error(`no record ${voiceId}`);
  return record;
}

beforeAll(async () => {
  local = await startAwsLocal({ bucket: BUCKET, table: TABLE });
  // A Smallest that deletes (the guide's route): the stray-clone and failed-clone tests check that the
  // pipeline removes clones, which the real one refuses to an API key since July 2026.
  smallest = await startSmallestSimulator({ cloneSlots: 1_000, deleteMode: 'lightning-large' });
  typecast = await startTypecastSimulator({ cloneSlots: 1_000 });
  voices = new VoiceRepository(local.dynamo, TABLE);
});

afterAll(async () => {
  await smallest?.close();
  await typecast?.close();
  await local?.stop();
});

beforeEach(() => {
  smallest.clearFaults();
  typecast.clearFaults();
  dependencies = pipeline();
});

describe('clone pipeline (S3 and DynamoDB servers, provider simulators over HTTP)', () => {
  it('clones an upload whose key has spaces and non-Latin characters, as S3 encodes it in the event', async () => {
    const key = 'incoming/smallest/Zoë Ünal 東京 (take 2).wav';
    const { voiceId, record } = await upload(key, uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    expect(response.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored.status).toBe('ready');
    expect(stored.source.key).toBe(key);
    expect(stored.displayName).toBe('Zoë Ünal 東京 (take 2)');
    expect(stored.providerVoiceId).toMatch(/^voice_/);
    expect(stored.source).toMatchObject({
      format: 'wav',
      sampleRate: 16_000,
      channels: 1,
      bytes: expect.any(Number),
    });
    expect(stored.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    const clone = smallest.state.clones.get(stored.providerVoiceId as string);
    expect(clone?.tags).toContain(voiceId);
  });

  it('clones through Typecast for incoming/typecast/ and takes options from object metadata', async () => {
    const { voiceId, record } = await upload('incoming/typecast/bob.mp3.wav', uniqueWav(7), {
      'display-name': encodeURIComponent('Bøb – narrator'),
      model: 'ssfm-v21',
      language: 'eng',
      tags: 'warm, calm ,',
    });
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    const stored = await voice(voiceId);
    expect(stored).toMatchObject({
      status: 'ready',
      provider: 'typecast',
      displayName: 'Bøb – narrator',
      model: 'ssfm-v21',
      language: 'eng',
    });
    expect(stored.tags).toEqual(['warm', 'calm']);
    expect(stored.providerVoiceId).toMatch(/^uc_[0-9a-f]{24}$/);
  });

  it('ignores the s3:TestEvent S3 sends when the notification is created', async () => {
    const before = smallest.state.counts.clone;
    const body = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-01-01T00:00:00Z',
      Bucket: BUCKET,
    });
    expect(await handleCloneEvent(sqsEvent(sqsRecord(body)), lambdaContext(), dependencies)).toEqual({
      batchItemFailures: [],
      redeliveries: [],
    });
    expect(smallest.state.counts.clone).toBe(before);
  });

  it('calls the provider once when one S3 event is delivered twice at the same moment', async () => {
    const { voiceId, record } = await upload('incoming/smallest/twice.wav', uniqueWav());
    const before = smallest.state.counts.clone;
    const responses = await Promise.all([
      handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies),
      handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies),
    ]);
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    expect(smallest.state.counts.clone - before).toBe(1);
    expect((await voice(voiceId)).status).toBe('ready');
    // A late third delivery changes nothing.
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    expect(smallest.state.counts.clone - before).toBe(1);
  });

  it('records a byte-identical re-upload as a duplicate of the existing voice without cloning again', async () => {
    const audio = uniqueWav();
    const first = await upload('incoming/smallest/original.wav', audio);
    await handleCloneEvent(sqsEvent(first.record()), lambdaContext(), dependencies);
    const before = smallest.state.counts.clone;
    const second = await upload('incoming/smallest/copy of original.wav', audio);
    await handleCloneEvent(sqsEvent(second.record()), lambdaContext(), dependencies);
    expect(smallest.state.counts.clone).toBe(before);
    expect(await voice(second.voiceId)).toMatchObject({ status: 'duplicate', duplicateOf: first.voiceId });
  });

  it('clones once when two byte-identical uploads are processed at the same moment', async () => {
    const audio = uniqueWav();
    const a = await upload('incoming/smallest/same-a.wav', audio);
    const b = await upload('incoming/smallest/same-b.wav', audio);
    const before = smallest.state.counts.clone;
    await Promise.all([
      handleCloneEvent(sqsEvent(a.record()), lambdaContext(), dependencies),
      handleCloneEvent(sqsEvent(b.record()), lambdaContext(), dependencies),
    ]);
    expect(smallest.state.counts.clone - before).toBe(1);
    const statuses = [(await voice(a.voiceId)).status, (await voice(b.voiceId)).status].sort();
    expect(statuses).toEqual(['duplicate', 'ready']);
  });

  it('clones byte-identical audio again for another model', async () => {
    const audio = uniqueWav();
    const first = await upload('incoming/typecast/m1.wav', audio);
    const second = await upload('incoming/typecast/m2.wav', audio, { model: 'ssfm-v21' });
    await handleCloneEvent(sqsEvent(first.record(), second.record()), lambdaContext(), dependencies);
    expect((await voice(first.voiceId)).status).toBe('ready');
    expect((await voice(second.voiceId)).status).toBe('ready');
  });

  it('rejects invalid uploads with every problem, keeps the object and never calls the provider', async () => {
    const before = smallest.state.counts.clone + typecast.state.counts.clone;
    const cases: [string, Uint8Array, Record<string, string>, string[]][] = [
      ['incoming/smallest/empty.wav', new Uint8Array(0), {}, ['empty_file']],
      [
        'incoming/smallest/notes.wav',
        new TextEncoder().encode('these are not audio bytes '.repeat(100)),
        {},
        ['unreadable_audio'],
      ],
      ['incoming/smallest/short.wav', makeWav({ durationSec: 2 }), {}, ['audio_too_short']],
      ['incoming/smallest/long.wav', makeWav({ durationSec: 20, sampleRate: 8_000 }), {}, ['audio_too_long']],
      ['incoming/typecast/a name that is far too long for typecast.wav', uniqueWav(), {}, ['invalid_name']],
      [
        'incoming/smallest/old-model.wav',
        uniqueWav(),
        { model: 'lightning-v2', language: 'english' },
        ['invalid_option'],
      ],
      ['incoming/elevenlabs/x.wav', uniqueWav(), {}, ['unknown_provider']],
      [
        'incoming/smallest/big.wav',
        makeWav({ durationSec: 40, sampleRate: 44_100, channels: 2 }),
        {},
        ['file_too_large', 'audio_too_long'],
      ],
    ];
    for (const [key, body, metadata, codes] of cases) {
      const { voiceId, record } = await upload(key, body, metadata);
      const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
      expect(response.batchItemFailures, key).toEqual([]);
      const stored = await voice(voiceId);
      expect(stored.status, key).toBe('rejected');
      expect(stored.error?.retryable, key).toBe(false);
      expect(codes, key).toContain(stored.error?.code);
      expect(stored.error?.message.length, key).toBeGreaterThan(10);
      const head = await local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head.ContentLength, key).toBe(body.length);
    }
    expect(smallest.state.counts.clone + typecast.state.counts.clone).toBe(before);
  });

  it('rejects an oversize upload with file_too_large (and an invalid option) in one record', async () => {
    const body = new Uint8Array(5 * 1024 * 1024 + 1);
    const { voiceId, record } = await upload('incoming/smallest/huge.wav', body, { model: 'lightning-v2' });
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    const stored = await voice(voiceId);
    expect(stored.error?.code).toBe('file_too_large');
    expect(stored.error?.message).toMatch(/lightning-v2/);
  });

  it('retries a 429 and succeeds', async () => {
    smallest.injectFault({ route: 'clone', type: 'status', status: 429, retryAfterSec: 0, times: 1 });
    const before = smallest.state.counts.clone;
    const { voiceId, record } = await upload('incoming/smallest/rate-limited.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    expect(response.batchItemFailures).toEqual([]);
    expect((await voice(voiceId)).status).toBe('ready');
    // The 429, then the request that made the clone.
    expect(smallest.state.counts.clone - before).toBe(2);
    expect(smallest.state.rateLimited).toBeGreaterThanOrEqual(1);
  });

  it('keeps the audio claim when a delivery that lost its lease fails after another delivery made the voice', async () => {
    const body = uniqueWav();
    const { voiceId, record } = await upload('incoming/smallest/raced.wav', body);
    const real = dependencies.providers.smallest;
    const slowDelivery = pipeline({
      providers: {
        ...dependencies.providers,
        smallest: Object.assign(Object.create(real), {
          cloneVoice: async (...args: Parameters<typeof real.cloneVoice>) => {
            // While this delivery waits on the provider its lease runs out, and a redelivery (an hour
            // later by its clock) takes over and makes the voice...
            const later = pipeline({ now: () => new Date(Date.now() + 3_600_000) });
            await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), later);
            // ...then this delivery's own request fails for good.
            smallest.injectFault({
              route: 'clone',
              type: 'status',
              status: 500,
              errorCode: 'voice_clone_error',
            });
            return real.cloneVoice(...args);
          },
        }),
      },
    });
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), slowDelivery);
    expect((await voice(voiceId)).status).toBe('ready');

    const before = smallest.state.counts.clone;
    const again = await upload('incoming/smallest/raced-again.wav', body);
    await handleCloneEvent(sqsEvent(again.record()), lambdaContext(), dependencies);
    expect(await voice(again.voiceId)).toMatchObject({ status: 'duplicate', duplicateOf: voiceId });
    expect(smallest.state.counts.clone - before).toBe(0);
  });

  it('retries a 500 voice_clone_timeout on the next delivery, after checking that no clone was made', async () => {
    smallest.injectFault({
      route: 'clone',
      type: 'status',
      status: 500,
      errorCode: 'voice_clone_timeout',
      times: 1,
    });
    const { voiceId, record } = await upload('incoming/smallest/provider-timeout.wav', uniqueWav());
    const before = smallest.state.counts.clone;
    const patient = pipeline({ lostAnswerGraceMs: 60_000 });
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), patient);
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await voice(voiceId)).toMatchObject({
      status: 'cloning',
      error: { code: 'provider_unavailable', retryable: true },
      processing: { cloneOutcomeUnknown: true, cloneAnswerLost: false },
    });
    // The provider answered (500), so the next delivery need not wait out the grace period.
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), patient);
    expect(second.batchItemFailures).toEqual([]);
    expect((await voice(voiceId)).status).toBe('ready');
    expect(smallest.state.counts.clone - before).toBe(2);
    const clones = [...smallest.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
    expect(clones).toHaveLength(1);
  });

  it('does not clone again while a request that got no answer may still be running at the provider', async () => {
    // No answer at all: the provider is slow and our 2 s deadline passes (it drops the clone at its end).
    smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 2_500, times: 1 });
    const patient = pipeline({ lostAnswerGraceMs: 60_000 });
    const { voiceId, record } = await upload('incoming/smallest/grace.wav', uniqueWav());
    const before = smallest.state.counts.clone;
    await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), patient);
    expect((await voice(voiceId)).processing).toMatchObject({
      cloneOutcomeUnknown: true,
      cloneAnswerLost: true,
    });
    const early = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), patient);
    expect(early.batchItemFailures).toHaveLength(1);
    expect(smallest.state.counts.clone - before).toBe(1);
    expect((await voice(voiceId)).error?.code).toBe('clone_pending');
    // Once the grace period is over (here: a pipeline without one), the clone is made.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await handleCloneEvent(sqsEvent(record(3)), lambdaContext(), dependencies);
    expect((await voice(voiceId)).status).toBe('ready');
    expect(smallest.state.counts.clone - before).toBe(2);
  });

  it("never mistakes another voice's Typecast clone of the same name for a lost one", async () => {
    const first = await upload('incoming/typecast/Twin.wav', uniqueWav());
    await handleCloneEvent(sqsEvent(first.record()), lambdaContext(), dependencies);
    const existing = (await voice(first.voiceId)).providerVoiceId;
    expect(existing).toMatch(/^uc_/);

    typecast.injectFault({ route: 'clone', type: 'status', status: 503, times: 1 });
    const second = await upload('incoming/typecast/sub/Twin.wav', uniqueWav());
    await handleCloneEvent(sqsEvent(second.record(1)), lambdaContext(), dependencies);
    await handleCloneEvent(sqsEvent(second.record(2)), lambdaContext(), dependencies);
    const stored = await voice(second.voiceId);
    expect(stored.status).toBe('ready');
    expect(stored.providerVoiceId).not.toBe(existing);
  });

  it('finds the clone a timed-out request created instead of cloning again', async () => {
    smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 2_500, completeClone: true, times: 1 });
    const { voiceId, record } = await upload('incoming/smallest/lost-answer.wav', uniqueWav());
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), dependencies);
    expect(first.batchItemFailures).toHaveLength(1);
    const tagged = () => [...smallest.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
    for (let waited = 0; tagged().length === 0 && waited < 5_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = smallest.state.counts.clone;
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), dependencies);
    expect(second.batchItemFailures).toEqual([]);
    expect(smallest.state.counts.clone).toBe(before);
    expect(tagged()).toHaveLength(1);
    expect(await voice(voiceId)).toMatchObject({ status: 'ready', providerVoiceId: tagged()[0]?.voiceId });
  });

  it('deletes a stray clone that a lost request created after the new clone was asked for', async () => {
    // The first request's clone appears at 2.5 s, after its 2 s deadline; the retry starts at once
    // (no grace here) and its own clone takes 1.5 s, so the stray shows up while the retry runs.
    smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 2_500, completeClone: true, times: 1 });
    const { voiceId, record } = await upload('incoming/smallest/stray.wav', uniqueWav());
    await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), dependencies);
    smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 1_500, times: 1 });
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), dependencies);
    expect(second.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored.status).toBe('ready');
    const tagged = [...smallest.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
    expect(tagged.map((clone) => clone.voiceId)).toEqual([stored.providerVoiceId]);
  });

  it('records failed with an actionable reason when the clone limit is exceeded, and does not retry', async () => {
    const limited = await startSmallestSimulator({ cloneSlots: 0 });
    try {
      const keys = createStaticKeyStore(KEYS, 'the test');
      const deps = pipeline({
        providers: {
          ...dependencies.providers,
          smallest: createProvider('smallest', {
            apiKey: keys.supplier('smallest'),
            baseUrl: limited.url,
            timeoutMs: 2_000,
          }),
        },
      });
      const { voiceId, record } = await upload('incoming/smallest/no-slots.wav', uniqueWav());
      const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), deps);
      expect(response.batchItemFailures).toEqual([]);
      const stored = await voice(voiceId);
      expect(stored.status).toBe('failed');
      expect(stored.error?.retryable).toBe(false);
      expect(stored.error?.message).toMatch(/clone limit/i);
      expect(stored.error?.message).toMatch(/delete|upgrad/i);
      expect(limited.state.counts.clone).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('records a clear error for a missing provider key, retries, and fails retryably on the last delivery', async () => {
    const deps = pipeline({
      keys: createStaticKeyStore({ smallest: KEYS.smallest }, 'the secret voicedrop-keys'),
    });
    const { voiceId, record } = await upload('incoming/typecast/keyless.wav', uniqueWav());
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), deps);
    expect(first.batchItemFailures).toHaveLength(1);
    const pending = await voice(voiceId);
    expect(pending.error).toMatchObject({ code: 'provider_key_missing', retryable: true });
    expect(pending.error?.message).toMatch(/No API key for typecast.*voicedrop-keys/);
    const last = await handleCloneEvent(sqsEvent(record(3)), lambdaContext(), deps);
    expect(last.batchItemFailures).toHaveLength(1);
    expect(await voice(voiceId)).toMatchObject({
      status: 'failed',
      error: { code: 'provider_key_missing', retryable: true },
    });
    expect(typecast.state.counts.clone).toBeGreaterThanOrEqual(0);
  });

  it('records a sample the provider cannot clone (voice_clone_error) as failed without retrying', async () => {
    smallest.injectFault({
      route: 'clone',
      type: 'status',
      status: 500,
      errorCode: 'voice_clone_error',
      times: 1,
    });
    const { voiceId, record } = await upload('incoming/smallest/noisy.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    expect(response.batchItemFailures).toEqual([]);
    expect(await voice(voiceId)).toMatchObject({ status: 'failed', error: { retryable: false } });
  });

  it('records failed when Smallest answers a clone whose status is "failed", and removes that clone', async () => {
    smallest.injectFault({
      route: 'clone',
      type: 'status',
      status: 200,
      body: {
        message: 'Voice clone created',
        data: {
          voiceId: 'voice_failedclone1',
          displayName: 'x',
          status: 'failed',
          model: 'lightning-v3.1',
          samples: [],
        },
      },
    });
    const deletesBefore = smallest.state.counts.delete;
    const { voiceId, record } = await upload('incoming/smallest/failed-status.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    expect(response.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored).toMatchObject({
      status: 'failed',
      error: { code: 'provider_bad_sample', retryable: false },
    });
    expect(stored.providerVoiceId).toBeUndefined();
    expect(smallest.state.counts.delete).toBe(deletesBefore + 1);
  });

  it('reports a provider outage as a batch item failure and finishes on the next delivery', async () => {
    typecast.injectFault({ route: '*', type: 'status', status: 503, times: 20 });
    const { voiceId, record } = await upload('incoming/typecast/outage.wav', uniqueWav());
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), dependencies);
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await voice(voiceId)).error?.retryable).toBe(true);
    typecast.clearFaults();
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), dependencies);
    expect(second.batchItemFailures).toEqual([]);
    expect((await voice(voiceId)).status).toBe('ready');
    const clones = [...typecast.state.clones.values()].filter((clone) => clone.name === 'outage');
    expect(clones).toHaveLength(1);
  });

  it('rejects a key with a ".." segment, which no URL can address, instead of retrying it forever', async () => {
    const key = 'incoming/smallest/../escape.wav';
    const before = smallest.state.counts.clone;
    const response = await handleCloneEvent(
      sqsEvent(s3NotificationRecord({ bucket: BUCKET, key, size: 100_000, etag: 'dot-segment' })),
      lambdaContext(),
      dependencies,
    );

    expect(response.batchItemFailures).toEqual([]);
    expect(await voice(deriveVoiceId(BUCKET, key, 'dot-segment'))).toMatchObject({
      status: 'rejected',
      error: { code: 'unsupported_key', retryable: false },
    });
    expect(smallest.state.counts.clone).toBe(before);
  });

  it('records source_missing when the object was deleted before processing', async () => {
    const { voiceId, record } = await upload('incoming/smallest/vanished.wav', uniqueWav());
    await local.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'incoming/smallest/vanished.wav' }));
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), dependencies);
    expect(response.batchItemFailures).toEqual([]);
    expect(await voice(voiceId)).toMatchObject({ status: 'failed', error: { code: 'source_missing' } });
  });

  it('counts each outcome and the provider latency as business metrics', async () => {
    const counts: Record<string, number> = {};
    const latencies: string[] = [];
    const deps = pipeline({
      metrics: {
        count: (name, value = 1) => {
          counts[name] = (counts[name] ?? 0) + value;
        },
        providerLatency: (provider, operation) => latencies.push(`${provider}:${operation}`),
      },
    });
    const audio = uniqueWav();
    const ready = await upload('incoming/smallest/metrics-ready.wav', audio);
    const duplicate = await upload('incoming/smallest/metrics-duplicate.wav', audio);
    const rejected = await upload('incoming/smallest/metrics-rejected.wav', new Uint8Array(0));
    await handleCloneEvent(
      sqsEvent(ready.record(), duplicate.record(), rejected.record()),
      lambdaContext(),
      deps,
    );
    expect(counts).toEqual({ ClonesStarted: 1, ClonesReady: 1, UploadsDuplicate: 1, UploadsRejected: 1 });
    expect(latencies).toEqual(['smallest:clone']);
  });

  it('hands messages back untouched when the invocation has too little time left', async () => {
    const { voiceId, record } = await upload('incoming/smallest/late.wav', uniqueWav());
    const message = record();
    const response = await handleCloneEvent(sqsEvent(message), lambdaContext(10), dependencies);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: message.messageId }]);
    // Sent again as a new message, so a delivery that was never tried does not count towards the DLQ.
    expect(response.redeliveries).toEqual([
      { messageId: message.messageId, kind: 'requeue', delaySeconds: 0 },
    ]);
    expect(await voices.get(voiceId)).toBeUndefined();
  });
});

describe('per-provider concurrency (provider slots in the voices table)', () => {
  /** Wraps a provider so the test sees how many clone requests were in flight at once. */
  function counting(dependencies: ClonePipelineDependencies) {
    const peak = { smallest: 0, typecast: 0 };
    const current = { smallest: 0, typecast: 0 };
    const providers = { ...dependencies.providers };
    for (const name of ['smallest', 'typecast'] as const) {
      const provider = dependencies.providers[name];
      providers[name] = Object.assign(Object.create(provider), {
        cloneVoice: async (...args: Parameters<typeof provider.cloneVoice>) => {
          current[name] += 1;
          peak[name] = Math.max(peak[name], current[name]);
          try {
            return await provider.cloneVoice(...args);
          } finally {
            current[name] -= 1;
          }
        },
      });
    }
    return { peak, dependencies: { ...dependencies, providers } };
  }

  it('keeps clone requests within each provider limit while a batch runs side by side', async () => {
    smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 150, times: 4 });
    typecast.injectFault({ route: 'clone', type: 'slow', delayMs: 150, times: 4 });
    const { peak, dependencies: limited } = counting(
      pipeline({
        slots: new ProviderSlots(local.dynamo, TABLE, { smallest: 1, typecast: 2 }),
        slotWaitMs: 10_000,
      }),
    );
    const uploads = await Promise.all(
      ['smallest', 'smallest', 'smallest', 'typecast', 'typecast', 'typecast', 'typecast'].map(
        (provider, index) => upload(`incoming/${provider}/slots-${index}.wav`, uniqueWav()),
      ),
    );

    const response = await handleCloneEvent(
      sqsEvent(...uploads.map(({ record }) => record())),
      lambdaContext(),
      limited,
    );

    expect(response.batchItemFailures).toEqual([]);
    for (const { voiceId } of uploads) expect((await voice(voiceId)).status).toBe('ready');
    expect(peak).toEqual({ smallest: 1, typecast: 2 });
  });

  it('requeues an upload when no slot frees in time, without a provider request or a used-up delivery', async () => {
    const slots = new ProviderSlots(local.dynamo, TABLE, { smallest: 1, typecast: 1 });
    const held = await slots.acquire('smallest', {
      holder: 'someone-else',
      leaseUntil: Date.now() + 60_000,
      waitMs: 0,
    });
    const { voiceId, record } = await upload('incoming/smallest/busy.wav', uniqueWav());
    const before = smallest.state.counts.clone;

    // The last delivery: a failure now would be final, but waiting for a slot is not a failure.
    const response = await handleCloneEvent(
      sqsEvent(record(3)),
      lambdaContext(),
      pipeline({ slots, slotWaitMs: 100, retryBackoff: { baseSeconds: 4, maxSeconds: 60 } }),
    );

    expect(response.redeliveries).toEqual([
      { messageId: expect.any(String), kind: 'requeue', delaySeconds: expect.any(Number) },
    ]);
    expect(response.redeliveries[0]?.delaySeconds).toBeGreaterThanOrEqual(2);
    expect(response.redeliveries[0]?.delaySeconds).toBeLessThanOrEqual(4);
    expect(smallest.state.counts.clone).toBe(before);
    const waiting = await voice(voiceId);
    expect(waiting.status).toBe('validating');
    expect(waiting.error).toMatchObject({ code: 'provider_busy', retryable: true });

    await slots.release(held as NonNullable<typeof held>);
    await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), pipeline({ slots }));
    expect((await voice(voiceId)).status).toBe('ready');
  });
});

describe('a Smallest clone that is still processing when the provider answers', () => {
  let processing: SmallestSimulator;

  beforeAll(async () => {
    processing = await startSmallestSimulator({ cloneSlots: 1_000, cloneProcessingMs: 1_500 });
  });

  afterAll(async () => {
    await processing?.close();
  });

  const withProcessingSmallest = () => {
    const base = pipeline();
    const keys = createStaticKeyStore(KEYS, 'the test');
    return pipeline({
      providers: {
        ...base.providers,
        smallest: createProvider('smallest', {
          apiKey: keys.supplier('smallest'),
          baseUrl: processing.url,
          timeoutMs: 2_000,
          retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
        }),
      },
    });
  };

  it('is recorded ready only once the provider lists it completed', async () => {
    const { voiceId, record } = await upload('incoming/smallest/processing.wav', uniqueWav());
    const lists = processing.state.counts.list;

    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), withProcessingSmallest());

    expect(response.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored.status).toBe('ready');
    expect(processing.state.clones.get(stored.providerVoiceId as string)?.status).toBe('completed');
    expect(processing.state.counts.list - lists).toBeGreaterThanOrEqual(1);
    expect(processing.state.counts.clone).toBe(1);
  });

  it('waits in the queue when it is still processing as the invocation ends, and is ready on the next delivery without a second clone', async () => {
    const { voiceId, record } = await upload('incoming/smallest/processing-late.wav', uniqueWav());
    const clones = processing.state.counts.clone;
    // An invocation whose clock runs 40 times faster than real time: out of time before the clone is done.
    const started = Date.now();
    const hurried = {
      awsRequestId: 'hurried',
      getRemainingTimeInMillis: () => 47_000 - 40 * (Date.now() - started),
    };

    const first = await handleCloneEvent(sqsEvent(record()), hurried, withProcessingSmallest());

    expect(first.redeliveries).toEqual([expect.objectContaining({ kind: 'requeue' })]);
    expect(await voice(voiceId)).toMatchObject({ status: 'cloning', error: { code: 'clone_processing' } });
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), withProcessingSmallest());
    expect((await voice(voiceId)).status).toBe('ready');
    expect(processing.state.counts.clone - clones).toBe(1);
  });
});
