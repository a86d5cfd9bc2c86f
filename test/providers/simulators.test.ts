import { parseBuffer } from 'music-metadata';
import { describe, expect, it } from 'vitest';
import { makeWav, wavPeak } from '../support/audio';
import { relativeImportsUnder } from '../support/imports';
import { simulatorsClosedAfterEach } from './simulator-handles';

/**
 * The simulators as an outside script sees them: plain HTTP, the documented answers, and the
 * `/__sim/*` admin routes local mode uses to inject faults and read state.
 */

const { smallest, typecast } = simulatorsClosedAfterEach();

const bearer = { authorization: 'Bearer sk_test_simulator' };
/** A JSON answer, typed as the test expects it (the assertions check the shape). */
async function jsonOf<T>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}

const json = (body: unknown) => ({ 'content-type': 'application/json', body: JSON.stringify(body) });

describe('Smallest simulator', () => {
  it('listens on 127.0.0.1 on a free port', async () => {
    const simulator = await smallest();

    expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers a missing or wrong key with 401 and the documented body', async () => {
    const simulator = await smallest();

    const missing = await fetch(`${simulator.url}/waves/v1/voice-cloning`);
    const wrong = await fetch(`${simulator.url}/waves/v1/voice-cloning`, {
      headers: { authorization: 'Bearer sk_no' },
    });

    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      error: 'Unauthorized',
      message: 'Bearer token is missing or invalid.',
    });
    expect(wrong.status).toBe(401);
  });

  it('answers a clone without a file with 400 No file provided', async () => {
    const simulator = await smallest();
    const form = new FormData();
    form.append('displayName', 'Alice');

    const response = await fetch(`${simulator.url}/waves/v1/voice-cloning`, {
      method: 'POST',
      headers: bearer,
      body: form,
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'No file provided' });
  });

  it('rejects an upload over 5 MB', async () => {
    const simulator = await smallest();
    const form = new FormData();
    form.append('displayName', 'Alice');
    form.append('file', new Blob([new Uint8Array(5 * 1024 * 1024 + 1)], { type: 'audio/wav' }), 'big.wav');

    const response = await fetch(`${simulator.url}/waves/v1/voice-cloning`, {
      method: 'POST',
      headers: bearer,
      body: form,
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'File too large. Maximum size is 5 MB' });
  });

  it('refuses a file typed with a MIME type outside the documented list', async () => {
    const simulator = await smallest();
    const form = new FormData();
    form.append('displayName', 'Alice');
    form.append('file', new Blob([makeWav({ durationSec: 6 })], { type: 'audio/x-wav' }), 'a.wav');

    const response = await fetch(`${simulator.url}/waves/v1/voice-cloning`, {
      method: 'POST',
      headers: bearer,
      body: form,
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^Invalid file type audio\/x-wav/);
    expect(simulator.state.clones.size).toBe(0);
  });

  it('refuses API-key deletes by default, as Smallest since July 2026: 410, then 401, and keeps the clone', async () => {
    const simulator = await smallest();
    const voice = simulator.seedClone({ displayName: 'Alice' });
    const request = {
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ voiceId: voice.voiceId }),
    };

    const guide = await fetch(`${simulator.url}/waves/v1/lightning-large`, { method: 'DELETE', ...request });
    const newer = await fetch(`${simulator.url}/waves/v1/voice-cloning/delete`, {
      method: 'POST',
      ...request,
    });

    expect(guide.status).toBe(410);
    expect(await guide.json()).toMatchObject({ status: 'error', error_code: 'MODEL_DEPRECATED' });
    expect(newer.status).toBe(401);
    expect(simulator.state.clones.has(voice.voiceId)).toBe(true);
  });

  it('deletes through the guide’s route with deleteMode lightning-large', async () => {
    const simulator = await smallest({ deleteMode: 'lightning-large' });
    const voice = simulator.seedClone({ displayName: 'Alice' });

    const response = await fetch(`${simulator.url}/waves/v1/lightning-large`, {
      method: 'DELETE',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ voiceId: voice.voiceId }),
    });

    expect(response.status).toBe(200);
    expect(simulator.state.clones.has(voice.voiceId)).toBe(false);
  });

  it('answers retired routes with 410 MODEL_DEPRECATED', async () => {
    const simulator = await smallest();

    const response = await fetch(`${simulator.url}/waves/v1/lightning-large/get_speech`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: '{}',
    });

    expect(response.status).toBe(410);
    expect(await response.json()).toMatchObject({ status: 'error', error_code: 'MODEL_DEPRECATED' });
  });

  it('speaks headerless PCM when no output_format is sent, and labels every format audio/wav', async () => {
    const simulator = await smallest();

    const response = await fetch(`${simulator.url}/waves/v1/tts`, {
      method: 'POST',
      headers: { ...bearer, accept: 'audio/wav', 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Hello there', voice_id: 'magnus', sample_rate: 8000 }),
    });
    const body = new Uint8Array(await response.arrayBuffer());

    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(String.fromCharCode(...body.subarray(0, 4))).not.toBe('RIFF');
    expect(body.byteLength % 2).toBe(0);
  });

  it('answers without Accept: audio/wav with an empty body, as the docs warn', async () => {
    const simulator = await smallest();

    const response = await fetch(`${simulator.url}/waves/v1/tts`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Hello', voice_id: 'magnus', output_format: 'wav' }),
    });

    expect(response.status).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('speaks a real WAV at the requested rate, longer for longer text, and not silence', async () => {
    const simulator = await smallest();
    const speak = async (text: string) => {
      const response = await fetch(`${simulator.url}/waves/v1/tts`, {
        method: 'POST',
        headers: { ...bearer, accept: 'audio/wav', 'content-type': 'application/json' },
        body: JSON.stringify({ text, voice_id: 'magnus', output_format: 'wav', sample_rate: 24_000 }),
      });
      return new Uint8Array(await response.arrayBuffer());
    };

    const short = await parseBuffer(await speak('Hi there, friend.'), { mimeType: 'audio/wav' });
    const long = await speak('Hi there, friend. '.repeat(6));
    const longMetadata = await parseBuffer(long, { mimeType: 'audio/wav' });

    expect(longMetadata.format).toMatchObject({
      container: 'WAVE',
      sampleRate: 24_000,
      numberOfChannels: 1,
      bitsPerSample: 16,
    });
    expect(longMetadata.format.duration ?? 0).toBeGreaterThan((short.format.duration ?? 0) * 4);
    expect(wavPeak(long)).toBeGreaterThan(5_000);
  });

  it('takes faults over HTTP, reports state, and forgets faults on request', async () => {
    const simulator = await smallest();

    const injected = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      ...json({ route: 'list', type: 'status', status: 503, times: 2 }),
    });
    const first = await fetch(`${simulator.url}/waves/v1/voice-cloning`, { headers: bearer });
    const state = await jsonOf<{ requests: { headers: Record<string, string> }[] }>(
      fetch(`${simulator.url}/__sim/state`),
    );
    await fetch(`${simulator.url}/__sim/faults`, { method: 'DELETE' });
    const after = await fetch(`${simulator.url}/waves/v1/voice-cloning`, { headers: bearer });

    expect(injected.status).toBe(201);
    expect(first.status).toBe(503);
    expect(state).toMatchObject({ counts: { list: 1 }, faults: [{ route: 'list', remaining: 1 }] });
    expect(state.requests[0]?.headers.authorization).toBe('***');
    expect(after.status).toBe(200);
  });

  it('rejects a malformed fault', async () => {
    const simulator = await smallest();

    const response = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      ...json({ route: 'nowhere' }),
    });

    expect(response.status).toBe(400);
  });

  it('seeds clones over HTTP and serves their preview samples', async () => {
    const simulator = await smallest();

    const seeded = await jsonOf<{ voiceId: string }>(
      fetch(`${simulator.url}/__sim/clones`, {
        method: 'POST',
        ...json({ displayName: 'Seeded', tags: ['t'] }),
      }),
    );
    const listed = await jsonOf<{ data: unknown[] }>(
      fetch(`${simulator.url}/waves/v1/voice-cloning`, { headers: bearer }),
    );
    const sample = await fetch(`${simulator.url}/__sim/samples/${seeded.voiceId}/1.wav`);

    expect(listed.data).toEqual([expect.objectContaining({ voiceId: seeded.voiceId, tags: ['t'] })]);
    expect(sample.headers.get('content-type')).toBe('audio/wav');
  });

  it('cuts hanging requests when it closes', async () => {
    const simulator = await smallest();
    simulator.injectFault({ route: 'list', type: 'hang' });

    const pending = fetch(`${simulator.url}/waves/v1/voice-cloning`, { headers: bearer }).then(
      () => 'answered',
      () => 'cut',
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await simulator.close();

    expect(await pending).toBe('cut');
  });

  it('reset forgets clones, counts and faults', async () => {
    const simulator = await smallest();
    simulator.seedClone({ displayName: 'A' });
    simulator.injectFault({ route: '*', type: 'hang' });
    await fetch(`${simulator.url}/__sim/reset`, { method: 'POST' });

    const response = await fetch(`${simulator.url}/waves/v1/voice-cloning`, { headers: bearer });

    expect(await response.json()).toEqual({ data: [] });
    expect(simulator.state.counts.list).toBe(1);
  });
});

