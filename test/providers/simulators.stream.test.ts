import { describe, expect, it } from 'vitest';
import { speechLatencyFromEnvironment } from '../../simulators/latency';
import { simulatorsClosedAfterEach } from './simulator-handles';

/**
 * The simulators' streaming speech routes and latency model as an outside script sees them: plain
 * HTTP, read by hand (not by the clients' SSE parser), against the documents (docs/providers.md).
 */

const started = simulatorsClosedAfterEach();

async function smallest(options: Parameters<typeof started.smallest>[0] = {}) {
  const simulator = await started.smallest(options);
  return { simulator, voiceId: simulator.seedClone({ displayName: 'Alice' }).voiceId };
}

async function typecast(options: Parameters<typeof started.typecast>[0] = {}) {
  const simulator = await started.typecast(options);
  return { simulator, voiceId: simulator.seedClone({ name: 'Alice', model: 'ssfm-v30' }).voice_id };
}

const TEXT = 'Streaming speech arrives in pieces, so playback can start early.';
const SMALLEST_KEY = { authorization: 'Bearer sk_test_simulator', 'content-type': 'application/json' };
const TYPECAST_KEY = { 'x-api-key': 'tc_test_simulator', 'content-type': 'application/json' };

function post(url: string, headers: Record<string, string>, body: unknown) {
  return fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** The body's chunks as they arrive, with when (ms after `startedAt`). */
async function chunksOf(response: Response, startedAt: number) {
  const chunks: { atMs: number; bytes: Buffer }[] = [];
  const reader = response.body?.getReader();
  for (;;) {
    const result = await reader?.read();
    if (!result || result.done) break;
    chunks.push({ atMs: Date.now() - startedAt, bytes: Buffer.from(result.value) });
  }
  return { chunks, whole: Buffer.concat(chunks.map((chunk) => chunk.bytes)) };
}

/** SSE `data:` payloads, read the simple way: the simulator ends every event with a blank line. */
function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => JSON.parse(block.replace(/^data: /, '')));
}

const smallestBody = (voiceId: string, extra: Record<string, unknown> = {}) => ({
  text: TEXT,
  voice_id: voiceId,
  model: 'lightning_v3.1',
  sample_rate: 24_000,
  ...extra,
});
const typecastBody = (voiceId: string, output: Record<string, unknown> = {}) => ({
  voice_id: voiceId,
  text: TEXT,
  model: 'ssfm-v30',
  prompt: { emotion_type: 'preset' },
  output: { audio_format: 'wav', ...output },
});

