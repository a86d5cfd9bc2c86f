/**
 * Dead-lettered webhooks and `npm run redrive -- --local --webhooks`: an endpoint that refuses (410) gets
 * each event dead-lettered at once; once it accepts, the redrive (a separate process, while local mode
 * runs) delivers every one again under the same webhook-id, signed, and leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import type { LocalPipeline } from '../../local/pipeline';
import { redriveFolder, type WebhookDeadLetterLine } from '../../local/redrive';
import { dataPaths, localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { startTestPipeline } from '../support/local-pipeline';
import { runScript } from '../support/processes';
import { waitFor } from '../support/wait';
import { startWebhookReceiver } from '../support/webhook-receiver';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-webhook-redrive-'));
let local: LocalPipeline | undefined;
let closeReceiver: (() => Promise<void>) | undefined;

afterAll(async () => {
  await local?.close();
  await closeReceiver?.();
  rmSync(dataDir, { recursive: true, force: true });
});

const deadLetters = (): WebhookDeadLetterLine[] => {
  const file = dataPaths(dataDir).webhookDeadLetters;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as WebhookDeadLetterLine);
};

const redrive = (...args: string[]) =>
  runScript('scripts/redrive.ts', ['--local', '--webhooks', '--data-dir', dataDir, ...args]);

describe('npm run redrive -- --local --webhooks', () => {
  it('delivers dead-lettered webhooks again under their webhook-ids once the endpoint accepts them', async () => {
    let accepting = false;
    const receiver = await startWebhookReceiver(secret, () => (accepting ? 204 : 410));
    closeReceiver = receiver.close;
    local = await startTestPipeline(dataDir, {
      environment: { WEBHOOK_SECRET: secret },
      webhooks: [receiver.url],
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
    const refused = receiver.deliveries.map((delivery) => delivery.id);
    expect(refused).toHaveLength(2);

    const dryRun = await redrive('--dry-run');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('Dry run: would move 2 dead letters');
    expect(dryRun.stdout).toMatch(new RegExp(`voice\\.ready ${voiceId} to endpoint-1, webhook-id evt_`));
    expect(deadLetters()).toHaveLength(2);

    accepting = true;
    const moved = await redrive();
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain('Moved 2 dead letters');

    const accepted = await waitFor('both webhooks delivered', () => {
      const delivered = receiver.deliveries.filter((delivery) => delivery.answered === 204);
      return delivered.length === 2 ? delivered : undefined;
    });
    expect(accepted.map((delivery) => delivery.id).sort()).toEqual([...refused].sort());
    expect(accepted.map((delivery) => delivery.type).sort()).toEqual(['voice.ready', 'voice.received']);
    expect(receiver.badSignatures).toEqual([]);
    await waitFor('the redrive folder and the outbox to empty', () =>
      readdirSync(redriveFolder(dataDir, 'webhooks')).length === 0 &&
      readdirSync(dataPaths(dataDir).webhookOutbox).filter((name) => name.endsWith('.json')).length === 0
        ? true
        : undefined,
    );
    expect(existsSync(dataPaths(dataDir).webhookDeadLetters)).toBe(false);

    const status = await redrive('--status');
    expect(status.stdout).toContain('0 dead letters in');
  });
});
