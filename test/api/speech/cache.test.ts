import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api/app';
import { voiceCachePrefix } from '../../../functions/api/speech/synthesis-cache';
import { ProviderError } from '../../../functions/shared/providers/errors';
import type { VoiceProvider } from '../../../functions/shared/providers/types';
import { collectAfterResponse } from '../../support/after-response';
import { startPipelineFixture } from '../../support/pipeline-fixture';
import { wavDuration } from '../api-support';

// The synthesis cache and usage, against s3rver, dynalite and the provider simulators over HTTP.
let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let app: ReturnType<typeof createApiApp>;
const voiceIds = { smallest: '', typecast: '', other: '' };

beforeAll(async () => {
  fixture = await startPipelineFixture();
  // Every lookup goes to S3 here; the tier in memory has a test of its own below.
  app = createApiApp(fixture.apiDependencies({ recentPieces: false }));
  voiceIds.smallest = await fixture.cloneVoice('incoming/smallest/Cached.wav');
  voiceIds.typecast = await fixture.cloneVoice('incoming/typecast/Cached.wav');
  voiceIds.other = await fixture.cloneVoice('incoming/smallest/Other.wav');
}, 60_000);

afterAll(async () => {
  await fixture?.stop();
});

type Provider = 'smallest' | 'typecast';

/** What the routes leave for after their responses (usage), as the streaming adapter collects it. */
const after = collectAfterResponse();
const settled = after.settled;

const speak = async (voiceId: string, body: Record<string, unknown>, target = app) => {
  await settled();
  return target.request(
    `/voices/${voiceId}/speech`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) },
    undefined,
    after.executionContext,
  );
};

function speechRequests(provider: Provider): number {
  return fixture[provider].state.requests.filter((request) => request.route === 'speech').length;
}

/** Ten sentences, each its own piece; `edit` changes one word of sentence `edited`. */
function story(seed: string, edited?: number): string {
  return Array.from(
    { length: 10 },
    (_, index) =>
      `In chapter ${index} of the ${seed} story the ${index === edited ? 'purple' : 'green'} river runs north again.`,
  ).join(' ');
}

async function cachedKeys(voiceId: string): Promise<string[]> {
  const listed = await fixture.local.s3.send(
    new ListObjectsV2Command({ Bucket: fixture.bucket, Prefix: voiceCachePrefix(voiceId) }),
  );
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

describe.each(['smallest', 'typecast'] as const)('synthesis cache (%s)', (provider) => {
  it('speaks a repeated text from the cache and an edited one with exactly one provider request', async () => {
    const voiceId = voiceIds[provider];
    const text = story(provider);

    let before = speechRequests(provider);
    const first = await speak(voiceId, { text });
    const firstAudio = new Uint8Array(await first.arrayBuffer());
    expect(first.headers.get('x-cache')).toBe('miss');
    expect(speechRequests(provider) - before).toBe(10);
    expect(first.headers.get('content-length')).toBeNull();

    before = speechRequests(provider);
    const again = await speak(voiceId, { text });
    const againAudio = new Uint8Array(await again.arrayBuffer());
    expect(again.headers.get('x-cache')).toBe('hit');
    expect(speechRequests(provider) - before).toBe(0);
    // Whole from the cache, so its size is known: a WAV with exact sizes, the same samples.
    expect(Number(again.headers.get('content-length'))).toBe(againAudio.length);
    expect(await wavDuration(againAudio)).toBeCloseTo(await wavDuration(firstAudio), 2);

    before = speechRequests(provider);
    const edited = await speak(voiceId, { text: story(provider, 4) });
    await edited.arrayBuffer();
    expect(edited.headers.get('x-cache')).toBe('partial');
    expect(speechRequests(provider) - before).toBe(1);

    before = speechRequests(provider);
    const bypassed = await speak(voiceId, { text, cache: false });
    await bypassed.arrayBuffer();
    expect(bypassed.headers.get('x-cache')).toBe('miss');
    expect(speechRequests(provider) - before).toBe(10);
  });

  it('keys pieces by every parameter: another format or speed is not a hit', async () => {
    const voiceId = voiceIds[provider];
    const text = `A line spoken once for the ${provider} parameter test, and only once.`;
    await (await speak(voiceId, { text })).arrayBuffer();
    const mp3 = await speak(voiceId, { text, format: 'mp3' });
    await mp3.arrayBuffer();
    expect(mp3.headers.get('x-cache')).toBe('miss');
    const faster = await speak(voiceId, { text, speed: 1.5 });
    await faster.arrayBuffer();
    expect(faster.headers.get('x-cache')).toBe('miss');
    const same = await speak(voiceId, { text, format: 'mp3' });
    await same.arrayBuffer();
    expect(same.headers.get('x-cache')).toBe('hit');
  });
});

describe('synthesis cache in memory (a warm instance)', () => {
  it('speaks a repeated text with no S3 request, and a fresh instance still finds it in S3', async () => {
    const cacheReads: string[] = [];
    fixture.local.s3.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        if (key.startsWith('cache/')) cacheReads.push(`${context.commandName} ${key}`);
        return next(args);
      },
      { step: 'initialize', name: 'countCacheReads' },
    );
    try {
      const warm = createApiApp(fixture.apiDependencies());
      const text = story('warm');
      await (await speak(voiceIds.smallest, { text }, warm)).arrayBuffer();
      const writes = cacheReads.filter((read) => read.startsWith('PutObject')).length;
      expect(writes).toBe(10);

      cacheReads.length = 0;
      const before = speechRequests('smallest');
      const again = await speak(voiceIds.smallest, { text }, warm);
      await again.arrayBuffer();
      expect(again.headers.get('x-cache')).toBe('hit');
      expect(cacheReads).toEqual([]);
      expect(speechRequests('smallest') - before).toBe(0);

      const cold = await speak(voiceIds.smallest, { text }, createApiApp(fixture.apiDependencies()));
      await cold.arrayBuffer();
      expect(cold.headers.get('x-cache')).toBe('hit');
      // The first four pieces fetched whole, the other six asked about (HEAD) and then read.
      const reads = (command: string) => cacheReads.filter((read) => read.startsWith(command)).length;
      expect([reads('GetObject'), reads('HeadObject')]).toEqual([10, 6]);
      expect(speechRequests('smallest') - before).toBe(0);
    } finally {
      fixture.local.s3.middlewareStack.remove('countCacheReads');
    }
  });
});

