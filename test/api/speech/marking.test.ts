import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { parseBuffer } from 'music-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import { id3Tag, wavInfoChunk } from '../../../functions/api/speech/ai-marking';
import { SPEECH_CACHE_PREFIX } from '../../../functions/shared/contract';
import { id3Tags, wavTags } from '../../support/audio-tags';
import { json, type Requester, useApi } from '../api-support';

// Every audio file the API returns or stores says it is AI-generated, with the voice id and the time.
const { dependencies, voiceIds, appRequester } = useApi();

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function expectWavMarked(audio: Uint8Array, voiceId: string): void {
  const { info, chunks } = wavTags(audio);
  // Before the samples, so a streaming reader meets it first.
  expect(chunks.indexOf('LIST')).toBeGreaterThan(-1);
  expect(chunks.indexOf('LIST')).toBeLessThan(chunks.indexOf('data'));
  expect(info.ICMT).toContain('AI-generated');
  expect(info.ICMT).toContain(voiceId);
  expect(info.ISFT).toContain('AI-generated');
  expect(info.ICRD).toMatch(TIME);
}

function expectMp3Marked(audio: Uint8Array, voiceId: string): void {
  const tags = id3Tags(audio);
  expect(tags['TXXX:AI_GENERATED']).toContain('AI-generated');
  expect(tags['TXXX:AI_GENERATED']).toContain(voiceId);
  expect(tags['TXXX:VOICE_ID']).toBe(voiceId);
  expect(tags['TXXX:CREATED_AT']).toMatch(TIME);
  expect(tags.COMM).toContain('AI-generated');
}

describe('AI-generated marking of speech', () => {
  let call: Requester;
  beforeAll(async () => {
    call = await appRequester('over HTTP through the API Gateway adapter');
  });

  const speak = async (voiceId: string, body: Record<string, unknown>) => {
    const response = await call(`/voices/${voiceId}/speech`, json(body));
    expect(response.status).toBe(200);
    return { response, audio: new Uint8Array(await response.arrayBuffer()) };
  };

  it('marks streamed WAV, and the same speech again from the cache', async () => {
    const text = 'A marked line of synthetic speech. And a second sentence for a second piece.';
    const first = await speak(voiceIds.alice, { text });
    expectWavMarked(first.audio, voiceIds.alice);
    const again = await speak(voiceIds.alice, { text });
    expect(again.response.headers.get('x-cache')).toBe('hit');
    expectWavMarked(again.audio, voiceIds.alice);
    // Players still read it: the marking is a chunk they skip.
    const metadata = await parseBuffer(again.audio, { mimeType: 'audio/wav' }, { duration: true });
    expect(metadata.format.duration).toBeGreaterThan(0.5);
  });

  it('marks streamed MP3 with an ID3v2 tag at the start, which an independent reader shows', async () => {
    const { audio } = await speak(voiceIds.bob, { text: 'Marked MP3 speech.', format: 'mp3' });
    expectMp3Marked(audio, voiceIds.bob);
    const metadata = await parseBuffer(audio, { mimeType: 'audio/mpeg' }, { duration: true });
    expect(metadata.common.comment?.map((comment) => comment.text).join(' ')).toContain('AI-generated');
    expect(metadata.format.duration).toBeGreaterThan(0.3);
  });

  it('marks the stored file of "delivery": "url" and every cached piece', async () => {
    const response = await call(
      `/voices/${voiceIds.carol}/speech`,
      json({ text: 'Stored speech, marked as well.', delivery: 'url', format: 'mp3' }),
    );
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const stored = new Uint8Array(await (await fetch(url)).arrayBuffer());
    expectMp3Marked(stored, voiceIds.carol);

    const listed = await dependencies.s3.send(
      new ListObjectsV2Command({
        Bucket: dependencies.bucket,
        Prefix: `${SPEECH_CACHE_PREFIX}${voiceIds.carol}/`,
      }),
    );
    expect(listed.Contents?.length).toBeGreaterThan(0);
    for (const object of listed.Contents ?? []) {
      const got = await dependencies.s3.send(
        new GetObjectCommand({ Bucket: dependencies.bucket, Key: object.Key }),
      );
      const bytes = await got.Body?.transformToByteArray();
      expectMp3Marked(bytes ?? new Uint8Array(), voiceIds.carol);
    }
  });

  it('keeps the marking small (speech latency: a header of a few hundred bytes)', () => {
    const marking = { voiceId: 'vc_aaaaaaaaaaaaaaaaaaaaaaaaaa', at: '2026-12-07T10:00:00.000Z' };
    expect(wavInfoChunk(marking).length).toBeLessThan(400);
    expect(wavInfoChunk(marking).length % 2).toBe(0);
    expect(id3Tag(marking).length).toBeLessThan(500);
  });
});
