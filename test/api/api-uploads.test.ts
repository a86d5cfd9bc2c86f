import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { POST_FILENAME_VARIABLE } from '../../functions/api/schemas';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { policyOf, postForm, type UploadForm } from '../support/upload-form';
import { errorOf, json, MODES, type Requester, useApi } from './api-support';

// The API's upload route: presigned POSTs and their policies, in-process and over HTTP.
const { fixture, appRequester } = useApi();

describe.each(MODES)('API %s', (mode) => {
  let call: Requester;

  beforeAll(async () => {
    call = await appRequester(mode);
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
});
