import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCloneEvent } from '../../functions/clone/batch';
import type { ClonePipelineDependencies } from '../../functions/clone/dependencies';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { createProvider } from '../../functions/shared/providers/registry';
import { ProviderSlots } from '../../functions/shared/providers/slots';
import { type SmallestSimulator, startSmallestSimulator } from '../../simulators/smallest/simulator';
import { lambdaContext, sqsEvent } from '../support/aws-local';
import { KEYS, TABLE, useClonePipeline } from './pipeline-support';

// Uploads that wait: for a provider slot, or for a Smallest clone that is still processing.
const { env, uniqueWav, pipeline, upload, voice } = useClonePipeline();

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
    env.smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 150, times: 4 });
    env.typecast.injectFault({ route: 'clone', type: 'slow', delayMs: 150, times: 4 });
    const { peak, dependencies: limited } = counting(
      pipeline({
        slots: new ProviderSlots(env.local.dynamo, TABLE, { smallest: 1, typecast: 2 }),
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
    const slots = new ProviderSlots(env.local.dynamo, TABLE, { smallest: 1, typecast: 1 });
    const held = await slots.acquire('smallest', {
      holder: 'someone-else',
      leaseUntil: Date.now() + 60_000,
      waitMs: 0,
    });
    const { voiceId, record } = await upload('incoming/smallest/busy.wav', uniqueWav());
    const before = env.smallest.state.counts.clone;

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
    expect(env.smallest.state.counts.clone).toBe(before);
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
    // An invocation whose clock runs 100 times faster than real time: out of time after the first look
    // (at least half a second away, CLONE_POLL_BACKOFF), before the clone is done.
    const started = Date.now();
    const hurried = {
      awsRequestId: 'hurried',
      getRemainingTimeInMillis: () => 47_000 - 100 * (Date.now() - started),
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
