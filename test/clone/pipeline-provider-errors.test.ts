import { describe, expect, it } from 'vitest';
import { handleCloneEvent } from '../../functions/clone/batch';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { createProvider } from '../../functions/shared/providers/registry';
import { startSmallestSimulator } from '../../simulators/smallest/simulator';
import { lambdaContext, sqsEvent } from '../support/aws-local';
import { KEYS, useClonePipeline } from './pipeline-support';

// The clone pipeline when the provider fails, times out, loses an answer or refuses a clone.
const { env, uniqueWav, pipeline, upload, voice } = useClonePipeline();

describe('clone pipeline (S3 and DynamoDB servers, provider simulators over HTTP)', () => {
  it('retries a 429 and succeeds', async () => {
    env.smallest.injectFault({ route: 'clone', type: 'status', status: 429, retryAfterSec: 0, times: 1 });
    const before = env.smallest.state.counts.clone;
    const { voiceId, record } = await upload('incoming/smallest/rate-limited.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    expect(response.batchItemFailures).toEqual([]);
    expect((await voice(voiceId)).status).toBe('ready');
    // The 429, then the request that made the clone.
    expect(env.smallest.state.counts.clone - before).toBe(2);
    expect(env.smallest.state.rateLimited).toBeGreaterThanOrEqual(1);
  });

  it('keeps the audio claim when a delivery that lost its lease fails after another delivery made the voice', async () => {
    const body = uniqueWav();
    const { voiceId, record } = await upload('incoming/smallest/raced.wav', body);
    const real = env.dependencies.providers.smallest;
    const slowDelivery = pipeline({
      providers: {
        ...env.dependencies.providers,
        smallest: Object.assign(Object.create(real), {
          cloneVoice: async (...args: Parameters<typeof real.cloneVoice>) => {
            // While this delivery waits on the provider its lease runs out, and a redelivery (an hour
            // later by its clock) takes over and makes the voice...
            const later = pipeline({ now: () => new Date(Date.now() + 3_600_000) });
            await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), later);
            // ...then this delivery's own request fails for good.
            env.smallest.injectFault({
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

    const before = env.smallest.state.counts.clone;
    const again = await upload('incoming/smallest/raced-again.wav', body);
    await handleCloneEvent(sqsEvent(again.record()), lambdaContext(), env.dependencies);
    expect(await voice(again.voiceId)).toMatchObject({ status: 'duplicate', duplicateOf: voiceId });
    expect(env.smallest.state.counts.clone - before).toBe(0);
  });

  it('retries a 500 voice_clone_timeout on the next delivery, after checking that no clone was made', async () => {
    env.smallest.injectFault({
      route: 'clone',
      type: 'status',
      status: 500,
      errorCode: 'voice_clone_timeout',
      times: 1,
    });
    const { voiceId, record } = await upload('incoming/smallest/provider-timeout.wav', uniqueWav());
    const before = env.smallest.state.counts.clone;
    const patient = pipeline({ lostAnswerGraceMs: 60_000 });
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), patient);
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await voice(voiceId)).toMatchObject({
      status: 'cloning',
      error: { code: 'provider_unavailable', retryable: true },
      processing: { cloneOutcomeUnknown: true, cloneAnswerLost: false },
    });
    // The provider answered (500), so the next delivery need not wait out the grace period.
    const logged: [string, Record<string, unknown> | undefined][] = [];
    const remember = (message: string, attributes?: Record<string, unknown>) =>
      logged.push([message, attributes]);
    const logger = { debug: remember, info: remember, warn: remember, error: remember };
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), { ...patient, logger });
    expect(second.batchItemFailures).toEqual([]);
    expect((await voice(voiceId)).status).toBe('ready');
    expect(env.smallest.state.counts.clone - before).toBe(2);
    // The final log line says the voice took a second delivery.
    expect(logged).toContainEqual([
      'voice status',
      expect.objectContaining({ voiceId, status: 'ready', attempts: 2 }),
    ]);
    const clones = [...env.smallest.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
    expect(clones).toHaveLength(1);
  });

  it('does not clone again while a request that got no answer may still be running at the provider', async () => {
    // No answer at all: the provider is slow and our 2 s deadline passes (it drops the clone at its end).
    env.smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 2_500, times: 1 });
    const patient = pipeline({ lostAnswerGraceMs: 60_000 });
    const { voiceId, record } = await upload('incoming/smallest/grace.wav', uniqueWav());
    const before = env.smallest.state.counts.clone;
    await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), patient);
    expect((await voice(voiceId)).processing).toMatchObject({
      cloneOutcomeUnknown: true,
      cloneAnswerLost: true,
    });
    const early = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), patient);
    expect(early.batchItemFailures).toHaveLength(1);
    expect(env.smallest.state.counts.clone - before).toBe(1);
    expect((await voice(voiceId)).error?.code).toBe('clone_pending');
    // Once the grace period is over (here: a pipeline without one), the clone is made.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await handleCloneEvent(sqsEvent(record(3)), lambdaContext(), env.dependencies);
    expect((await voice(voiceId)).status).toBe('ready');
    expect(env.smallest.state.counts.clone - before).toBe(2);
  });

  it("never mistakes another voice's Typecast clone of the same name for a lost one", async () => {
    const first = await upload('incoming/typecast/Twin.wav', uniqueWav());
    await handleCloneEvent(sqsEvent(first.record()), lambdaContext(), env.dependencies);
    const existing = (await voice(first.voiceId)).providerVoiceId;
    expect(existing).toMatch(/^uc_/);

    env.typecast.injectFault({ route: 'clone', type: 'status', status: 503, times: 1 });
    const second = await upload('incoming/typecast/sub/Twin.wav', uniqueWav());
    await handleCloneEvent(sqsEvent(second.record(1)), lambdaContext(), env.dependencies);
    await handleCloneEvent(sqsEvent(second.record(2)), lambdaContext(), env.dependencies);
    const stored = await voice(second.voiceId);
    expect(stored.status).toBe('ready');
    expect(stored.providerVoiceId).not.toBe(existing);
  });

  it('finds the clone a timed-out request created instead of cloning again', async () => {
    env.smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 2_500, completeClone: true, times: 1 });
    const { voiceId, record } = await upload('incoming/smallest/lost-answer.wav', uniqueWav());
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), env.dependencies);
    expect(first.batchItemFailures).toHaveLength(1);
    const tagged = () =>
      [...env.smallest.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
    for (let waited = 0; tagged().length === 0 && waited < 5_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = env.smallest.state.counts.clone;
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), env.dependencies);
    expect(second.batchItemFailures).toEqual([]);
    expect(env.smallest.state.counts.clone).toBe(before);
    expect(tagged()).toHaveLength(1);
    expect(await voice(voiceId)).toMatchObject({ status: 'ready', providerVoiceId: tagged()[0]?.voiceId });
  });

  it('deletes a stray clone that a lost request created after the new clone was asked for', async () => {
    // The first request's clone appears at 2.5 s, after its 2 s deadline; the retry starts at once
    // (no grace here) and its own clone takes 1.5 s, so the stray shows up while the retry runs.
    env.smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 2_500, completeClone: true, times: 1 });
    const { voiceId, record } = await upload('incoming/smallest/stray.wav', uniqueWav());
    await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), env.dependencies);
    env.smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 1_500, times: 1 });
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), env.dependencies);
    expect(second.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored.status).toBe('ready');
    const tagged = [...env.smallest.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
    expect(tagged.map((clone) => clone.voiceId)).toEqual([stored.providerVoiceId]);
  });

  it("settles a clone still processing when a lost request's stray shows up beside it, then deletes the stray", async () => {
    // As above, but the provider takes 3 s to finish each clone (it answers `pending`): while the retry
    // waits for its own clone, the list holds two clones with the record's tag. The one it is waiting
    // for is known by its id, so the stray neither hides it nor sends the voice to review.
    const slowToFinish = await startSmallestSimulator({
      cloneSlots: 1_000,
      deleteMode: 'lightning-large',
      cloneProcessingMs: 3_000,
    });
    try {
      const deps = pipeline({
        providers: {
          ...env.dependencies.providers,
          smallest: createProvider('smallest', {
            apiKey: createStaticKeyStore(KEYS, 'the test').supplier('smallest'),
            baseUrl: slowToFinish.url,
            timeoutMs: 2_000,
          }),
        },
      });
      slowToFinish.injectFault({
        route: 'clone',
        type: 'slow',
        delayMs: 2_500,
        completeClone: true,
        times: 1,
      });
      const { voiceId, record } = await upload('incoming/smallest/stray-pending.wav', uniqueWav());
      await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), deps);
      const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), deps);
      expect(second.batchItemFailures).toEqual([]);
      const stored = await voice(voiceId);
      expect(stored).toMatchObject({ status: 'ready' });
      expect(slowToFinish.state.counts.clone).toBe(2);
      const tagged = [...slowToFinish.state.clones.values()].filter((clone) => clone.tags.includes(voiceId));
      expect(tagged.map((clone) => clone.voiceId)).toEqual([stored.providerVoiceId]);
    } finally {
      await slowToFinish.close();
    }
  });

  it('records failed with an actionable reason when the clone limit is exceeded, and does not retry', async () => {
    const limited = await startSmallestSimulator({ cloneSlots: 0 });
    try {
      const keys = createStaticKeyStore(KEYS, 'the test');
      const deps = pipeline({
        providers: {
          ...env.dependencies.providers,
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
    expect(env.typecast.state.counts.clone).toBeGreaterThanOrEqual(0);
  });

  it('records a sample the provider cannot clone (voice_clone_error) as failed without retrying', async () => {
    env.smallest.injectFault({
      route: 'clone',
      type: 'status',
      status: 500,
      errorCode: 'voice_clone_error',
      times: 1,
    });
    const { voiceId, record } = await upload('incoming/smallest/noisy.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    expect(response.batchItemFailures).toEqual([]);
    expect(await voice(voiceId)).toMatchObject({ status: 'failed', error: { retryable: false } });
  });

  /** The next Smallest clone request is answered 200 with a clone in `status`. */
  const smallestAnswersClone = (voiceId: string, status: string) =>
    env.smallest.injectFault({
      route: 'clone',
      type: 'status',
      status: 200,
      body: {
        message: 'Voice clone created',
        data: { voiceId, displayName: 'x', status, model: 'lightning-v3.1', samples: [] },
      },
    });

  it('records failed when Smallest answers a clone whose status is "failed", and removes that clone', async () => {
    smallestAnswersClone('voice_failedclone1', 'failed');
    const deletesBefore = env.smallest.state.counts.delete;
    const { voiceId, record } = await upload('incoming/smallest/failed-status.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    expect(response.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored).toMatchObject({
      status: 'failed',
      error: { code: 'provider_bad_sample', retryable: false },
    });
    expect(stored.providerVoiceId).toBeUndefined();
    expect(env.smallest.state.counts.delete).toBe(deletesBefore + 1);
  });

  it('does not record ready a clone whose Smallest status is unexpected: it is looked up again', async () => {
    smallestAnswersClone('voice_oddstatus1', 'queued');
    const { voiceId, record } = await upload('incoming/smallest/odd-status.wav', uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    // Looked up again: the provider does not list it, so the upload is retried later, not made ready.
    expect(response.batchItemFailures).toHaveLength(1);
    const stored = await voice(voiceId);
    expect(stored).toMatchObject({ status: 'cloning', error: { code: 'clone_vanished', retryable: true } });
    expect(stored.providerVoiceId).toBeUndefined();
  });

  it('reports a provider outage as a batch item failure and finishes on the next delivery', async () => {
    env.typecast.injectFault({ route: '*', type: 'status', status: 503, times: 20 });
    const { voiceId, record } = await upload('incoming/typecast/outage.wav', uniqueWav());
    const first = await handleCloneEvent(sqsEvent(record(1)), lambdaContext(), env.dependencies);
    expect(first.batchItemFailures).toHaveLength(1);
    expect((await voice(voiceId)).error?.retryable).toBe(true);
    env.typecast.clearFaults();
    const second = await handleCloneEvent(sqsEvent(record(2)), lambdaContext(), env.dependencies);
    expect(second.batchItemFailures).toEqual([]);
    expect((await voice(voiceId)).status).toBe('ready');
    const clones = [...env.typecast.state.clones.values()].filter((clone) => clone.name === 'outage');
    expect(clones).toHaveLength(1);
  });
});
