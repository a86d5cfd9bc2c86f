import { parseBuffer } from 'music-metadata';
import { describe, expect, it } from 'vitest';
import { clientHarness, failureOf } from './client-harness';
import { collect, decodeWav, paths, streamFailure } from './stream-support';

const { withVoice } = clientHarness('typecast');
const STREAM = '/v1/text-to-speech/stream';

describe('Typecast client: streaming speech', () => {
  it('yields a WAV (placeholder sizes) that decodes to the plain route’s samples', async () => {
    const { provider, request } = await withVoice();

    const read = await collect(await provider.synthesizeStream(request()));
    const streamed = decodeWav(read.whole);
    const plain = decodeWav((await provider.synthesize(request())).audio);

    expect(streamed).toMatchObject({ sampleRate: 44_100, channels: 1, bitsPerSample: 16 });
    expect([streamed.riffSize, streamed.dataSize]).toEqual([0xffff_ffff, 0xffff_ffff]);
    expect(Buffer.from(streamed.samples.buffer).equals(Buffer.from(plain.samples.buffer))).toBe(true);
  });

  it('streams MP3 as whole frames, early, that join into the plain route’s MP3', async () => {
    const { provider, request } = await withVoice({ speechFirstByteMs: 50, speechRealTimeFactor: 4 });

    const startedAt = Date.now();
    const stream = await provider.synthesizeStream(request({ format: 'mp3' }));
    const read = await collect(stream, startedAt);
    const plain = await provider.synthesize(request({ format: 'mp3' }));

    expect(stream).toMatchObject({ format: 'mp3', contentType: 'audio/mpeg', streamed: true });
    expect(read.chunks.length).toBeGreaterThan(10);
    expect(read.endMs - read.firstMs).toBeGreaterThan(500);
    for (const { bytes } of read.chunks) expect([bytes[0], (bytes[1] ?? 0) & 0xe0]).toEqual([0xff, 0xe0]);
    expect(Buffer.from(read.whole).equals(Buffer.from(plain.audio))).toBe(true);
    const metadata = await parseBuffer(read.whole, { mimeType: 'audio/mpeg' }, { duration: true });
    expect(metadata.format.duration).toBeGreaterThan(4);
  });

  it('falls back to the plain route when the streaming route is missing (404), and remembers it', async () => {
    const { simulator, provider, request } = await withVoice({ streamingRoute: false });

    const first = await provider.synthesizeStream(request({ text: 'Hi' }));
    const second = await provider.synthesizeStream(request({ text: 'Hi', format: 'mp3' }));

    expect([first.streamed, second.streamed]).toEqual([false, false]);
    expect((await collect(first)).chunks).toHaveLength(1);
    expect(second.contentType).toBe('audio/mpeg');
    expect(paths(simulator)).toEqual([`${STREAM} 404`, '/v1/text-to-speech 200', '/v1/text-to-speech 200']);
  });

  it('does not take an unknown voice’s 404 for a missing route', async () => {
    const { simulator, provider, request } = await withVoice();

    const error = await failureOf(provider.synthesizeStream(request({ providerVoiceId: 'uc_missing' })));
    await collect(await provider.synthesizeStream(request({ text: 'Hi' })));

    expect(error).toMatchObject({ kind: 'not_found', statusCode: 404 });
    expect(paths(simulator)).toEqual([`${STREAM} 404`, '/v1/text-to-speech 404', `${STREAM} 200`]);
  });

  it('throws a non-retryable error when the connection is cut mid-stream', async () => {
    const { simulator, provider, request } = await withVoice({ speechRealTimeFactor: 10 });
    simulator.injectFault({ route: 'speech', path: STREAM, type: 'cut', afterBytes: 40_000 });

    const { error, bytes } = await streamFailure(await provider.synthesizeStream(request()));

    expect(bytes).toBe(40_000);
    expect(error).toMatchObject({ provider: 'typecast', kind: 'network', retryable: false });
    expect((error as Error).message).toContain('cut mid-stream');
  });

  it('answers a stream that ends without a byte as an invalid response', async () => {
    const { simulator, provider, request } = await withVoice();
    simulator.injectFault({ route: 'speech', path: STREAM, type: 'truncate', afterBytes: 0 });

    const { error } = await streamFailure(await provider.synthesizeStream(request({ text: 'Hi' })));

    expect(error).toMatchObject({ kind: 'invalid_response', retryable: false });
  });
});
