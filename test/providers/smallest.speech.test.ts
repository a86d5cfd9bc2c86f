import { describe, expect, it, vi } from 'vitest';
import type { SmallestSimulatorOptions } from '../../simulators/smallest/simulator';
import { clientHarness, failureOf } from './client-harness';

const { setup } = clientHarness('smallest');

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
