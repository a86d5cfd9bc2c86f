import { describe, expect, it, vi } from 'vitest';
import type { TypecastSimulatorOptions } from '../../simulators/typecast/simulator';
import { makeWav } from '../support/audio';
import { clientHarness, failureOf } from './client-harness';

const { cloneRequest, KEY, setup } = clientHarness('typecast');

describe('Typecast client: clone', () => {
  it('sends file, name and model as multipart with the X-API-KEY header', async () => {
    const { simulator, provider } = await setup();

    const voice = await provider.cloneVoice(cloneRequest());

    const [request] = simulator.state.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/voices/clone' });
    expect(request?.headers['x-api-key']).toBe(KEY);
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.fields).toEqual({ name: 'Alice', model: 'ssfm-v30' });
    expect(voice).toMatchObject({ displayName: 'Alice', model: 'ssfm-v30', samples: [] });
    expect(voice.providerVoiceId).toMatch(/^uc_[0-9a-f]{24}$/);
  });

  it('refuses formats Typecast does not take before sending anything', async () => {
    const { simulator, provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ format: 'webm' })));

    expect(error.kind).toBe('invalid_request');
    expect(simulator.state.counts.clone).toBe(0);
  });

  it('reports a name over 30 code points with FastAPI’s own words', async () => {
    const { provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ displayName: '🎙'.repeat(31) })));

    expect(error).toMatchObject({ kind: 'invalid_request', statusCode: 422, retryable: false });
    expect(error.message).toContain('name: String should have at most 30 characters');
  });

  it('accepts 30 emoji: the limit counts code points, not UTF-16 units', async () => {
    const { provider } = await setup();

    await expect(provider.cloneVoice(cloneRequest({ displayName: '🎙'.repeat(30) }))).resolves.toBeDefined();
  });

  it('reports audio under 5 s as a bad sample, measured by the provider', async () => {
    const { provider } = await setup();

    const error = await failureOf(provider.cloneVoice(cloneRequest({ audio: makeWav({ durationSec: 3 }) })));

    expect(error).toMatchObject({ kind: 'bad_sample', statusCode: 400, retryable: false });
  });

  it('reports unreadable audio as a bad sample', async () => {
    const { provider } = await setup();

    const error = await failureOf(
      provider.cloneVoice(cloneRequest({ audio: new TextEncoder().encode('not audio') })),
    );

    expect(error.kind).toBe('bad_sample');
    expect(error.message).toContain('could not read the sample');
  });

  it('reports full custom voice slots as quota_exceeded', async () => {
    const { provider } = await setup({ cloneSlots: 1 });
    await provider.cloneVoice(cloneRequest());

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({ kind: 'quota_exceeded', statusCode: 403 });
  });

  it('reports a plan without cloning as forbidden, with what to do', async () => {
    const { provider } = await setup({ cloningAvailable: false });

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({ kind: 'forbidden', statusCode: 403, retryable: false });
    expect(error.message).toMatch(/upgrade/);
  });

  it('retries a clone after 429 and clones once', async () => {
    const { simulator, provider } = await setup();
    simulator.injectFault({ route: 'clone', type: 'status', status: 429 });

    await provider.cloneVoice(cloneRequest());

    expect(simulator.state.counts.clone).toBe(2);
    expect(simulator.state.clones.size).toBe(1);
  });

  it('throws a 500 on a clone at once as outcome-unknown', async () => {
    const { simulator, provider } = await setup();
    simulator.injectFault({ route: 'clone', type: 'status', status: 500 });

    const error = await failureOf(provider.cloneVoice(cloneRequest()));

    expect(error).toMatchObject({ kind: 'unavailable', outcomeUnknown: true, retryable: true });
    expect(simulator.state.counts.clone).toBe(1);
  });
});

