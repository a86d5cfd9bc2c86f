import { describe, expect, it } from 'vitest';
import { makeWav } from '../support/audio';
import { clientHarness, failureOf } from './client-harness';

const { cloneRequest, KEY, setup } = clientHarness('smallest');

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
    expect(simulator.state.clones.get(voice.providerVoiceId)?.tags).toContain(
      'vc_abcdefghijklmnopqrstuvwxyz',
    );
  });

  it('maps the answer, taking the model name out of the model document, with the preview samples', async () => {
    const { provider } = await setup();

    const voice = await provider.cloneVoice(cloneRequest());

    expect(voice).toMatchObject({
      displayName: 'Alice',
      model: 'lightning-v3.1',
      language: 'en',
      state: 'ready',
    });
    expect(voice.providerVoiceId).toMatch(/^voice_/);
    expect(voice.samples).toHaveLength(2);
    expect(voice.samples[0]?.audioUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/__sim\/samples\/voice_/);
  });

  it('reads a clone as ready only when Smallest says completed: unknown or absent statuses are processing', async () => {
    const { simulator, provider } = await setup();
    const answers: [string | undefined, string][] = [
      ['completed', 'ready'],
      ['failed', 'failed'],
      ['pending', 'processing'],
      ['processing', 'processing'],
      ['queued', 'processing'],
      [undefined, 'processing'],
    ];
    for (const [status, state] of answers) {
      simulator.injectFault({
        route: 'clone',
        type: 'status',
        status: 200,
        body: { data: { voiceId: 'voice_answered1', displayName: 'Alice', model: 'lightning-v3.1', status } },
      });
      expect((await provider.cloneVoice(cloneRequest())).state, String(status)).toBe(state);
    }
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
