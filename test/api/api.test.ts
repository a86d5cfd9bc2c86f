import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { handle } from 'hono/aws-lambda';
import { parseBuffer } from 'music-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiDependencies, createApiApp } from '../../functions/api/app';
import { POST_FILENAME_VARIABLE } from '../../functions/api/schemas';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { silentLog } from '../../functions/shared/logger';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { createProvider } from '../../functions/shared/providers/registry';
import { type ApiHandler, type LocalApiGateway, startLocalApiGateway } from '../../local/api-gateway';
import { startSmallestSimulator } from '../../simulators/smallest/simulator';
import { SIMULATOR_KEYS, startPipelineFixture } from '../support/pipeline-fixture';
import { policyOf, postForm, type UploadForm } from '../support/upload-form';

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let dependencies: ApiDependencies;
let app: ReturnType<typeof createApiApp>;
const voiceIds = { alice: '', bob: '', carol: '', rejected: '', dave: '' };
const gateways: LocalApiGateway[] = [];

type Requester = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Every test runs twice: in-process (the Hono app) and over HTTP through the local API Gateway, which
 * builds real REST API proxy events for the Lambda handler and returns binary bodies as API Gateway does.
 */
const MODES = ['in-process', 'over HTTP through the API Gateway adapter'] as const;
type Mode = (typeof MODES)[number];

async function requesterFor(target: ReturnType<typeof createApiApp>, mode: Mode): Promise<Requester> {
  if (mode === 'in-process') return (path, init) => Promise.resolve(target.request(path, init));
  const gateway = await startLocalApiGateway({ port: 0, handler: handle(target) as unknown as ApiHandler });
  gateways.push(gateway);
  return (path, init) => fetch(`${gateway.url}${path}`, init);
}

beforeAll(async () => {
  fixture = await startPipelineFixture();
  dependencies = fixture.apiDependencies({
    logger: process.env.DEBUG_API
      ? { ...silentLog, error: (m: string, a?: Record<string, unknown>) => console.error(m, a) }
      : silentLog,
  });
  app = createApiApp(dependencies);
  voiceIds.alice = await fixture.cloneVoice('incoming/smallest/Alice.wav');
  voiceIds.bob = await fixture.cloneVoice('incoming/typecast/Bob.wav');
  voiceIds.carol = await fixture.cloneVoice('incoming/smallest/Carol.wav');
  voiceIds.rejected = await fixture.cloneVoice('incoming/smallest/noise.wav', new Uint8Array(1_000).fill(7));
  voiceIds.dave = await fixture.cloneVoice('incoming/typecast/Dave.wav');
}, 60_000);

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await fixture?.stop();
});

const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string; retryable: boolean } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'retryable']);
  return body.error;
}

async function wavDuration(bytes: Uint8Array): Promise<number> {
  const metadata = await parseBuffer(bytes, { mimeType: 'audio/wav' }, { duration: true });
  return metadata.format.duration ?? 0;
}