describe('synthesis cache and voices', () => {
  it('never serves one voice the cached speech of another', async () => {
    const text = 'Only the first voice has said this sentence before now.';
    await (await speak(voiceIds.smallest, { text })).arrayBuffer();
    const before = speechRequests('smallest');
    const other = await speak(voiceIds.other, { text });
    await other.arrayBuffer();
    expect(other.headers.get('x-cache')).toBe('miss');
    expect(speechRequests('smallest') - before).toBe(1);
  });

  it('counts usage per voice: requests, characters, provider characters, cache hits', async () => {
    const voiceId = await fixture.cloneVoice('incoming/typecast/Counted.wav');
    const text = story('counted');
    const characters = [...text].length;
    await (await speak(voiceId, { text })).arrayBuffer();
    await (await speak(voiceId, { text })).arrayBuffer();
    const edited = story('counted', 2);
    await (await speak(voiceId, { text: edited })).arrayBuffer();
    const editedPiece = `In chapter 2 of the counted story the purple river runs north again.`;

    // Usage is recorded after each response has ended.
    await settled();
    const answer = await app.request(`/voices/${voiceId}`);
    const voice = (await answer.json()) as { usage: Record<string, unknown> };
    expect(voice.usage).toEqual({
      requests: 3,
      characters: characters * 2 + [...edited].length,
      // What the provider is sent: each piece once, without the spaces between sentences.
      providerCharacters: characters - 9 + [...editedPiece].length,
      cacheHits: 1,
      lastUsedAt: expect.any(String),
    });
  });

  it('deletes a voice’s cached speech with the voice and says how much', async () => {
    const voiceId = await fixture.cloneVoice('incoming/smallest/Forgotten.wav');
    await (await speak(voiceId, { text: story('forgotten') })).arrayBuffer();
    expect(await cachedKeys(voiceId)).toHaveLength(10);

    const deleted = await app.request(`/voices/${voiceId}`, { method: 'DELETE' });
    const body = (await deleted.json()) as { deletion: { cachedObjectsDeleted: number } };

    expect(body.deletion.cachedObjectsDeleted).toBe(10);
    expect(await cachedKeys(voiceId)).toEqual([]);
  });
});

describe('streamed speech', () => {
  it('ends the body early (the client can tell) when a later piece fails, and caches what was made', async () => {
    const real = fixture.providers.smallest;
    let calls = 0;
    // Fault injection at the provider interface: the simulator cannot fail the third request of one text.
    const failing: VoiceProvider = Object.assign(Object.create(real) as VoiceProvider, {
      synthesizeStream: async (...args: Parameters<VoiceProvider['synthesizeStream']>) => {
        calls += 1;
        if (calls === 3) {
          throw new ProviderError({ provider: 'smallest', kind: 'unavailable', message: 'injected' });
        }
        return real.synthesizeStream(...args);
      },
    });
    const failingApp = createApiApp(
      fixture.apiDependencies({ providers: { ...fixture.providers, smallest: failing } }),
    );
    const text = story('interrupted');

    const response = await speak(voiceIds.smallest, { text }, failingApp);

    // The first piece was there: the status is 200, and the failure shows as a body that does not end well.
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
    const again = await speak(voiceIds.smallest, { text });
    await again.arrayBuffer();
    expect(again.headers.get('x-cache')).toBe('partial');
  });

  it('answers the usual error status when the first piece fails, before any audio', async () => {
    fixture.smallest.injectFault({ route: 'speech', type: 'status', status: 402, times: 1 });
    const response = await speak(voiceIds.smallest, { text: 'Nobody has ever asked for this sentence.' });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.headers.get('content-type')).toMatch(/json/);
    fixture.smallest.clearFaults();
  });
});
