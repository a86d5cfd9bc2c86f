import { describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../functions/shared/providers/errors';
import { clientHarness, failureOf } from './client-harness';
import { collect, decodeWav, paths, streamFailure } from './stream-support';

const { setup, withVoice } = clientHarness('smallest');
const LIVE = '/waves/v1/tts/live';

describe('Smallest client: streaming speech', () => {
  it('yields a WAV (placeholder sizes) that decodes to the plain route’s samples, at the asked rate', async () => {
    const { provider, request } = await withVoice();

    for (const sampleRate of [44_100, 24_000]) {
      const streamed = decodeWav(
        (await collect(await provider.synthesizeStream(request({ sampleRate })))).whole,
      );
      const plain = decodeWav((await provider.synthesize(request({ sampleRate }))).audio);

      expect(streamed).toMatchObject({ sampleRate, channels: 1, bitsPerSample: 16 });
      expect(streamed.riffSize).toBe(0xffff_ffff);
      expect(streamed.dataSize).toBe(0xffff_ffff);
      expect(streamed.samples.length).toBe(plain.samples.length);
      expect(Buffer.from(streamed.samples.buffer).equals(Buffer.from(plain.samples.buffer))).toBe(true);
    }
  });

  it('speaks MP3 through the plain route as one chunk (the live route carries PCM only)', async () => {
    const { simulator, provider, request } = await withVoice();

    const stream = await provider.synthesizeStream(request({ format: 'mp3', text: 'Hello' }));
    const read = await collect(stream);

    expect(stream).toMatchObject({ format: 'mp3', contentType: 'audio/mpeg', streamed: false });
    expect(read.chunks).toHaveLength(1);
    expect(paths(simulator)).toEqual(['/waves/v1/tts 200']);
  });

  it('falls back to the plain route when the live route is missing (404), and remembers it', async () => {
    const { simulator, provider, request } = await withVoice({ streamingRoute: false });

    const first = await provider.synthesizeStream(request({ text: 'Hi' }));
    const second = await provider.synthesizeStream(request({ text: 'Hi' }));

    expect([first.streamed, second.streamed]).toEqual([false, false]);
    expect(decodeWav((await collect(first)).whole).samples.length).toBeGreaterThan(0);
    expect(paths(simulator)).toEqual([`${LIVE} 404`, '/waves/v1/tts 200', '/waves/v1/tts 200']);
  });

  it('falls back on 410 as well', async () => {
    const { simulator, provider, request } = await withVoice();
    simulator.injectFault({ route: 'speech', path: LIVE, type: 'status', status: 410 });

    const stream = await provider.synthesizeStream(request({ text: 'Hi' }));

    expect(stream.streamed).toBe(false);
    expect(paths(simulator)).toEqual([`${LIVE} 410`, '/waves/v1/tts 200']);
  });

  it('holds the one-request limit while a stream runs: a second one gets 429 and is retried', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { simulator, provider, request } = await withVoice({ speechRealTimeFactor: 10, retryAfterSec: 0 });

    const streams = await Promise.all([
      provider.synthesizeStream(request({ text: 'Hi there' })).then(collect),
      provider.synthesizeStream(request({ text: 'Hi there' })).then(collect),
    ]);

    expect(streams.every((read) => read.whole.byteLength > 44)).toBe(true);
    expect(simulator.state.rateLimited).toBeGreaterThanOrEqual(1);
    expect(simulator.state.peakInFlight.speech).toBe(2);
  });

  it('maps errors before the stream as synthesize does (Invalid Voice ID → not found)', async () => {
    const { provider, request } = await withVoice();

    const error = await failureOf(provider.synthesizeStream(request({ providerVoiceId: 'voice_missing' })));

    expect(error).toMatchObject({ kind: 'not_found', statusCode: 400 });
  });

  it('throws a non-retryable ProviderError for an error event mid-stream', async () => {
    const { simulator, provider, request } = await withVoice();
    simulator.injectFault({ route: 'speech', path: LIVE, type: 'errorEvent', afterBytes: 30_000 });

    const stream = await provider.synthesizeStream(request());
    const { error, bytes } = await streamFailure(stream);

    expect(bytes).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'unavailable', statusCode: 500, retryable: false });
    expect((error as Error).message).toContain('mid-stream');
  });

  it('throws when the stream ends before its done event', async () => {
    const { simulator, provider, request } = await withVoice();
    simulator.injectFault({ route: 'speech', path: LIVE, type: 'truncate', afterBytes: 30_000 });

    const { error } = await streamFailure(await provider.synthesizeStream(request()));

    expect(error).toMatchObject({ kind: 'network', retryable: false });
    expect((error as Error).message).toContain('before its final "done" event');
  });

  it('throws a non-retryable error when the connection is cut mid-stream', async () => {
    const { simulator, provider, request } = await withVoice();
    simulator.injectFault({ route: 'speech', path: LIVE, type: 'cut', afterBytes: 30_000 });

    const { error, bytes } = await streamFailure(await provider.synthesizeStream(request()));

    expect(bytes).toBeGreaterThan(0);
    expect(error).toMatchObject({ provider: 'smallest', kind: 'network', retryable: false });
    expect((error as Error).message).toMatch(/cut mid-stream/);
    expect(simulator.state.counts.speech).toBe(1);
  });

  it('ends a stalled stream with a timeout after one deadline without a chunk', async () => {
    const { simulator, provider, request } = await withVoice({}, { timeoutMs: 300 });
    simulator.injectFault({ route: 'speech', path: LIVE, type: 'stall', afterBytes: 30_000 });

    const { error } = await streamFailure(await provider.synthesizeStream(request()));

    expect(error).toMatchObject({ kind: 'timeout', retryable: false });
    expect((error as Error).message).toContain('mid-stream');
  });

  it('explains a live stream without audio (a lightning-large-only clone) as an incompatible voice', async () => {
    const { simulator, provider } = await setup();
    const legacy = simulator.seedClone({ displayName: 'Old', modelIds: ['lightning-large'] });

    const stream = await provider.synthesizeStream({
      providerVoiceId: legacy.voiceId,
      text: 'Hello',
      format: 'wav',
      model: 'lightning-v3.1',
    });
    const { error, bytes } = await streamFailure(stream);

    expect(bytes).toBe(0);
    expect(error).toMatchObject({ kind: 'incompatible_voice', retryable: false });
  });
});