describe('Typecast client: speech', () => {
  async function withVoice(
    model: 'ssfm-v30' | 'ssfm-v21' = 'ssfm-v30',
    options: TypecastSimulatorOptions = {},
  ) {
    const context = await setup(options);
    const voice = context.simulator.seedClone({ name: 'Alice', model });
    return { ...context, voiceId: voice.voice_id };
  }

  it('sends a v30 prompt with emotion_type, the output format and tempo, and an ISO 639-3 language', async () => {
    const { simulator, provider, voiceId } = await withVoice('ssfm-v30');

    const speech = await provider.synthesize({
      providerVoiceId: voiceId,
      text: 'Hello',
      format: 'mp3',
      model: 'ssfm-v30',
      language: 'en',
      speed: 1.2,
    });

    expect(simulator.state.requests.at(-1)?.json).toEqual({
      voice_id: voiceId,
      text: 'Hello',
      model: 'ssfm-v30',
      language: 'eng',
      prompt: { emotion_type: 'preset', emotion_preset: 'normal', emotion_intensity: 1 },
      output: { audio_format: 'mp3', audio_tempo: 1.2 },
    });
    expect(simulator.state.requests.at(-1)?.headers['x-api-key']).toBe(KEY);
    expect(speech).toMatchObject({ format: 'mp3', contentType: 'audio/mpeg' });
  });

  it('sends the v21 prompt without emotion_type and leaves an unknown language to auto-detection', async () => {
    const { simulator, provider, voiceId } = await withVoice('ssfm-v21');

    await provider.synthesize({
      providerVoiceId: voiceId,
      text: 'Hi',
      format: 'wav',
      model: 'ssfm-v21',
      language: 'xx',
    });

    expect(simulator.state.requests.at(-1)?.json).toEqual({
      voice_id: voiceId,
      text: 'Hi',
      model: 'ssfm-v21',
      prompt: { emotion_preset: 'normal', emotion_intensity: 1 },
      output: { audio_format: 'wav' },
    });
  });

  it('reports an unknown voice as not found', async () => {
    const { provider } = await setup();

    const error = await failureOf(
      provider.synthesize({
        providerVoiceId: 'uc_000000000000000000000000',
        text: 'Hi',
        format: 'wav',
        model: 'ssfm-v30',
      }),
    );

    expect(error).toMatchObject({ kind: 'not_found', statusCode: 404 });
  });

  it('reports text with nothing to speak as an invalid request with the provider code', async () => {
    const { provider, voiceId } = await withVoice();

    const error = await failureOf(
      provider.synthesize({ providerVoiceId: voiceId, text: '…', format: 'wav', model: 'ssfm-v30' }),
    );

    expect(error).toMatchObject({ kind: 'invalid_request', providerCode: 'TEXT_NOT_SYNTHESIZABLE' });
  });

  it('reports an account out of credits as quota_exceeded', async () => {
    const { provider, voiceId } = await withVoice('ssfm-v30', { creditCharacters: 3 });

    const error = await failureOf(
      provider.synthesize({ providerVoiceId: voiceId, text: 'Hello', format: 'wav', model: 'ssfm-v30' }),
    );

    expect(error).toMatchObject({ kind: 'quota_exceeded', statusCode: 402 });
  });

  it('rides out the plan’s concurrency limit: excess requests get 429 and are retried', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { simulator, provider, voiceId } = await withVoice('ssfm-v30', { speechLatencyMs: 50 });
    const request = { providerVoiceId: voiceId, text: 'Hi', format: 'wav', model: 'ssfm-v30' } as const;

    await Promise.all([
      provider.synthesize(request),
      provider.synthesize(request),
      provider.synthesize(request),
    ]);

    expect(simulator.state.rateLimited).toBeGreaterThanOrEqual(1);
    expect(simulator.state.requests.find((entry) => entry.status === 429)).toBeDefined();
  });
});

describe('Typecast client: delete', () => {
  it('deletes with 204, then treats the 404 of a second delete as already deleted', async () => {
    const { simulator, provider } = await setup();
    const voice = simulator.seedClone({ name: 'Alice' });

    expect(await provider.deleteVoice(voice.voice_id)).toEqual({ deleted: true });
    expect(await provider.deleteVoice(voice.voice_id)).toEqual({ deleted: true });
    expect(
      simulator.state.requests.map((request) => `${request.method} ${request.path} ${request.status}`),
    ).toEqual([`DELETE /v1/voices/${voice.voice_id} 204`, `DELETE /v1/voices/${voice.voice_id} 404`]);
  });
});

describe('Typecast client: findClone', () => {
  const startedAt = new Date();
  const hint = { voiceRecordId: 'vc_x', displayName: 'Alice', model: 'ssfm-v30', startedAt };

  it('finds the one custom voice with the name and model, ignoring catalogue voices', async () => {
    const { simulator, provider } = await setup();
    const voice = simulator.seedClone({ name: 'Alice', model: 'ssfm-v30' });
    simulator.seedClone({ name: 'Alice', model: 'ssfm-v21' });
    simulator.seedClone({ name: 'Bob', model: 'ssfm-v30' });

    const lookup = await provider.findClone(hint);

    expect(lookup).toMatchObject({
      outcome: 'found',
      voice: { providerVoiceId: voice.voice_id, displayName: 'Alice' },
    });
    expect(simulator.state.requests.at(-1)?.path).toBe('/v2/voices');
  });

  it('reports absent when no custom voice has the name', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ name: 'Bob' });

    expect(await provider.findClone(hint)).toEqual({ outcome: 'absent' });
  });

  it('reports ambiguous when two custom voices share the name, since Typecast keeps no tag', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ name: 'Alice' });
    simulator.seedClone({ name: 'Alice' });

    const lookup = await provider.findClone(hint);

    expect(lookup.outcome).toBe('ambiguous');
    if (lookup.outcome === 'ambiguous')
      expect(lookup.reason).toMatch(/2 Typecast custom voices are named "Alice"/);
  });

  it('finds the voice it is waiting for by its id, even beside another of the same name', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ name: 'Alice' });
    const awaited = simulator.seedClone({ name: 'Alice' });

    const lookup = await provider.findClone({ ...hint, providerVoiceId: awaited.voice_id });

    expect(lookup).toMatchObject({ outcome: 'found', voice: { providerVoiceId: awaited.voice_id } });
  });

  it('skips voices the caller already owns under other records', async () => {
    const { simulator, provider } = await setup();
    const older = simulator.seedClone({ name: 'Alice' });
    const newer = simulator.seedClone({ name: 'Alice' });

    const lookup = await provider.findClone({ ...hint, knownProviderVoiceIds: [older.voice_id] });

    expect(lookup).toMatchObject({ outcome: 'found', voice: { providerVoiceId: newer.voice_id } });
  });

  it('uses a listed creation time, when there is one, to skip voices made before the attempt', async () => {
    const { simulator, provider } = await setup({ listCreationTimes: true });
    simulator.seedClone({
      name: 'Alice',
      createdAt: new Date(startedAt.getTime() - 3_600_000).toISOString(),
    });
    const recent = simulator.seedClone({
      name: 'Alice',
      createdAt: new Date(startedAt.getTime() + 1_000).toISOString(),
    });

    const lookup = await provider.findClone(hint);

    expect(lookup).toMatchObject({ outcome: 'found', voice: { providerVoiceId: recent.voice_id } });
  });
});
