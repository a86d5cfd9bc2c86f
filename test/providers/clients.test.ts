import { describe, expect, it, vi } from 'vitest';
import { makeMp3 } from '../support/audio';
import { clientHarness, failureOf, SAMPLE } from './client-harness';
import { collect, LONG_TEXT, paths } from './stream-support';

/**
 * What both vendors' clients do alike, tested once for each on its own simulator; what only one vendor
 * does stays in `<vendor>.*.test.ts`.
 */
const VENDORS = [
  {
    title: 'Smallest',
    harness: clientHarness('smallest'),
    streamPath: '/waves/v1/tts/live',
    live: {
      route: 'SSE live route',
      overrides: {},
      accept: 'text/event-stream',
      stream: { requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      // ~5.1 s of audio at 5× real time: about a second from first chunk to last.
      minChunks: 20,
      minSpreadMs: 600,
      sent: (voiceId: string) => ({
        text: LONG_TEXT,
        voice_id: voiceId,
        model: 'lightning_v3.1',
        output_format: 'pcm',
        sample_rate: 44_100,
      }),
    },
    /** ~2.5 s of streaming left unsent. */
    abortedBytesBelow: 200_000,
  },
  {
    title: 'Typecast',
    harness: clientHarness('typecast'),
    streamPath: '/v1/text-to-speech/stream',
    live: {
      route: 'chunked route',
      overrides: { language: 'en', speed: 1.1 },
      accept: 'audio/wav',
      stream: {},
      minChunks: 10,
      minSpreadMs: 500,
      sent: (voiceId: string) => ({
        voice_id: voiceId,
        text: LONG_TEXT,
        model: 'ssfm-v30',
        language: 'eng',
        prompt: { emotion_type: 'preset', emotion_preset: 'normal', emotion_intensity: 1 },
        output: { audio_format: 'wav', audio_tempo: 1.1 },
      }),
    },
    abortedBytesBelow: 300_000,
  },
] as const;
/** `[title, vendor]`, so that `%s` names each describe block without quotes. */
const EACH_VENDOR = VENDORS.map((vendor) => [vendor.title, vendor] as const);

describe.each(EACH_VENDOR)('%s client: clone', (_title, { harness: { cloneRequest, setup } }) => {
  it.each([
    ['wav', 'sample.wav', 'audio/wav', SAMPLE],
    ['mp3', 'sample.mp3', 'audio/mpeg', makeMp3({ durationSec: 6, sampleRate: 16_000 })],
  ] as const)('uploads a sample in %s as one file, %s, %s', async (format, filename, mimeType, audio) => {
    const { simulator, provider } = await setup();

    await provider.cloneVoice(cloneRequest({ audio, format }));

    expect(simulator.state.requests[0]?.files).toEqual([
      { fieldName: 'file', filename, mimeType, size: audio.byteLength, truncated: false },
    ]);
  });

  it('times out a slow clone as outcome-unknown while the provider still creates it, and findClone finds it', async () => {
    const { simulator, provider } = await setup({}, { timeoutMs: 150 });
    simulator.injectFault({ route: 'clone', type: 'slow', delayMs: 400, completeClone: true });
    const startedAt = new Date();
    const request = cloneRequest();

    const error = await failureOf(provider.cloneVoice(request));

    expect(error).toMatchObject({ kind: 'timeout', retryable: true, outcomeUnknown: true });
    expect(simulator.state.counts.clone).toBe(1);
    await vi.waitFor(() => expect(simulator.state.clones.size).toBe(1), { timeout: 2_000 });
    const lookup = await provider.findClone({
      voiceRecordId: request.voiceRecordId,
      displayName: request.displayName,
      model: request.model,
      startedAt,
    });
    expect(lookup.outcome).toBe('found');
  });
});

describe.each(EACH_VENDOR)(
  '%s client: streaming speech',
  (_title, { harness: { withVoice }, streamPath, live, abortedBytesBelow }) => {
    it(`streams WAV from the ${live.route}: the first chunk arrives well before the whole`, async () => {
      const { simulator, provider, request } = await withVoice({
        speechFirstByteMs: 50,
        speechRealTimeFactor: 5,
      });

      const startedAt = Date.now();
      const stream = await provider.synthesizeStream(request(live.overrides));
      const read = await collect(stream, startedAt);

      expect(stream).toMatchObject({
        format: 'wav',
        contentType: 'audio/wav',
        streamed: true,
        ...live.stream,
      });
      expect(read.chunks.length).toBeGreaterThan(live.minChunks);
      expect(read.endMs - read.firstMs).toBeGreaterThan(live.minSpreadMs);
      expect(read.firstMs).toBeLessThan(read.endMs / 2);
      const sent = simulator.state.requests.at(-1);
      expect(sent?.path).toBe(streamPath);
      expect(sent?.headers.accept).toBe(live.accept);
      expect(sent?.json).toEqual(live.sent(request().providerVoiceId));
    });

    it('retries a 429 answered before the stream, as synthesize does', async () => {
      const { simulator, provider, request } = await withVoice();
      simulator.injectFault({
        route: 'speech',
        path: streamPath,
        type: 'status',
        status: 429,
        retryAfterSec: 0,
      });

      const stream = await provider.synthesizeStream(request({ text: 'Hi' }));
      await collect(stream);

      expect(stream.streamed).toBe(true);
      expect(paths(simulator)).toEqual([`${streamPath} 429`, `${streamPath} 200`]);
    });

    it('stops the request when the signal aborts: the simulator sees the connection close', async () => {
      const { simulator, provider, request } = await withVoice({ speechRealTimeFactor: 2 });
      const controller = new AbortController();

      const stream = await provider.synthesizeStream(request(), { signal: controller.signal });
      const iterator = stream.chunks[Symbol.asyncIterator]();
      await iterator.next();
      controller.abort();
      const error = await iterator.next().then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(error).toMatchObject({ kind: 'aborted' });
      await vi.waitFor(() => expect(simulator.state.requests.at(-1)?.clientClosed).toBe(true));
      expect(simulator.state.requests.at(-1)?.bytesSent ?? 0).toBeLessThan(abortedBytesBelow);
    });

    it('closes the connection when the reader leaves early', async () => {
      const { simulator, provider, request } = await withVoice({ speechRealTimeFactor: 2 });

      const stream = await provider.synthesizeStream(request());
      for await (const _chunk of stream.chunks) break;

      await vi.waitFor(() => expect(simulator.state.requests.at(-1)?.clientClosed).toBe(true));
    });
  },
);
