/**
 * Dead-lettered webhooks and `npm run redrive -- --local --webhooks`: an endpoint that refuses (410) gets
 * each event dead-lettered at once; once it accepts, the redrive (a separate process, while local mode
 * runs) delivers every one again under the same webhook-id, signed, and leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../functions/shared/logger';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { redriveFolder, type WebhookDeadLetterLine } from '../../local/redrive';
import { dataPaths, localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { runRedriveCli } from '../support/redrive-cli';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-webhook-redrive-'));
let local: LocalPipeline | undefined;
let answer = 410;
const accepted: { id: string; type: string }[] = [];
const refused: string[] = [];
const verifier = new Webhook(secret);
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const payload = verifier.verify(
      Buffer.concat(chunks).toString('utf8'),
      request.headers as Record<string, string>,
    ) as { type: string };
    const id = String(request.headers['webhook-id']);
    if (answer < 300) accepted.push({ id, type: payload.type });
    else refused.push(id);
    response.writeHead(answer).end();
  });
});

afterAll(async () => {
  await local?.close();
  await new Promise((done) => receiver.close(done));
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const deadLetters = (): WebhookDeadLetterLine[] => {
  const file = dataPaths(dataDir).webhookDeadLetters;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as WebhookDeadLetterLine);
};

describe('npm run redrive -- --local --webhooks', () => {
  it('delivers dead-lettered webhooks again under their webhook-ids once the endpoint accepts them', async () => {
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    local = await startLocalPipeline({
      dataDir,
      s3Port: 0,
      dynamodbPort: 0,
      apiPort: 0,
      forceSimulators: true,
      environment: { WEBHOOK_SECRET: secret },
      log: silentLog,
      webhooks: [url],
    });
    const put = await localS3Client(local.info.s3Endpoint).send(
      new PutObjectCommand({
        Bucket: local.info.bucket,
        Key: 'incoming/redriven.wav',
        Body: makeWav({ durationSec: 6, sampleRate: 16_000, seed: 41 }),
      }),
    );
    const voiceId = deriveVoiceId(
      local.info.bucket,
      'incoming/redriven.wav',
      (put.ETag ?? '').replace(/"/g, ''),
    );

    // voice.received and voice.ready, each refused once and dead-lettered without retries.
    const letters = await waitFor('two dead-lettered webhooks', () => {
      const lines = deadLetters();
      return lines.length === 2 ? lines : undefined;
    });
    expect(letters.map((letter) => letter.reason)).toEqual([
      expect.stringContaining('410'),
      expect.stringContaining('410'),
    ]);
    expect(refused).toHaveLength(2);

    const dryRun = await runRedriveCli(['--local', '--webhooks', '--data-dir', dataDir, '--dry-run']);
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('Dry run: would move 2 dead letters');
    expect(dryRun.stdout).toMatch(new RegExp(`voice\\.ready ${voiceId} to endpoint-1, webhook-id evt_`));
    expect(deadLetters()).toHaveLength(2);

    answer = 204;
    const moved = await runRedriveCli(['--local', '--webhooks', '--data-dir', dataDir]);
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain('Moved 2 dead letters');

    await waitFor('both webhooks delivered', () => (accepted.length === 2 ? true : undefined));
    expect(accepted.map((delivery) => delivery.id).sort()).toEqual([...refused].sort());
    expect(accepted.map((delivery) => delivery.type).sort()).toEqual(['voice.ready', 'voice.received']);
    await waitFor('the redrive folder and the outbox to empty', () =>
      readdirSync(redriveFolder(dataDir, 'webhooks')).length === 0 &&
      readdirSync(dataPaths(dataDir).webhookOutbox).filter((name) => name.endsWith('.json')).length === 0
        ? true
        : undefined,
    );
    expect(existsSync(dataPaths(dataDir).webhookDeadLetters)).toBe(false);

    const status = await runRedriveCli(['--local', '--webhooks', '--data-dir', dataDir, '--status']);
    expect(status.stdout).toContain('0 dead letters in');
  });
});
