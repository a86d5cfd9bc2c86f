import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api/app';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { createProvider } from '../../functions/shared/providers/registry';
import { startSmallestSimulator } from '../../simulators/smallest/simulator';
import { SIMULATOR_KEYS } from '../support/clone-dependencies';
import { errorOf, json, MODES, type Requester, useApi } from './api-support';

// The API's voices: listing, reading and deleting them, and unknown routes, in-process and over HTTP.
const { fixture, dependencies, voiceIds, requesterFor, appRequester } = useApi();

describe.each(MODES)('API %s', (mode) => {
  let call: Requester;

  beforeAll(async () => {
    call = await appRequester(mode);
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

      const gone = await call(`/voices/${voiceId}`);
      expect(gone.status).toBe(410);
      const goneBody = (await gone.json()) as {
        error: { code: string };
        voice: { status: string; deletion: { reason: string; provider: string } };
      };
      expect(goneBody.error.code).toBe('voice_deleted');
      expect(goneBody.voice).toMatchObject({
        status: 'deleted',
        deletion: { reason: 'requested', provider: 'deleted' },
      });
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

  describe('unknown routes', () => {
    it('answer 404 with the JSON error shape', async () => {
      const response = await call('/nothing-here');
      expect(response.status).toBe(404);
      expect((await errorOf(response)).code).toBe('not_found');
    });
  });
});
