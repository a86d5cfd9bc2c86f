import { GetObjectCommand } from '@aws-sdk/client-s3';
import { parseBuffer } from 'music-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api/app';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { SIMULATOR_KEYS } from '../support/clone-dependencies';
import { errorOf, json, MODES, type Requester, useApi, wavDuration } from './api-support';

// The API's speech route, in-process and over HTTP.
const { fixture, dependencies, voiceIds, requesterFor, appRequester } = useApi();

describe.each(MODES)('API %s', (mode) => {
  let call: Requester;

  beforeAll(async () => {
    call = await appRequester(mode);
  });

  describe('POST /voices/{voiceId}/speech', () => {
    it('speaks with a Smallest voice as WAV', async () => {
      const response = await call(
        `/voices/${voiceIds.alice}/speech`,
        json({ text: 'Hello there. How are you today?' }),
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/wav');
      const audio = new Uint8Array(await response.arrayBuffer());
      expect(new TextDecoder().decode(audio.subarray(0, 4))).toBe('RIFF');
      expect(await wavDuration(audio)).toBeGreaterThan(0.5);
    });

    it('speaks with a Typecast voice as MP3', async () => {
      const response = await call(
        `/voices/${voiceIds.bob}/speech`,
        json({ text: 'A short line in MP3.', format: 'mp3' }),
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/mpeg');
      const audio = new Uint8Array(await response.arrayBuffer());
      const metadata = await parseBuffer(audio, { mimeType: 'audio/mpeg' }, { duration: true });
      expect(metadata.format.codec).toMatch(/MPEG/);
      expect(metadata.format.duration ?? 0).toBeGreaterThan(0.5);
    });

    it('splits long text into provider-sized requests and joins one WAV of the summed length', async () => {
      const sentence = 'This sentence is part of a long text that must be split into several requests. ';
      const text = sentence.repeat(20);
      const before = fixture.smallest.state.counts.speech;
      const response = await call(
        `/voices/${voiceIds.carol}/speech`,
        json({ text, sampleRate: 16000, cache: false }),
      );
      expect(response.status).toBe(200);
      // The body is streamed: the pieces are all spoken once it has been read.
      const audio = new Uint8Array(await response.arrayBuffer());
      // One request per sentence; the text repeats one sentence, which is made once and played again.
      expect(fixture.smallest.state.counts.speech - before).toBe(1);
      expect(Number(response.headers.get('x-speech-chunks'))).toBe(20);
      const single = new Uint8Array(
        await (
          await call(
            `/voices/${voiceIds.carol}/speech`,
            json({ text: sentence.repeat(2).trim(), sampleRate: 16000 }),
          )
        ).arrayBuffer(),
      );
      const ratio = (await wavDuration(audio)) / (await wavDuration(single));
      expect(ratio).toBeGreaterThan(7);
      expect(ratio).toBeLessThan(13);
    });

    it('stores the audio and returns a short-lived URL with delivery "url"', async () => {
      const response = await call(
        `/voices/${voiceIds.bob}/speech`,
        json({ text: 'Deliver me by URL.', delivery: 'url' }),
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        url: string;
        expiresAt: string;
        contentType: string;
        bytes: number;
      };
      expect(body.contentType).toBe('audio/wav');
      expect(Date.parse(body.expiresAt)).toBeGreaterThan(Date.now());
      const download = await fetch(body.url);
      expect(download.status).toBe(200);
      expect((await download.arrayBuffer()).byteLength).toBe(body.bytes);
    });

    it('streams audio larger than a Lambda response could carry, without a redirect', async () => {
      const text = Array.from(
        { length: 12 },
        (_, index) => `Passage ${index} is read aloud at full quality, far too long for one response.`,
      ).join(' ');
      const response = await call(`/voices/${voiceIds.bob}/speech`, {
        ...json({ text }),
        redirect: 'manual',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/wav');
      const audio = new Uint8Array(await response.arrayBuffer());
      expect(audio.length).toBeGreaterThan(4_400_000);
      expect(await wavDuration(audio)).toBeGreaterThan(50);
    });

    it('speaks with the original voice when asked for a duplicate', async () => {
      const original = await fixture.voices.get(voiceIds.dave);
      const source = await fixture.local.s3.send(
        new GetObjectCommand({ Bucket: fixture.bucket, Key: original?.source.key ?? '' }),
      );
      const bytes = await (
        source.Body as { transformToByteArray(): Promise<Uint8Array> }
      ).transformToByteArray();
      const duplicate = await fixture.cloneVoice('incoming/typecast/Dave again.wav', bytes);
      expect(original?.source.key).toBeDefined();
      expect((await fixture.voices.get(duplicate))?.status).toBe('duplicate');
      const response = await call(`/voices/${duplicate}/speech`, json({ text: 'Same voice.' }));
      expect(response.status).toBe(200);
    });

    it('answers 400 for empty, too long, malformed or unknown input', async () => {
      const path = `/voices/${voiceIds.alice}/speech`;
      expect((await errorOf(await call(path, json({ text: '   ' })))).code).toBe('invalid_request');
      const tooLong = await call(path, json({ text: 'a'.repeat(5_001) }));
      expect(tooLong.status).toBe(400);
      expect((await errorOf(tooLong)).message).toMatch(/5000/);
      expect((await call(path, json({ text: 'x', format: 'ogg' }))).status).toBe(400);
      expect((await call(path, json({ text: 'x', voice: 'other' }))).status).toBe(400);
      expect((await call(path, json({ text: 'x', speed: 9 }))).status).toBe(400);
      const malformed = await call(path, { method: 'POST', body: '{"text": "unterminated' });
      expect((await errorOf(malformed)).code).toBe('invalid_json');
    });

    it('accepts exactly 5,000 characters (20 Smallest requests), delivered by URL', async () => {
      const text = 'Words and more words. '.repeat(228).slice(0, 5_000);
      const response = await call(
        `/voices/${voiceIds.carol}/speech`,
        json({ text, sampleRate: 8000, delivery: 'url' }),
      );
      expect(response.status).toBe(200);
      const body = (await response.json()) as { url: string; bytes: number };
      const audio = new Uint8Array(await (await fetch(body.url)).arrayBuffer());
      expect(audio.length).toBe(body.bytes);
      expect(await wavDuration(audio)).toBeGreaterThan(200);
    });

    it('answers 404 for an unknown voice and 409 for one that is not ready', async () => {
      expect((await call('/voices/vc_aaaaaaaaaaaaaaaaaaaaaaaaaa/speech', json({ text: 'x' }))).status).toBe(
        404,
      );
      const notReady = await call(`/voices/${voiceIds.rejected}/speech`, json({ text: 'x' }));
      expect(notReady.status).toBe(409);
      expect((await errorOf(notReady)).code).toBe('voice_not_ready');
    });

    it('retries a provider 429 once, then answers 429 with Retry-After', async () => {
      fixture.typecast.injectFault({
        route: 'speech',
        type: 'status',
        status: 429,
        retryAfterSec: 0,
        times: 1,
      });
      const before = fixture.typecast.state.counts.speech;
      expect(
        (await call(`/voices/${voiceIds.bob}/speech`, json({ text: 'Busy once.', cache: false }))).status,
      ).toBe(200);
      // The refused request and exactly one retry reached the provider.
      expect(fixture.typecast.state.counts.speech - before).toBe(2);
      fixture.typecast.injectFault({
        route: 'speech',
        type: 'status',
        status: 429,
        retryAfterSec: 2,
        times: 2,
      });
      const beforeLimited = fixture.typecast.state.counts.speech;
      const limited = await call(
        `/voices/${voiceIds.bob}/speech`,
        json({ text: 'Busy twice.', cache: false }),
      );
      expect(limited.status).toBe(429);
      // A Retry-After longer than the client's retry cap is not waited out: the caller gets it at once.
      expect(fixture.typecast.state.counts.speech - beforeLimited).toBe(1);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await errorOf(limited)).retryable).toBe(true);
      fixture.typecast.clearFaults();
    });

    it('reports the tiny empty WAV of a lightning-large-only clone as an error, not as audio', async () => {
      const voiceId = await fixture.cloneVoice(`incoming/smallest/Legacy ${mode}.wav`);
      const legacy = fixture.smallest.seedClone({ displayName: 'legacy', modelIds: ['lightning-large'] });
      await fixture.setRecordFields(voiceId, { providerVoiceId: legacy.voiceId });
      const response = await call(`/voices/${voiceId}/speech`, json({ text: 'Anyone there?' }));
      expect(response.status).toBe(502);
      const error = await errorOf(response);
      expect(error.code).toBe('provider_incompatible_voice');
      expect(error.message).toMatch(/lightning-large/);
    });

    it('answers 502 for a provider error and 503 when the provider key is missing', async () => {
      fixture.smallest.injectFault({ route: 'speech', type: 'status', status: 500, times: 4 });
      const failed = await call(`/voices/${voiceIds.alice}/speech`, json({ text: 'Server error.' }));
      expect(failed.status).toBe(502);
      expect(JSON.stringify(await errorOf(failed))).not.toMatch(/stack|at .*\.ts/);
      fixture.smallest.clearFaults();

      const keyless = createApiApp({
        ...dependencies,
        providers: fixture.providersWith(
          createStaticKeyStore({ typecast: SIMULATOR_KEYS.typecast }, 'the secret'),
        ),
      });
      const missing = await (await requesterFor(keyless, mode))(
        `/voices/${voiceIds.alice}/speech`,
        json({ text: 'No key.' }),
      );
      expect(missing.status).toBe(503);
      expect((await errorOf(missing)).code).toBe('provider_key_missing');
    });
  });
});
