import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../functions/shared/providers/errors';
import { createProvider } from '../../functions/shared/providers/registry';
import type { CloneRequest, ProviderClientOptions } from '../../functions/shared/providers/types';
import {
  type SmallestSimulator,
  type SmallestSimulatorOptions,
  startSmallestSimulator,
} from '../../simulators/smallest/simulator';
import { makeMp3, makeWav } from '../support/audio';

const KEY = 'sk_test_simulator';
const simulators: SmallestSimulator[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
});

async function setup(
  simulatorOptions: SmallestSimulatorOptions = {},
  clientOptions: Partial<ProviderClientOptions> = {},
) {
  const simulator = await startSmallestSimulator(simulatorOptions);
  simulators.push(simulator);
  const provider = createProvider('smallest', {
    apiKey: async () => KEY,
    baseUrl: simulator.url,
    timeoutMs: 2_000,
    retry: { baseDelayMs: 40, maxDelayMs: 200 },
    ...clientOptions,
  });
  return { simulator, provider };
}

const SAMPLE = makeWav({ durationSec: 6, sampleRate: 16_000 });

function cloneRequest(overrides: Partial<CloneRequest> = {}): CloneRequest {
  return {
    audio: SAMPLE,
    format: 'wav',
    displayName: 'Alice',
    model: 'lightning-v3.1',
    language: 'en',
    description: 'Test voice',
    accent: 'general',
    tags: ['friendly', 'test'],
    voiceRecordId: 'vc_abcdefghijklmnopqrstuvwxyz',
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('Smallest client: clone', () => {
  it('sends every field as multipart with a bearer key, and the record id among the tags', async () => {
    const { simulator, provider } = await setup();

    const voice = await provider.cloneVoice(cloneRequest());

    const [request] = simulator.state.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/waves/v1/voice-cloning' });
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.fields).toEqual({
      displayName: 'Alice',
      model: 'lightning-v3.1',
      language: 'en',
      description: 'Test voice',
      accent: 'general',
      tags: 'friendly,test,vc_abcdefghijklmnopqrstuvwxyz',
    });
    expect(request?.files).toEqual([
      {
        fieldName: 'file',
        filename: 'sample.wav',
        mimeType: 'audio/wav',
        size: SAMPLE.byteLength,
        truncated: false,
      },
    ]);
    expect(simulator.state.clones.get(voice.providerVoiceId)?.tags).toContain(
      'vc_abcdefghijklmnopqrstuvwxyz',
    );
  });

  it('names and types the file after the detected format, not the upload', async () => {
    const { simulator, provider } = await setup();

    await provider.cloneVoice(
      cloneRequest({ audio: makeMp3({ durationSec: 6, sampleRate: 16_000 }), format: 'mp3' }),
    );

    expect(simulator.state.requests[0]?.files[0]).toMatchObject({
      filename: 'sample.mp3',
      mimeType: 'audio/mpeg',
    });
  });

  it('maps the answer, taking the model name out of the model document, with the preview samples', async () => {
    const { provider } = await setup();

    const voice = await provider.cloneVoice(cloneRequest());

    expect(voice).toMatchObject({
      displayName: 'Alice',
      model: 'lightning-v3.1',
      language: 'en',
      status: 'completed',
    });
    expect(voice.providerVoiceId).toMatch(/^voice_/);
    expect(voice.samples).toHaveLength(2);
    expect(voice.samples[0]?.audioUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sim\/samples\/voice_/);
  });

  it('throws voice_clone_timeout as a retryable unavailable error without cloning a second time', async () => {
    const { simulator, provider } = await setup();
    simulator.injectFault({ route: 'clone', type: 'status', status: 500, errorCode: 'voice_clone_timeout' });

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({
      kind: 'unavailable',
      retryable: true,
      outcomeUnknown: true,
      providerCode: 'voice_clone_timeout',
      statusCode: 500,
    });
    expect(simulator.state.counts.clone).toBe(1);
  });

  it('throws voice_clone_error as a bad sample that is not worth retrying', async () => {
    const { simulator, provider } = await setup();
    simulator.injectFault({ route: 'clone', type: 'status', status: 500, errorCode: 'voice_clone_error' });

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({ kind: 'bad_sample', retryable: false, providerCode: 'voice_clone_error' });
    expect(error.message).toContain('try a cleaner sample');
    expect(simulator.state.counts.clone).toBe(1);
  });

  it('treats an unreadable upload as a bad sample (the provider answers voice_clone_error)', async () => {
    const { provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ audio: new Uint8Array(4096).fill(7) })));

    expect(error).toMatchObject({ kind: 'bad_sample', providerCode: 'voice_clone_error' });
  });

  it('reports a full account as quota_exceeded, telling the user to delete clones or upgrade', async () => {
    const { provider } = await setup({ cloneSlots: 1 });
    await provider.cloneVoice(cloneRequest());

    const error = await failureOf(provider.cloneVoice(cloneRequest({ voiceRecordId: 'vc_second' })));

    expect(error).toMatchObject({ kind: 'quota_exceeded', retryable: false, statusCode: 400 });
    expect(error.message).toMatch(/delete clones.*upgrade/);
  });

  it('passes the provider’s own words for an unsupported language', async () => {
    const { provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ language: 'xx' })));

    expect(error).toMatchObject({ kind: 'invalid_request', retryable: false });
    expect(error.message).toContain('Invalid language. Supported: en, hi');
  });

  it('passes the deprecation message for lightning-v2', async () => {
    const { provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ model: 'lightning-v2' })));

    expect(error.kind).toBe('invalid_request');
    expect(error.message).toContain(
      'Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1',
    );
  });

  it('rejects audio outside 5–15 s as the provider does, by its own measurement', async () => {
    const { provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ audio: makeWav({ durationSec: 3 }) })));

    expect(error.kind).toBe('invalid_request');
    expect(error.message).toContain('between 5 and 15 seconds');
  });

  it('retries a 429 and honours Retry-After, cloning exactly once', async () => {
    const { simulator, provider } = await setup({}, { retry: { baseDelayMs: 5, maxDelayMs: 2_000 } });
    simulator.injectFault({ route: 'clone', type: 'status', status: 429, retryAfterSec: 1 });
    const started = Date.now();

    await provider.cloneVoice(cloneRequest());

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(simulator.state.counts.clone).toBe(2);
    expect(simulator.state.rateLimited).toBe(1);
    expect(simulator.state.clones.size).toBe(1);
  });

  it('times out a slow clone as outcome-unknown while the provider still creates it, and findClone finds it', async () => {
    const { simulator, provider } = await setup({}, { timeoutMs: 150 });
    simulator.injectFault({ route: 'clone', type: 'slow', delayMs: 400, completeClone: true });
    const startedAt = new Date();

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({ kind: 'timeout', retryable: true, outcomeUnknown: true });
    expect(simulator.state.counts.clone).toBe(1);
    await vi.waitFor(() => expect(simulator.state.clones.size).toBe(1), { timeout: 2_000 });
    const lookup = await provider.findClone({
      voiceRecordId: 'vc_abcdefghijklmnopqrstuvwxyz',
      displayName: 'Alice',
      model: 'lightning-v3.1',
      startedAt,
    });
    expect(lookup.outcome).toBe('found');
  });

  it('does not create the clone when the client left a slow request without completeClone', async () => {
    const { simulator, provider } = await setup({}, { timeoutMs: 100 });
    simulator.injectFault({ route: 'clone', type: 'slow', delayMs: 250 });

    await failureOf(provider.cloneVoice(cloneRequest()));
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(simulator.state.clones.size).toBe(0);
  });

  it('reports a dropped connection on a clone as outcome-unknown, without a second attempt', async () => {
    const { simulator, provider } = await setup();
    simulator.injectFault({ route: 'clone', type: 'drop', completeClone: true });

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({ kind: 'network', outcomeUnknown: true });
    expect(simulator.state.counts.clone).toBe(1);
    expect(simulator.state.clones.size).toBe(1);
  });

  it('never retries a clone the caller aborted', async () => {
    const { simulator, provider } = await setup();
    simulator.injectFault({ route: 'clone', type: 'hang' });

    const error = await failureOf(provider.cloneVoice(cloneRequest(), { signal: AbortSignal.timeout(100) }));

    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
    expect(simulator.state.counts.clone).toBe(1);
  });
});