describe('Typecast simulator', () => {
  const key = { 'x-api-key': 'tc_test_simulator' };

  it('answers a bad key with 401 {"detail":"Invalid API key"}', async () => {
    const simulator = await typecast();

    const response = await fetch(`${simulator.url}/v2/voices`, { headers: { 'x-api-key': 'nope' } });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Invalid API key' });
  });

  it('validates the clone form the FastAPI way: every problem in one 422 list', async () => {
    const simulator = await typecast();
    const form = new FormData();
    form.append('model', 'ssfm-v99');

    const response = await fetch(`${simulator.url}/v1/voices/clone`, {
      method: 'POST',
      headers: key,
      body: form,
    });

    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      detail: [
        { type: 'missing', loc: ['body', 'file'], msg: 'Field required' },
        { type: 'missing', loc: ['body', 'name'], msg: 'Field required' },
        { type: 'enum', loc: ['body', 'model'], msg: "Input should be 'ssfm-v30' or 'ssfm-v21'" },
      ],
    });
  });

  it('rejects audio over 150 s with the documented detail', async () => {
    const simulator = await typecast();
    const form = new FormData();
    form.append('name', 'Long');
    form.append('model', 'ssfm-v30');
    form.append(
      'file',
      new Blob([makeWav({ durationSec: 151, sampleRate: 8_000 })], { type: 'audio/wav' }),
      'a.wav',
    );

    const response = await fetch(`${simulator.url}/v1/voices/clone`, {
      method: 'POST',
      headers: key,
      body: form,
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: 'Audio duration exceeds maximum' });
  });

  it('requires emotion_type in a v30 prompt (422 with the location)', async () => {
    const simulator = await typecast();
    const voice = simulator.seedClone({ name: 'Alice', model: 'ssfm-v30' });

    const response = await fetch(`${simulator.url}/v1/text-to-speech`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify({
        voice_id: voice.voice_id,
        text: 'Hi',
        model: 'ssfm-v30',
        prompt: { emotion_preset: 'happy' },
      }),
    });

    expect(response.status).toBe(422);
    expect((await jsonOf<{ detail: unknown }>(response)).detail).toEqual([
      expect.objectContaining({ loc: ['body', 'prompt', 'emotion_type'], msg: 'Field required' }),
    ]);
  });

  it('speaks 44.1 kHz mono WAV with X-Audio-Duration', async () => {
    const simulator = await typecast();
    const voice = simulator.seedClone({ name: 'Alice' });

    const response = await fetch(`${simulator.url}/v1/text-to-speech`, {
      method: 'POST',
      headers: { ...key, 'content-type': 'application/json' },
      body: JSON.stringify({
        voice_id: voice.voice_id,
        text: 'Hello from the simulator.',
        model: 'ssfm-v30',
      }),
    });
    const audio = new Uint8Array(await response.arrayBuffer());
    const metadata = await parseBuffer(audio, { mimeType: 'audio/wav' });

    expect(response.headers.get('content-type')).toBe('audio/wav');
    expect(metadata.format).toMatchObject({ sampleRate: 44_100, numberOfChannels: 1, bitsPerSample: 16 });
    expect(Number(response.headers.get('x-audio-duration'))).toBeCloseTo(metadata.format.duration ?? 0, 2);
  });

  it('lists catalogue voices and custom uc_ voices in the /v2/voices shape', async () => {
    const simulator = await typecast();
    const voice = simulator.seedClone({ name: 'Alice', model: 'ssfm-v21' });

    const voices = await jsonOf<{ voice_id: string }[]>(
      fetch(`${simulator.url}/v2/voices`, { headers: key }),
    );

    expect(voices).toContainEqual(
      expect.objectContaining({
        voice_id: voice.voice_id,
        voice_name: 'Alice',
        models: [expect.objectContaining({ version: 'ssfm-v21' })],
      }),
    );
    expect(voices.some((entry) => entry.voice_id.startsWith('tc_'))).toBe(true);
  });

  it('answers 429 {"detail":"Too many requests"} beyond the per-key concurrency', async () => {
    const simulator = await typecast({ concurrency: 1, speechLatencyMs: 100 });
    const voice = simulator.seedClone({ name: 'Alice' });
    const speak = () =>
      fetch(`${simulator.url}/v1/text-to-speech`, {
        method: 'POST',
        headers: { ...key, 'content-type': 'application/json' },
        body: JSON.stringify({ voice_id: voice.voice_id, text: 'Hi', model: 'ssfm-v30' }),
      });

    const [first, second] = await Promise.all([speak(), speak()]);
    const statuses = [first.status, second.status].sort();

    expect(statuses).toEqual([200, 429]);
    expect(await (first.status === 429 ? first : second).json()).toEqual({ detail: 'Too many requests' });
    expect(simulator.state.rateLimited).toBe(1);
  });

  it('deletes a custom voice with 204, after which it is 404 everywhere and its slot is free', async () => {
    const simulator = await typecast({ cloneSlots: 1 });
    const voice = simulator.seedClone({ name: 'Alice' });

    const deleted = await fetch(`${simulator.url}/v1/voices/${voice.voice_id}`, {
      method: 'DELETE',
      headers: key,
    });
    const again = await fetch(`${simulator.url}/v1/voices/${voice.voice_id}`, {
      method: 'DELETE',
      headers: key,
    });

    expect(deleted.status).toBe(204);
    expect(again.status).toBe(404);
    expect(simulator.state.clones.size).toBe(0);
  });
});

describe('Simulator sources', () => {
  it('import nothing from functions/: their limits and request parsing are their own (docs/providers.md)', () => {
    const imports = relativeImportsUnder('simulators');

    expect(imports.some(({ to }) => to === 'simulators/smallest/contract')).toBe(true);
    expect(imports.some(({ to }) => to === 'simulators/typecast/contract')).toBe(true);
    expect(imports.filter(({ to }) => !to.startsWith('simulators/'))).toEqual([]);
  });
});
