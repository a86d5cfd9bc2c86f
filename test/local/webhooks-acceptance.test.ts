/**
 * Issue 14's acceptance, end to end through `npm start`: a receiver written independently of voicedrop's
 * code (node:http and the standardwebhooks package's verify, nothing else) answers 500 to the first
 * delivery of every event. A mixed drop (a voice, a duplicate of it, a rejected upload) and a deletion
 * must each arrive, verified, retried under the same webhook-id; events.jsonl holds the matching entries.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { type RunningLocalMode, startLocalMode } from '../support/local-mode';

interface Delivery {
  readonly id: string;
  readonly type: string;
  readonly voiceId: string;
  readonly answered: number;
}

/** The independent receiver: verifies every delivery, refuses each event's first delivery with a 500. */
function startReceiver(secret: string) {
  const verifier = new Webhook(secret);
  const deliveries: Delivery[] = [];
  const badSignatures: string[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: { type: string; data: { voiceId: string } };
      try {
        payload = verifier.verify(body, request.headers as Record<string, string>) as typeof payload;
      } catch (error) {
        badSignatures.push(String(error));
        response.writeHead(400).end();
        return;
      }
      const id = String(request.headers['webhook-id']);
      const seen = deliveries.some((delivery) => delivery.id === id);
      const answered = seen ? 204 : 500;
      deliveries.push({ id, type: payload.type, voiceId: payload.data.voiceId, answered });
      response.writeHead(answered).end();
    });
  });
  return new Promise<{
    url: string;
    deliveries: Delivery[];
    badSignatures: string[];
    close(): Promise<void>;
  }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
        deliveries,
        badSignatures,
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-webhooks-'));
let running: RunningLocalMode | undefined;
let closeReceiver: (() => Promise<void>) | undefined;

afterAll(async () => {
  await running?.stop();
  await closeReceiver?.();
  rmSync(dataDir, { recursive: true, force: true });
});

async function eventually<T>(read: () => T | undefined, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${running?.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('events and webhooks in local mode (acceptance)', () => {
  it('delivers every event of a mixed drop and a deletion, each retried under its webhook-id, and logs them', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const receiver = await startReceiver(secret);
    closeReceiver = receiver.close;
    running = await startLocalMode(
      [
        '--data-dir',
        dataDir,
        '--s3-port',
        '0',
        '--dynamodb-port',
        '0',
        '--api-port',
        '0',
        '--webhook',
        receiver.url,
      ],
      { WEBHOOK_SECRET: secret },
    );
    const { info } = running;
    expect(info.webhooks).toEqual([receiver.url]);
    expect(info.webhookSecret).toBeUndefined();
    const s3 = localS3Client(info.s3Endpoint);
    const upload = async (key: string, body: Uint8Array) => {
      const put = await s3.send(new PutObjectCommand({ Bucket: info.bucket, Key: key, Body: body }));
      return deriveVoiceId(info.bucket, key, (put.ETag ?? '').replace(/"/g, ''));
    };
    const arrived = (voiceId: string, type: string) =>
      receiver.deliveries.find(
        (delivery) => delivery.voiceId === voiceId && delivery.type === type && delivery.answered === 204,
      );

    const audio = makeWav({ durationSec: 6.5, sampleRate: 16_000 });
    const voice = await upload('incoming/smallest/Ada.wav', audio);
    await eventually(() => arrived(voice, 'voice.ready'), 'voice.ready');
    const duplicate = await upload('incoming/smallest/Ada again.wav', audio);
    const rejected = await upload(
      'incoming/smallest/Too short.wav',
      makeWav({ durationSec: 1, sampleRate: 16_000 }),
    );
    await eventually(() => arrived(duplicate, 'voice.duplicate'), 'voice.duplicate');
    await eventually(() => arrived(rejected, 'voice.rejected'), 'voice.rejected');
    const deletion = await fetch(`${info.apiEndpoint}/voices/${voice}`, { method: 'DELETE' });
    expect(deletion.status).toBe(200);
    await eventually(() => arrived(voice, 'voice.deleted'), 'voice.deleted');
    for (const id of [voice, duplicate, rejected])
      await eventually(() => arrived(id, 'voice.received'), 'voice.received');

    expect(receiver.badSignatures).toEqual([]);
    // Every event: first delivery refused with 500, then the same webhook-id again, taken.
    const byId = Map.groupBy(receiver.deliveries, (delivery) => delivery.id);
    expect(byId.size).toBe(7);
    for (const attempts of byId.values()) {
      expect(attempts.map((attempt) => attempt.answered).slice(0, 2)).toEqual([500, 204]);
      expect(new Set(attempts.map((attempt) => attempt.type)).size).toBe(1);
    }

    const lines = readFileSync(info.events, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.every((line) => line.Source === 'voicedrop' && typeof line.Detail === 'string')).toBe(true);
    const logged = lines.map((line) => {
      const detail = JSON.parse(line.Detail);
      return `${line.DetailType} ${detail.voiceId} ${detail.eventId}`;
    });
    for (const [id, attempts] of byId) {
      const first = attempts[0] as Delivery;
      const detailType = `Voice ${first.type.slice('voice.'.length).replace(/^./, (c) => c.toUpperCase())}`;
      expect(logged).toContain(`${detailType} ${first.voiceId} ${id}`);
    }
    expect(lines).toHaveLength(7);
    expect(running.output()).toContain(`event voice.ready ${voice}`);
  }, 150_000);
});