describe('Smallest simulator: /waves/v1/tts/live', () => {
  it('streams SSE events of base64 PCM, ~100 ms each, ending with done, as the plain route’s PCM', async () => {
    const { simulator, voiceId } = await smallest();

    const live = await post(`${simulator.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId));
    const plain = await post(
      `${simulator.url}/waves/v1/tts`,
      { ...SMALLEST_KEY, accept: 'audio/wav' },
      {
        ...smallestBody(voiceId),
        output_format: 'pcm',
      },
    );

    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('text/event-stream');
    const events = sseData(await live.text()) as { audio?: string; done: boolean; status: string }[];
    expect(events.at(-1)).toEqual({ status: '200', done: true });
    expect(events.slice(0, -1).every((event) => event.status === '206' && event.done === false)).toBe(true);
    const pcm = Buffer.concat(events.slice(0, -1).map((event) => Buffer.from(event.audio ?? '', 'base64')));
    expect(Buffer.from(events[0]?.audio ?? '', 'base64').byteLength).toBe(4800);
    expect(pcm.equals(Buffer.from(await plain.arrayBuffer()))).toBe(true);
  });

  it('checks keys and bodies as the plain route does, and is missing with streamingRoute: false', async () => {
    const { simulator, voiceId } = await smallest();
    const { simulator: without } = await smallest({ streamingRoute: false });

    const badKey = await post(`${simulator.url}/waves/v1/tts/live`, { authorization: 'Bearer sk_no' }, {});
    const unknown = await post(
      `${simulator.url}/waves/v1/tts/live`,
      SMALLEST_KEY,
      smallestBody('voice_nope'),
    );
    const missing = await post(`${without.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId));

    expect(badKey.status).toBe(401);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({
      error: [{ path: ['voice_id'], message: 'Invalid Voice ID' }],
    });
    expect(missing.status).toBe(404);
  });

  it('holds the one-request limit until a stream ends', async () => {
    const { simulator, voiceId } = await smallest({ speechRealTimeFactor: 5 });

    const live = await post(`${simulator.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId));
    const during = await post(
      `${simulator.url}/waves/v1/tts`,
      { ...SMALLEST_KEY, accept: 'audio/wav' },
      {
        ...smallestBody(voiceId),
        text: 'Hi',
      },
    );
    await live.arrayBuffer();
    const after = await post(
      `${simulator.url}/waves/v1/tts`,
      { ...SMALLEST_KEY, accept: 'audio/wav' },
      {
        ...smallestBody(voiceId),
        text: 'Hi',
      },
    );

    expect(during.status).toBe(429);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(after.status).toBe(200);
  });

  it('paces speech: the plain route answers when all is made, the stream starts after the first byte', async () => {
    const { simulator, voiceId } = await smallest({ speechFirstByteMs: 150, speechRealTimeFactor: 8 });
    // 64 characters ≈ 4.2 s of audio: ~520 ms at 8× real time.
    const wholeMs = 150 + (TEXT.length * 0.065 * 1000) / 8;

    let startedAt = Date.now();
    const plain = await post(
      `${simulator.url}/waves/v1/tts`,
      { ...SMALLEST_KEY, accept: 'audio/wav' },
      {
        ...smallestBody(voiceId),
        output_format: 'wav',
      },
    );
    await plain.arrayBuffer();
    const plainMs = Date.now() - startedAt;
    startedAt = Date.now();
    const live = await chunksOf(
      await post(`${simulator.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId)),
      startedAt,
    );

    expect(plainMs).toBeGreaterThanOrEqual(wholeMs - 20);
    const first = live.chunks[0]?.atMs ?? 0;
    expect(first).toBeGreaterThanOrEqual(140);
    expect(first).toBeLessThan(wholeMs - 200);
    expect(live.chunks.at(-1)?.atMs ?? 0).toBeGreaterThanOrEqual(wholeMs - 60);
  });

  it('keeps speechLatencyMs as a fixed wait before either route answers', async () => {
    const { simulator, voiceId } = await smallest({ speechLatencyMs: 150 });

    const startedAt = Date.now();
    const live = await post(`${simulator.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId));

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(live.status).toBe(200);
    await live.arrayBuffer();
  });

  it('injects body faults at one path: an in-band error event between events, a cut after N bytes', async () => {
    const { simulator, voiceId } = await smallest();
    simulator.injectFault({
      route: 'speech',
      path: '/waves/v1/tts/live',
      type: 'errorEvent',
      afterBytes: 10_000,
    });
    simulator.injectFault({ route: 'speech', path: '/waves/v1/tts/live', type: 'cut', afterBytes: 1000 });

    const plain = await post(
      `${simulator.url}/waves/v1/tts`,
      { ...SMALLEST_KEY, accept: 'audio/wav' },
      {
        ...smallestBody(voiceId),
        text: 'Hi',
      },
    );
    const failed = sseData(
      await (await post(`${simulator.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId))).text(),
    );
    const cut = await post(`${simulator.url}/waves/v1/tts/live`, SMALLEST_KEY, smallestBody(voiceId));
    const cutError = await cut.arrayBuffer().then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(plain.status).toBe(200);
    expect(failed.at(-1)).toEqual({ status: '500', done: true, error: 'Internal Server Error' });
    expect(failed.length).toBeGreaterThan(1);
    expect(cutError).toBeInstanceOf(Error);
    expect(simulator.state.requests.at(-1)?.bytesSent).toBe(1000);
  });
});

