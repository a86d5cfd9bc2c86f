/**
 * Local mode killed (SIGKILL) while webhooks wait for a retry, then started again on the same data
 * folder: every pending webhook is delivered under the webhook-id it had, and no event is announced twice.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { dataPaths, localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { type RunningLocalMode, startLocalMode } from '../support/local-mode';

const secret = `whsec_${randomBytes(24).toString('base64')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-webhook-restart-'));
let running: RunningLocalMode | undefined;
let accepting = false;
const deliveries: { id: string; type: string; answered: number }[] = [];
const verifier = new Webhook(secret);
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const payload = verifier.verify(
      Buffer.concat(chunks).toString('utf8'),
      request.headers as Record<string, string>,
    ) as { type: string };
    const answered = accepting ? 204 : 503;
    deliveries.push({ id: String(request.headers['webhook-id']), type: payload.type, answered });
    response.writeHead(answered).end();
  });
});

afterAll(async () => {
  await running?.stop();
  await new Promise((done) => receiver.close(done));
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${running?.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('webhooks across a crash of local mode', () => {
  it('delivers what was pending under the same webhook-ids, and announces nothing twice', async () => {
    await new Promise<void>((listening) => receiver.listen(0, '127.0.0.1', listening));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const args = ['--data-dir', dataDir, '--s3-port', '0', '--dynamodb-port', '0', '--api-port', '0'];
    running = await startLocalMode([...args, '--webhook', url], { WEBHOOK_SECRET: secret });
    const { info } = running;
    const put = await localS3Client(info.s3Endpoint).send(
      new PutObjectCommand({
        Bucket: info.bucket,
        Key: 'incoming/restart.wav',
        Body: makeWav({ durationSec: 6, sampleRate: 16_000, seed: 77 }),
      }),
    );
    const voiceId = deriveVoiceId(info.bucket, 'incoming/restart.wav', (put.ETag ?? '').replace(/"/g, ''));
    await waitFor('voice.ready refused once', () =>
      deliveries.some((delivery) => delivery.type === 'voice.ready') ? true : undefined,
    );

    await running.crash();
    running = undefined;
    const pending = readdirSync(dataPaths(dataDir).webhookOutbox).filter((name) => name.endsWith('.json'));
    expect(pending).toHaveLength(2);
    const refusedIds = [...new Set(deliveries.map((delivery) => delivery.id))].sort();
    expect(refusedIds).toHaveLength(2);

    accepting = true;
    running = await startLocalMode([...args, '--webhook', url], { WEBHOOK_SECRET: secret });
    const accepted = await waitFor('both webhooks delivered after the restart', () => {
      const delivered = deliveries.filter((delivery) => delivery.answered === 204);
      return delivered.length >= 2 ? delivered : undefined;
    });
    expect(accepted.map((delivery) => delivery.id).sort()).toEqual(refusedIds);
    expect(accepted.map((delivery) => delivery.type).sort()).toEqual(['voice.ready', 'voice.received']);
    await waitFor('the outbox to empty', () =>
      readdirSync(dataPaths(dataDir).webhookOutbox).some((name) => name.endsWith('.json')) ? undefined : true,
    );

    const events = readFileSync(dataPaths(dataDir).events, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { DetailType: string; Detail: string });
    expect(events.map((event) => event.DetailType)).toEqual(['Voice Received', 'Voice Ready']);
    expect(events.every((event) => JSON.parse(event.Detail).voiceId === voiceId)).toBe(true);
    // A second second: nothing more arrives (no event invented by the restart).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(deliveries.filter((delivery) => delivery.answered === 204)).toHaveLength(2);
  });
});
