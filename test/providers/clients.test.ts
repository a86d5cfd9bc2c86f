import { describe, expect, it, vi } from 'vitest';
import { makeMp3 } from '../support/audio';
import { clientHarness, failureOf, SAMPLE } from './client-harness';
import { collect, paths } from './stream-support';

/**
 * What both vendors' clients do alike, tested once for each on its own simulator; what only one vendor
 * does stays in `<vendor>.*.test.ts`.
 */
const VENDORS = [
  {
    title: 'Smallest',
    harness: clientHarness('smallest'),
    streamPath: '/waves/v1/tts/live',
    /** ~2.5 s of streaming left unsent. */
    abortedBytesBelow: 200_000,
  },
  {
    title: 'Typecast',
    harness: clientHarness('typecast'),
    streamPath: '/v1/text-to-speech/stream',
    abortedBytesBelow: 300_000,
  },
] as const;

describe.each(VENDORS)('$title client: clone', ({ harness: { cloneRequest, setup } }) => {
  it.each([
    { format: 'wav', audio: SAMPLE, filename: 'sample.wav', mimeType: 'audio/wav' },
    {
      format: 'mp3',
      audio: makeMp3({ durationSec: 6, sampleRate: 16_000 }),
      filename: 'sample.mp3',
      mimeType: 'audio/mpeg',
    },
  ] as const)(
    'uploads a $format sample as one file, $filename, $mimeType',
    async ({ format, audio, filename, mimeType }) => {
      const { simulator, provider } = await setup();

      await provider.cloneVoice(cloneRequest({ audio, format }));

      expect(simulator.state.requests[0]?.files).toEqual([
        { fieldName: 'file', filename, mimeType, size: audio.byteLength, truncated: false },
      ]);
    },
  );

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

describe.each(VENDORS)(
  '$title client: streaming speech',
  ({ harness: { withVoice }, streamPath, abortedBytesBelow }) => {
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