describe.each(MODES)('API %s', (mode) => {
  let call: Requester;

  beforeAll(async () => {
    call = await requesterFor(app, mode);
  });

  describe('GET /voices', () => {
    it('lists voices newest first and pages through them with an opaque cursor', async () => {
      const first = await call('/voices?limit=2');
      expect(first.status).toBe(200);
      const page = (await first.json()) as {
        items: { voiceId: string; createdAt: string }[];
        nextCursor: string | null;
      };
      expect(page.items).toHaveLength(2);
      expect((page.items[0]?.createdAt ?? '') >= (page.items[1]?.createdAt ?? '')).toBe(true);
      expect(page.nextCursor).toEqual(expect.any(String));
      const seen = page.items.map((item) => item.voiceId);
      let cursor = page.nextCursor;
      while (cursor) {
        const next = (await (
          await call(`/voices?limit=2&cursor=${encodeURIComponent(cursor)}`)
        ).json()) as typeof page;
        seen.push(...next.items.map((item) => item.voiceId));
        cursor = next.nextCursor;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expect.arrayContaining(Object.values(voiceIds)));
    });

    it('filters by status and provider', async () => {
      const ready = (await (await call('/voices?status=ready&provider=typecast')).json()) as {
        items: { status: string; provider: string }[];
      };
      expect(ready.items.length).toBeGreaterThanOrEqual(2);
      expect(ready.items.every((item) => item.status === 'ready' && item.provider === 'typecast')).toBe(true);
      const rejected = (await (await call('/voices?status=rejected')).json()) as {
        items: { voiceId: string }[];
      };
      expect(rejected.items.map((item) => item.voiceId)).toContain(voiceIds.rejected);
    });

    it('never shows internal bookkeeping', async () => {
      const body = (await (await call('/voices')).json()) as { items: Record<string, unknown>[] };
      for (const item of body.items) {
        expect(item).not.toHaveProperty('processing');
        expect(item).not.toHaveProperty('listPartition');
      }
    });

    it('answers 400 for a bad limit, an unknown status or a forged cursor', async () => {
      expect((await errorOf(await call('/voices?limit=0'))).code).toBe('invalid_request');
      expect((await call('/voices?limit=1000')).status).toBe(400);
      expect((await call('/voices?status=sleeping')).status).toBe(400);
      expect((await call('/voices?color=red')).status).toBe(400);
      expect((await errorOf(await call('/voices?cursor=bm90LWEtY3Vyc29y'))).code).toBe('invalid_cursor');
    });
  });

  describe('GET /voices/{voiceId}', () => {
    it('returns the record with status, source facts and samples', async () => {
      const response = await call(`/voices/${voiceIds.alice}`);
      expect(response.status).toBe(200);
      const voice = (await response.json()) as Record<string, unknown>;
      expect(voice).toMatchObject({
        voiceId: voiceIds.alice,
        status: 'ready',
        provider: 'smallest',
        displayName: 'Alice',
      });
      expect(voice.samples).toEqual(expect.any(Array));
      expect(voice).not.toHaveProperty('processing');
    });

    it('returns a rejected voice with its reason', async () => {
      const voice = (await (await call(`/voices/${voiceIds.rejected}`)).json()) as {
        error: { code: string };
      };
      expect(voice.error.code).toBe('unreadable_audio');
    });

    it('answers 404 for an unknown or malformed id, without echoing internals', async () => {
      const unknown = await call('/voices/vc_aaaaaaaaaaaaaaaaaaaaaaaaaa');
      expect(unknown.status).toBe(404);
      expect((await errorOf(unknown)).code).toBe('voice_not_found');
      expect((await call('/voices/..%2F..%2Fetc%2Fpasswd')).status).toBe(404);
      expect((await call('/voices/audio%23smallest')).status).toBe(404);
    });
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
      const response = await call(`/voices/${voiceIds.carol}/speech`, json({ text, sampleRate: 16000 }));
      expect(response.status).toBe(200);
      const calls = fixture.smallest.state.counts.speech - before;
      expect(calls).toBeGreaterThanOrEqual(Math.ceil(text.length / 250));
      expect(Number(response.headers.get('x-speech-chunks'))).toBe(calls);
      const audio = new Uint8Array(await response.arrayBuffer());
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

    it('redirects (303) to the stored audio when inline audio would exceed a Lambda response', async () => {
      const text = 'A long passage read aloud at full quality, far too long for one response. '.repeat(12);
      const response = await call(`/voices/${voiceIds.bob}/speech`, {
        ...json({ text }),
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      const body = (await response.json()) as { url: string; bytes: number; contentType: string };
      expect(response.headers.get('location')).toBe(body.url);
      expect(body.bytes).toBeGreaterThan(4_400_000);
      const audio = new Uint8Array(await (await fetch(body.url)).arrayBuffer());
      expect(audio.length).toBe(body.bytes);
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
      expect((await call(`/voices/${voiceIds.bob}/speech`, json({ text: 'Busy once.' }))).status).toBe(200);
      fixture.typecast.injectFault({
        route: 'speech',
        type: 'status',
        status: 429,
        retryAfterSec: 2,
        times: 2,
      });
      const limited = await call(`/voices/${voiceIds.bob}/speech`, json({ text: 'Busy twice.' }));
      expect(limited.status).toBe(429);
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

  describe('DELETE /voices/{voiceId}', () => {
    it('deletes the clone at the provider, the source audio and marks the record deleted; idempotently', async () => {
      const voiceId = await fixture.cloneVoice('incoming/typecast/To delete.wav');
      const record = await fixture.voices.get(voiceId);
      expect(fixture.typecast.state.clones.has(record?.providerVoiceId as string)).toBe(true);

      const response = await call(`/voices/${voiceId}`, { method: 'DELETE' });
      expect(response.status).toBe(200);
      const deleted = (await response.json()) as {
        status: string;
        deletedAt: string;
        deletion: { provider: string };
      };
      expect(deleted.status).toBe('deleted');
      expect(Date.parse(deleted.deletedAt)).not.toBeNaN();
      expect(deleted.deletion.provider).toBe('deleted');
      expect(fixture.typecast.state.clones.has(record?.providerVoiceId as string)).toBe(false);
      await expect(
        fixture.local.s3.send(
          new HeadObjectCommand({ Bucket: fixture.bucket, Key: 'incoming/typecast/To delete.wav' }),
        ),
      ).rejects.toThrow();

      const deletesBefore = fixture.typecast.state.counts.delete;
      const again = await call(`/voices/${voiceId}`, { method: 'DELETE' });
      expect(again.status).toBe(200);
      expect(((await again.json()) as { status: string }).status).toBe('deleted');
      expect(fixture.typecast.state.counts.delete).toBe(deletesBefore);

      expect((await call(`/voices/${voiceId}`)).status).toBe(410);
      expect((await call(`/voices/${voiceId}/speech`, json({ text: 'gone' }))).status).toBe(410);
      const listed = (await (await call('/voices?limit=100')).json()) as {
        items: { voiceId: string }[];
      };
      expect(listed.items.map((item) => item.voiceId)).not.toContain(voiceId);
      const deletedList = (await (await call('/voices?status=deleted')).json()) as {
        items: { voiceId: string }[];
      };
      expect(deletedList.items.map((item) => item.voiceId)).toContain(voiceId);
    });

    it('says so honestly when Smallest refuses to delete with an API key, and still removes local data', async () => {
      const refusing = await startSmallestSimulator({ deleteMode: 'api-key-refused' });
      try {
        const keys = createStaticKeyStore(SIMULATOR_KEYS, 'test');
        const smallest = createProvider('smallest', {
          apiKey: keys.supplier('smallest'),
          baseUrl: refusing.url,
          timeoutMs: 5_000,
        });
        const clone = await smallest.cloneVoice({
          audio: await fixture.local.s3
            .send(new GetObjectCommand({ Bucket: fixture.bucket, Key: 'incoming/smallest/Alice.wav' }))
            .then((object) =>
              (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
            ),
          format: 'wav',
          displayName: 'Refused',
          model: 'lightning-v3.1',
          voiceRecordId: 'vc_refusedrefusedrefusedref',
        });
        const voiceId = await fixture.cloneVoice('incoming/smallest/Refused.wav');
        const record = await fixture.voices.get(voiceId);
        // Point the record at the clone on the refusing provider.
        await fixture.setRecordFields(voiceId, { providerVoiceId: clone.providerVoiceId });
        const refusingApp = createApiApp({ ...dependencies, providers: { ...fixture.providers, smallest } });
        const response = await (await requesterFor(refusingApp, mode))(`/voices/${voiceId}`, {
          method: 'DELETE',
        });
        expect(response.status).toBe(200);
        const body = (await response.json()) as {
          status: string;
          deletion: { provider: string; detail: string };
        };
        expect(body.status).toBe('deleted');
        expect(body.deletion.provider).toBe('not_deleted');
        expect(body.deletion.detail).toMatch(/dashboard/);
        expect(record?.status).toBe('ready');
      } finally {
        await refusing.close();
      }
    });

    it('answers 404 for an unknown voice', async () => {
      expect((await call('/voices/vc_aaaaaaaaaaaaaaaaaaaaaaaaaa', { method: 'DELETE' })).status).toBe(404);
    });
  });

  describe('POST /uploads', () => {
    it('returns a presigned POST whose upload becomes a ready voice with the requested name', async () => {
      const response = await call(
        '/uploads',
        json({
          fileName: 'Zoë take 1.wav',
          provider: 'typecast',
          displayName: 'Zoë 東京',
          tags: ['warm', 'calm'],
          contentType: 'audio/wav',
        }),
      );
      expect(response.status).toBe(201);
      const upload = (await response.json()) as UploadForm;
      expect(upload).toMatchObject({
        method: 'POST',
        key: 'incoming/typecast/Zoë take 1.wav',
        maxBytes: PROVIDER_LIMITS.typecast.maxBytes,
      });
      expect(upload.fields).toMatchObject({
        key: upload.key,
        'x-amz-meta-display-name': encodeURIComponent('Zoë 東京'),
        'x-amz-meta-tags': 'warm%2Ccalm',
        'Content-Type': 'audio/wav',
      });
      const { makeWav } = await import('../support/audio');
      const post = await postForm(upload, makeWav({ durationSec: 6.789, sampleRate: 16_000 }));
      expect(post.status).toBe(204);
      const head = await fixture.local.s3.send(
        new HeadObjectCommand({ Bucket: fixture.bucket, Key: upload.key }),
      );
      expect(head.Metadata?.['display-name']).toBe(encodeURIComponent('Zoë 東京'));
      expect(head.ContentType).toBe('audio/wav');
      const { handleCloneEvent } = await import('../../functions/clone/batch');
      const { s3NotificationRecord, sqsEvent, lambdaContext } = await import('../support/aws-local');
      const { deriveVoiceId } = await import('../../functions/shared/voices/record');
      const etag = (head.ETag ?? '').replace(/"/g, '');
      await handleCloneEvent(
        sqsEvent(
          s3NotificationRecord({
            bucket: fixture.bucket,
            key: upload.key,
            size: head.ContentLength ?? 0,
            etag,
          }),
        ),
        lambdaContext(),
        fixture.cloneDependencies,
      );
      const voice = await fixture.voices.get(deriveVoiceId(fixture.bucket, upload.key, etag));
      expect(voice).toMatchObject({ status: 'ready', displayName: 'Zoë 東京', tags: ['warm', 'calm'] });
    });

    it('refuses names, models and sizes the provider would reject, and path tricks in the file name', async () => {
      const longName = await call(
        '/uploads',
        json({ fileName: 'x.wav', provider: 'typecast', displayName: 'n'.repeat(31) }),
      );
      expect(longName.status).toBe(422);
      expect((await errorOf(longName)).code).toBe('invalid_name');
      expect((await call('/uploads', json({ fileName: 'x.wav', model: 'lightning-v2' }))).status).toBe(422);
      expect((await call('/uploads', json({ fileName: 'x.wav', sizeBytes: 6_000_000 }))).status).toBe(422);
      expect((await call('/uploads', json({ fileName: '../secrets/x.wav' }))).status).toBe(400);
      expect((await call('/uploads', json({ fileName: '..' }))).status).toBe(400);
      expect((await call('/uploads', json({ fileName: 'x.wav', provider: 'elevenlabs' }))).status).toBe(400);
      expect((await call('/uploads', json({ fileName: `x${POST_FILENAME_VARIABLE}` }))).status).toBe(400);
    });

    // s3rver stores a POST without evaluating its policy, so what S3 enforces is read from the signed policy.
    it("signs a policy that pins the key, every field and a size range up to the provider's limit", async () => {
      const upload = (await (
        await call('/uploads', json({ fileName: 'a.wav', provider: 'smallest', language: 'en' }))
      ).json()) as UploadForm;
      const policy = policyOf(upload);

      expect(upload.maxBytes).toBe(PROVIDER_LIMITS.smallest.maxBytes);
      expect(policy.conditions).toContainEqual([
        'content-length-range',
        1,
        PROVIDER_LIMITS.smallest.maxBytes,
      ]);
      expect(policy.conditions).toContainEqual({ key: 'incoming/smallest/a.wav' });
      expect(policy.conditions).toContainEqual({ bucket: fixture.bucket });
      expect(policy.conditions).toContainEqual({ 'x-amz-meta-language': 'en' });
      // Every field sent, except the policy and its signature, is a condition of the policy.
      const pinned = new Set(policy.conditions.flatMap((condition) => Object.keys(condition)));
      const unsigned = Object.keys(upload.fields).filter((name) => !pinned.has(name));
      expect(unsigned.sort()).toEqual(['Policy', 'X-Amz-Signature']);
      expect(Date.parse(policy.expiration) - Date.parse(upload.expiresAt)).toBeLessThan(2_000);
    });

    it('signs exactly the size the caller announced', async () => {
      const upload = (await (
        await call('/uploads', json({ fileName: 'b.wav', provider: 'smallest', sizeBytes: 123_456 }))
      ).json()) as UploadForm;

      expect(upload.maxBytes).toBe(123_456);
      expect(policyOf(upload).conditions).toContainEqual(['content-length-range', 123_456, 123_456]);
    });
  });

  describe('unknown routes', () => {
    it('answer 404 with the JSON error shape', async () => {
      const response = await call('/nothing-here');
      expect(response.status).toBe(404);
      expect((await errorOf(response)).code).toBe('not_found');
    });
  });
});