describe('Smallest client: findClone', () => {
  const hint = {
    voiceRecordId: 'vc_target',
    displayName: 'Alice',
    model: 'lightning-v3.1',
    startedAt: new Date(),
  };

  it('reports absent when no clone carries the record id (the list is complete)', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_other'] });

    expect(await provider.findClone(hint)).toEqual({ outcome: 'absent' });
  });

  it('finds the one clone tagged with the record id, whatever its name', async () => {
    const { simulator, provider } = await setup();
    const seeded = simulator.seedClone({ displayName: 'Renamed', tags: ['a', 'vc_target'] });

    const lookup = await provider.findClone(hint);

    expect(lookup).toMatchObject({ outcome: 'found', voice: { providerVoiceId: seeded.voiceId } });
  });

  it('reports ambiguous when two clones carry the record id', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_target'] });
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_target'] });

    const lookup = await provider.findClone(hint);

    expect(lookup.outcome).toBe('ambiguous');
    if (lookup.outcome === 'ambiguous') expect(lookup.reason).toContain('2 Smallest AI Waves clones');
  });
});

describe('Smallest client: speech', () => {
  async function withVoice(simulatorOptions: SmallestSimulatorOptions = {}) {
    const context = await setup(simulatorOptions);
    const voice = context.simulator.seedClone({ displayName: 'Alice' });
    return { ...context, voiceId: voice.voiceId };
  }

  it('asks the unified route for an explicit format and sample rate, with Accept: audio/wav', async () => {
    const { simulator, provider, voiceId } = await withVoice();

    const speech = await provider.synthesize({
      providerVoiceId: voiceId,
      text: 'Hello',
      format: 'mp3',
      model: 'lightning-v3.1-pro',
    });

    const request = simulator.state.requests.at(-1);
    expect(request?.path).toBe('/waves/v1/tts');
    expect(request?.headers.accept).toBe('audio/wav');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.json).toEqual({
      text: 'Hello',
      voice_id: voiceId,
      model: 'lightning_v3.1_pro',
      output_format: 'mp3',
      sample_rate: 44_100,
    });
    // Labelled audio/wav by the provider; the client trusts what it asked for.
    expect(speech).toMatchObject({ format: 'mp3', contentType: 'audio/mpeg' });
    expect(speech.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('passes speed, language and a chosen sample rate through', async () => {
    const { simulator, provider, voiceId } = await withVoice();

    await provider.synthesize({
      providerVoiceId: voiceId,
      text: 'Hola',
      format: 'wav',
      model: 'lightning-v3.1',
      language: 'es',
      speed: 1.25,
      sampleRate: 24_000,
    });

    expect(simulator.state.requests.at(-1)?.json).toMatchObject({
      language: 'es',
      speed: 1.25,
      sample_rate: 24_000,
    });
  });

  it('falls back to the model route when the unified one is missing, and remembers it', async () => {
    const { simulator, provider, voiceId } = await withVoice({ speechRoutes: ['model'] });
    const request = { providerVoiceId: voiceId, text: 'Hi', format: 'wav', model: 'lightning-v3.1' } as const;

    await provider.synthesize(request);
    await provider.synthesize(request);

    expect(simulator.state.requests.map((entry) => entry.path)).toEqual([
      '/waves/v1/tts',
      '/waves/v1/lightning-v3.1/get_speech',
      '/waves/v1/lightning-v3.1/get_speech',
    ]);
    expect(simulator.state.requests.at(-1)?.json).toMatchObject({
      output_format: 'wav',
      sample_rate: 44_100,
    });
  });

  it('falls back to the unified route when the remembered model route answers 410', async () => {
    const { simulator, provider, voiceId } = await withVoice();
    const request = { providerVoiceId: voiceId, text: 'Hi', format: 'wav', model: 'lightning-v3.1' } as const;
    simulator.injectFault({ route: 'speech', type: 'status', status: 404, body: { error: 'Not Found' } });
    await provider.synthesize(request);
    simulator.injectFault({ route: 'speech', type: 'status', status: 410 });

    await provider.synthesize(request);

    expect(simulator.state.requests.map((entry) => `${entry.path} ${entry.status}`)).toEqual([
      '/waves/v1/tts 404',
      '/waves/v1/lightning-v3.1/get_speech 200',
      '/waves/v1/lightning-v3.1/get_speech 410',
      '/waves/v1/tts 200',
    ]);
  });

  it('explains the tiny empty WAV of a lightning-large-only clone as an incompatible voice', async () => {
    const { simulator, provider } = await setup();
    const legacy = simulator.seedClone({ displayName: 'Old', modelIds: ['lightning-large'] });

    const error = await failureOf(
      provider.synthesize({
        providerVoiceId: legacy.voiceId,
        text: 'Hello',
        format: 'wav',
        model: 'lightning-v3.1',
      }),
    );

    expect(error).toMatchObject({ kind: 'incompatible_voice', retryable: false });
    expect(error.message).toContain('lightning-large');
  });

  it('reports an unknown cloned voice (zod issue "Invalid Voice ID") as not found', async () => {
    const { provider } = await setup();

    const error = await failureOf(
      provider.synthesize({
        providerVoiceId: 'voice_missing',
        text: 'Hi',
        format: 'wav',
        model: 'lightning-v3.1',
      }),
    );

    expect(error).toMatchObject({ kind: 'not_found', statusCode: 400 });
    expect(error.message).toContain('voice_id: Invalid Voice ID');
  });

  it('waits out the one-request concurrency limit: the second request gets 429 and is retried', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { simulator, provider, voiceId } = await withVoice({ speechLatencyMs: 50, retryAfterSec: 0 });
    const request = { providerVoiceId: voiceId, text: 'Hi', format: 'wav', model: 'lightning-v3.1' } as const;

    const results = await Promise.all([provider.synthesize(request), provider.synthesize(request)]);

    expect(results).toHaveLength(2);
    expect(simulator.state.rateLimited).toBeGreaterThanOrEqual(1);
  });

  it('never retries speech the caller aborted', async () => {
    const { simulator, provider, voiceId } = await withVoice();
    simulator.injectFault({ route: 'speech', type: 'hang' });

    const error = await failureOf(
      provider.synthesize(
        { providerVoiceId: voiceId, text: 'Hi', format: 'wav', model: 'lightning-v3.1' },
        { signal: AbortSignal.timeout(80) },
      ),
    );

    expect(error.kind).toBe('aborted');
    expect(simulator.state.counts.speech).toBe(1);
  });
});

describe('Smallest client: delete', () => {
  it('deletes through the guide’s route and treats an unknown voice as deleted', async () => {
    const { simulator, provider } = await setup({ deleteMode: 'lightning-large' });
    const voice = simulator.seedClone({ displayName: 'Alice' });

    expect(await provider.deleteVoice(voice.voiceId)).toEqual({ deleted: true });
    expect(await provider.deleteVoice(voice.voiceId)).toEqual({ deleted: true });
    expect(simulator.state.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /waves/v1/lightning-large',
      'DELETE /waves/v1/lightning-large',
    ]);
    expect(simulator.state.requests[0]?.json).toEqual({ voiceId: voice.voiceId });
  });

  it('falls back to the newer route when the guide’s answers 410, and remembers it', async () => {
    const { simulator, provider } = await setup({ deleteMode: 'new-route' });
    const first = simulator.seedClone({ displayName: 'One' });
    const second = simulator.seedClone({ displayName: 'Two' });

    expect(await provider.deleteVoice(first.voiceId)).toEqual({ deleted: true });
    expect(await provider.deleteVoice(second.voiceId)).toEqual({ deleted: true });
    expect(simulator.state.clones.size).toBe(0);
    expect(simulator.state.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /waves/v1/lightning-large',
      'POST /waves/v1/voice-cloning/delete',
      'POST /waves/v1/voice-cloning/delete',
    ]);
  });

  it('says honestly that the API key cannot delete, and where to delete instead', async () => {
    const { simulator, provider } = await setup({ deleteMode: 'api-key-refused' });
    const voice = simulator.seedClone({ displayName: 'Alice' });

    const result = await provider.deleteVoice(voice.voiceId);

    expect(result.deleted).toBe(false);
    expect(result.detail).toBe(
      `Smallest does not allow deleting clones with an API key; delete voice ${voice.voiceId} in the Smallest dashboard (app.smallest.ai → Voice cloning).`,
    );
    expect(simulator.state.clones.has(voice.voiceId)).toBe(true);
  });

  it('reports a voice the refusing route cannot delete as deleted when the list no longer has it', async () => {
    const { provider } = await setup({ deleteMode: 'api-key-refused' });

    expect(await provider.deleteVoice('voice_gone')).toEqual({ deleted: true });
  });
});

describe('Smallest client: keys', () => {
  it('fetches the key again once after a 401 and succeeds with the rotated key', async () => {
    const apiKey = vi.fn(async (options?: { refresh?: boolean }) =>
      options?.refresh ? KEY : 'sk_rotated_away',
    );
    const { simulator, provider } = await setup({}, { apiKey });

    const lookup = await provider.findClone({
      voiceRecordId: 'vc_x',
      displayName: 'A',
      model: 'lightning-v3.1',
      startedAt: new Date(),
    });

    expect(lookup.outcome).toBe('absent');
    expect(apiKey.mock.calls).toEqual([[], [{ refresh: true }]]);
    expect(simulator.state.counts.list).toBe(2);
  });
});
