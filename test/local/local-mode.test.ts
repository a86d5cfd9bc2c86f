import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveVoiceId, type VoiceRecord } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { localDynamoClient, localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { type RunningLocalMode, startLocalMode } from '../support/local-mode';

const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-local-mode-'));
let running: RunningLocalMode | undefined;

afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitForStatus(
  voices: VoiceRepository,
  voiceId: string,
  statuses: string[],
): Promise<VoiceRecord> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const record = await voices.get(voiceId);
    if (record && statuses.includes(record.status)) return record;
    if (Date.now() > deadline) throw new Error(`voice ${voiceId} is ${record?.status ?? 'missing'}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('local mode (npm start)', () => {
  it('clones uploads and inbox files with the simulators, stops on Ctrl-C and keeps the voices on restart', async () => {
    running = await startLocalMode(['--data-dir', dataDir, '--s3-port', '0', '--dynamodb-port', '0']);
    const { info } = running;
    expect(info).toMatchObject({
      apiEndpoint: null,
      bucket: 'voicedrop-local',
      table: 'voicedrop-voices',
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      providers: { smallest: 'sim', typecast: 'sim' },
    });
    expect(info.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.output()).toContain('aws --endpoint-url');

    const s3 = localS3Client(info.s3Endpoint);
    const voices = new VoiceRepository(localDynamoClient(info.dynamodbEndpoint), info.table);
    const key = 'incoming/smallest/Ada Lovelace – 東京.wav';
    const audio = makeWav({ durationSec: 6.5, sampleRate: 16_000 });
    const put = await s3.send(new PutObjectCommand({ Bucket: info.bucket, Key: key, Body: audio }));
    const voiceId = deriveVoiceId(info.bucket, key, (put.ETag ?? '').replace(/"/g, ''));
    const ready = await waitForStatus(voices, voiceId, ['ready', 'failed', 'rejected']);
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
    const fromInbox = await waitForStatus(voices, inboxVoiceId, ['ready', 'failed', 'rejected']);
    expect(fromInbox).toMatchObject({ status: 'ready', provider: 'typecast', displayName: 'Grace' });
    expect(readdirSync(join(info.inbox, 'typecast'))).toEqual([]);

    expect(await running.stop()).toBe(0);
    expect(running.output()).toContain('stopped.');

    running = await startLocalMode(['--data-dir', dataDir, '--s3-port', '0', '--dynamodb-port', '0']);
    const again = new VoiceRepository(localDynamoClient(running.info.dynamodbEndpoint), running.info.table);
    expect((await again.get(voiceId))?.status).toBe('ready');
    expect((await again.get(inboxVoiceId))?.status).toBe('ready');
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 120_000);

  it('exits with status 2 and the usage on an unknown flag', async () => {
    await expect(startLocalMode(['--bogus'])).rejects.toThrow(/exited with 2[\s\S]*Usage: npm start/);
  });
});
