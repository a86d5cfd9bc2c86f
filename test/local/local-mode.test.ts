import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { localDynamoClient, localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { wavTags } from '../support/audio-tags';
import { dropSample, waitForVoice } from '../support/drop';
import { onFreePorts, type RunningLocalMode, startLocalMode } from '../support/local-mode';
import { postForm, type UploadForm } from '../support/upload-form';

const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-local-mode-'));
let running: RunningLocalMode | undefined;

afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `npm start` on this test's data folder, every server on a free port. */
const startOnFreePorts = () => startLocalMode(onFreePorts(dataDir));

describe('local mode (npm start)', () => {
  it('clones uploads and inbox files with the simulators, stops on Ctrl-C and keeps the voices on restart', async () => {
    running = await startOnFreePorts();
    const { info } = running;
    expect(info.apiEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(info).toMatchObject({
      bucket: 'voicedrop-local',
      table: 'voicedrop-voices',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      providers: { smallest: 'sim', typecast: 'sim' },
    });
    expect(info.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.output()).toContain('aws --endpoint-url');

    const voices = new VoiceRepository(localDynamoClient(info.dynamodbEndpoint), info.table);
    const key = 'incoming/smallest/Ada Lovelace – 東京.wav';
    const audio = makeWav({ durationSec: 6.5, sampleRate: 16_000 });
    const voiceId = await dropSample(info, key, audio);
    const ready = await waitForVoice(voices, voiceId);
    expect(ready).toMatchObject({
      status: 'ready',
      displayName: 'Ada Lovelace – 東京',
      provider: 'smallest',
    });

    mkdirSync(join(info.inbox, 'typecast'), { recursive: true });
    const inboxAudio = makeWav({ durationSec: 8.25, sampleRate: 16_000 });
    writeFileSync(join(info.inbox, 'typecast', 'Grace.wav'), inboxAudio);
    const { createHash } = await import('node:crypto');
    const inboxVoiceId = deriveVoiceId(
      info.bucket,
      'incoming/typecast/Grace.wav',
      createHash('md5').update(inboxAudio).digest('hex'),
    );
    const fromInbox = await waitForVoice(voices, inboxVoiceId);
    expect(fromInbox).toMatchObject({ status: 'ready', provider: 'typecast', displayName: 'Grace' });
    expect(readdirSync(join(info.inbox, 'typecast'))).toEqual([]);

    expect(await running.stop()).toBe(0);
    expect(running.output()).toContain('stopped.');

    running = await startOnFreePorts();
    const again = new VoiceRepository(localDynamoClient(running.info.dynamodbEndpoint), running.info.table);
    expect((await again.get(voiceId))?.status).toBe('ready');
    expect((await again.get(inboxVoiceId))?.status).toBe('ready');
    // The simulators were restarted too; the voices still speak.
    for (const id of [voiceId, inboxVoiceId]) {
      const speech = await fetch(`${running.info.apiEndpoint}/voices/${id}/speech`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text: 'Still here after a restart.' }),
      });
      expect(speech.status).toBe(200);
    }
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 120_000);

  it('serves the API over HTTP: upload by presigned URL, list, speak in WAV and MP3, delete everywhere', async () => {
    running = await startOnFreePorts();
    const api = running.info.apiEndpoint as string;
    const post = (path: string, body: unknown) =>
      fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });

    const upload = (await (
      await post('/uploads', { fileName: 'Hedy.wav', provider: 'typecast', displayName: 'Hédy' })
    ).json()) as UploadForm;
    const sent = await postForm(upload, makeWav({ durationSec: 7.5, sampleRate: 16_000 }), 'Hedy.wav');
    expect(sent.status).toBe(204);

    let voice: { voiceId: string; status: string; displayName: string } | undefined;
    const deadline = Date.now() + 30_000;
    while (voice?.status !== 'ready') {
      if (Date.now() > deadline) throw new Error(`upload not ready: ${JSON.stringify(voice)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const list = (await (await fetch(`${api}/voices?provider=typecast&limit=50`)).json()) as {
        items: (typeof voice)[];
      };
      voice = list.items.find((item) => item?.displayName === 'Hédy');
    }

    const wav = await post(`/voices/${voice.voiceId}/speech`, {
      text: 'Hello from local mode. This is WAV.',
    });
    expect(wav.status).toBe(200);
    expect(wav.headers.get('content-type')).toBe('audio/wav');
    const wavBytes = new Uint8Array(await wav.arrayBuffer());
    expect(new TextDecoder().decode(wavBytes.subarray(0, 4))).toBe('RIFF');
    // Streamed as it is made, so chunked; said again, it comes whole from the cache with its exact size.
    expect(wav.headers.get('x-cache')).toBe('miss');
    expect(wav.headers.get('content-length')).toBeNull();
    const again = await post(`/voices/${voice.voiceId}/speech`, {
      text: 'Hello from local mode. This is WAV.',
    });
    expect(again.headers.get('x-cache')).toBe('hit');
    const againBytes = new Uint8Array(await again.arrayBuffer());
    expect(Number(again.headers.get('content-length'))).toBe(againBytes.length);
    // The same samples; only the header differs: its sizes (placeholders while streaming, exact from the
    // cache) and the time in its AI-generated marking.
    const samples = (bytes: Uint8Array) => {
      const start = wavTags(bytes).chunks.length;
      let offset = 12;
      for (let chunk = 1; chunk < start; chunk++) {
        const size = Buffer.from(bytes).readUInt32LE(offset + 4);
        offset += 8 + size + (size % 2);
      }
      return Buffer.from(bytes.subarray(offset + 8));
    };
    expect(wavTags(againBytes).info.ICMT).toContain(voice.voiceId);
    expect(samples(againBytes).equals(samples(wavBytes))).toBe(true);

    const mp3 = await fetch(`${api}/v1/voices/${voice.voiceId}/speech`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'audio/mpeg' },
      body: JSON.stringify({ text: 'And this is MP3.', format: 'mp3' }),
    });
    expect(mp3.status).toBe(200);
    expect(mp3.headers.get('content-type')).toBe('audio/mpeg');
    const mp3Bytes = new Uint8Array(await mp3.arrayBuffer());
    expect(mp3Bytes[0] === 0xff || new TextDecoder().decode(mp3Bytes.subarray(0, 3)) === 'ID3').toBe(true);

    expect((await fetch(`${api}/voices/vc_aaaaaaaaaaaaaaaaaaaaaaaaaa`)).status).toBe(404);
    expect((await post(`/voices/${voice.voiceId}/speech`, { text: '' })).status).toBe(400);

    const deleted = await fetch(`${api}/voices/${voice.voiceId}`, { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as { status: string }).status).toBe('deleted');
    expect((await fetch(`${api}/voices/${voice.voiceId}`, { method: 'DELETE' })).status).toBe(200);
    expect((await post(`/voices/${voice.voiceId}/speech`, { text: 'gone' })).status).toBe(410);
    const s3 = localS3Client(running.info.s3Endpoint);
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: running.info.bucket, Key: upload.key })),
    ).rejects.toThrow();

    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 120_000);

  it('keeps a deleted Smallest voice’s clone as Smallest does, and deletes it with --sim-smallest-delete', async () => {
    /** Clones a fresh Smallest sample, deletes the voice through the API and answers its `deletion`. */
    const cloneAndDelete = async (seed: number) => {
      const { info } = running as RunningLocalMode;
      const key = `incoming/smallest/Delete me ${seed}.wav`;
      const voiceId = await dropSample(info, key, makeWav({ durationSec: 6, seed }));
      const voices = new VoiceRepository(localDynamoClient(info.dynamodbEndpoint), info.table);
      expect((await waitForVoice(voices, voiceId)).status).toBe('ready');
      const deleted = await fetch(`${info.apiEndpoint}/voices/${voiceId}`, { method: 'DELETE' });
      expect(deleted.status).toBe(200);
      const body = (await deleted.json()) as {
        status: string;
        deletion: { provider: string; detail?: string };
      };
      expect(body.status).toBe('deleted');
      return body.deletion;
    };

    running = await startOnFreePorts();
    expect(running.output()).toContain('--sim-smallest-delete lightning-large');
    const refused = await cloneAndDelete(71);
    expect(refused.provider).toBe('not_deleted');
    expect(refused.detail).toMatch(/Smallest dashboard/);
    expect(await running.stop()).toBe(0);

    running = await startLocalMode(onFreePorts(dataDir, '--sim-smallest-delete', 'lightning-large'));
    // Nothing was spoken with it, so no cached speech went with it; the receipt names local mode's caller.
    expect(await cloneAndDelete(72)).toEqual({
      reason: 'requested',
      by: 'arn:aws:iam::000000000000:user/local-mode',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      provider: 'deleted',
      sourceVersionsDeleted: 1,
      cachedObjectsDeleted: 0,
    });
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 120_000);

  it('exits with status 2 and the usage on an unknown flag or a bad delete mode', async () => {
    await expect(startLocalMode(['--sim-smallest-delete', 'sometimes'])).rejects.toThrow(
      /exited with 2[\s\S]*--sim-smallest-delete must be one of/,
    );
    await expect(startLocalMode(['--bogus'])).rejects.toThrow(/exited with 2[\s\S]*Usage: npm start/);
  });
});