describe('Typecast simulator: /v1/text-to-speech/stream', () => {
  it('streams a WAV whose RIFF header has 0xFFFFFFFF sizes, then the plain route’s PCM', async () => {
    const { simulator, voiceId } = await typecast();

    const streamed = await chunksOf(
      await post(`${simulator.url}/v1/text-to-speech/stream`, TYPECAST_KEY, typecastBody(voiceId)),
      Date.now(),
    );
    const plain = Buffer.from(
      await (
        await post(`${simulator.url}/v1/text-to-speech`, TYPECAST_KEY, typecastBody(voiceId))
      ).arrayBuffer(),
    );

    const header = streamed.whole.subarray(0, 44);
    expect(header.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect([header.readUInt32LE(4), header.readUInt32LE(40)]).toEqual([0xffff_ffff, 0xffff_ffff]);
    expect(header.readUInt32LE(24)).toBe(44_100);
    expect(streamed.whole.subarray(44).equals(plain.subarray(44))).toBe(true);
  });

  it('streams MP3 as the plain route’s frames', async () => {
    const { simulator, voiceId } = await typecast();
    const body = typecastBody(voiceId, { audio_format: 'mp3' });

    const streamed = await post(`${simulator.url}/v1/text-to-speech/stream`, TYPECAST_KEY, body);
    const plain = await post(`${simulator.url}/v1/text-to-speech`, TYPECAST_KEY, body);

    expect(streamed.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await streamed.arrayBuffer());
    expect([bytes[0], (bytes[1] ?? 0) & 0xe0]).toEqual([0xff, 0xe0]);
    expect(bytes.equals(Buffer.from(await plain.arrayBuffer()))).toBe(true);
  });

  it('refuses output.volume on the stream, and is missing with streamingRoute: false', async () => {
    const { simulator, voiceId } = await typecast();
    const { simulator: without } = await typecast({ streamingRoute: false });

    const volume = await post(
      `${simulator.url}/v1/text-to-speech/stream`,
      TYPECAST_KEY,
      typecastBody(voiceId, { volume: 100 }),
    );
    const missing = await post(
      `${without.url}/v1/text-to-speech/stream`,
      TYPECAST_KEY,
      typecastBody(voiceId),
    );

    expect(volume.status).toBe(422);
    expect(await volume.json()).toEqual({
      detail: [
        { type: 'extra_forbidden', loc: ['body', 'output', 'volume'], msg: 'Extra inputs are not permitted' },
      ],
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: 'Not Found' });
  });

  it('counts a stream against the per-key concurrency until it ends, and sees a client leave', async () => {
    const { simulator, voiceId } = await typecast({ concurrency: 1, speechRealTimeFactor: 4 });
    const controller = new AbortController();

    const live = await fetch(`${simulator.url}/v1/text-to-speech/stream`, {
      method: 'POST',
      headers: TYPECAST_KEY,
      body: JSON.stringify(typecastBody(voiceId)),
      signal: controller.signal,
    });
    await live.body?.getReader().read();
    const during = await post(`${simulator.url}/v1/text-to-speech`, TYPECAST_KEY, typecastBody(voiceId));
    controller.abort();
    await expect.poll(() => simulator.state.requests[0]?.clientClosed).toBe(true);
    const after = await post(`${simulator.url}/v1/text-to-speech`, TYPECAST_KEY, typecastBody(voiceId));

    expect(during.status).toBe(429);
    expect(after.status).toBe(200);
    expect(simulator.state.requests[0]?.bytesSent ?? 0).toBeLessThan(200_000);
  });
});

describe('Function: speechLatencyFromEnvironment', () => {
  it('reads SIMULATOR_SPEECH_FIRST_BYTE_MS and SIMULATOR_SPEECH_REAL_TIME_FACTOR, and rejects bad values', () => {
    const read = (environment: Record<string, string>) => (name: string) => environment[name];

    expect(speechLatencyFromEnvironment(read({}))).toEqual({});
    expect(
      speechLatencyFromEnvironment(
        read({ SIMULATOR_SPEECH_FIRST_BYTE_MS: '250', SIMULATOR_SPEECH_REAL_TIME_FACTOR: '12.5' }),
      ),
    ).toEqual({ speechFirstByteMs: 250, speechRealTimeFactor: 12.5 });
    expect(() => speechLatencyFromEnvironment(read({ SIMULATOR_SPEECH_REAL_TIME_FACTOR: '0' }))).toThrow(
      /SIMULATOR_SPEECH_REAL_TIME_FACTOR must be a number above 0/,
    );
    expect(() => speechLatencyFromEnvironment(read({ SIMULATOR_SPEECH_FIRST_BYTE_MS: 'soon' }))).toThrow(
      /SIMULATOR_SPEECH_FIRST_BYTE_MS/,
    );
  });
});
