/**
 * Issue 14's acceptance, end to end through `npm start`: a receiver written independently of voicedrop's
 * code (test/support/webhook-receiver.ts: node:http and standardwebhooks' verify) answers 500 to the first
 * delivery of every event. A mixed drop (a voice, a duplicate of it, a rejected upload) and a deletion
 * must each arrive, verified, retried under the same webhook-id; events.jsonl holds the matching entries.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { onFreePorts, type RunningLocalMode, startLocalMode } from '../support/local-mode';
import { waitFor } from '../support/wait';
import { type ReceivedWebhook, startWebhookReceiver } from '../support/webhook-receiver';

const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-webhooks-'));
let running: RunningLocalMode | undefined;
let closeReceiver: (() => Promise<void>) | undefined;

afterAll(async () => {
  await running?.stop();
  await closeReceiver?.();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('events and webhooks in local mode (acceptance)', () => {
  it('delivers every event of a mixed drop and a deletion, each retried under its webhook-id, and logs them', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    // Refuses the first delivery of every event with a 500, takes the next under the same webhook-id.
    const receiver = await startWebhookReceiver(secret, (_delivery, earlier) => (earlier > 0 ? 204 : 500));
    closeReceiver = receiver.close;
    running = await startLocalMode(onFreePorts(dataDir, '--webhook', receiver.url), {
      WEBHOOK_SECRET: secret,
    });
    const { info } = running;
    const wait = { timeoutMs: 60_000, detail: () => running?.output() ?? '' };
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
    await waitFor('voice.ready', () => arrived(voice, 'voice.ready'), wait);
    const duplicate = await upload('incoming/smallest/Ada again.wav', audio);
    const rejected = await upload(
      'incoming/smallest/Too short.wav',
      makeWav({ durationSec: 1, sampleRate: 16_000 }),
    );
    await waitFor('voice.duplicate', () => arrived(duplicate, 'voice.duplicate'), wait);
    await waitFor('voice.rejected', () => arrived(rejected, 'voice.rejected'), wait);
    const deletion = await fetch(`${info.apiEndpoint}/voices/${voice}`, { method: 'DELETE' });
    expect(deletion.status).toBe(200);
    await waitFor('voice.deleted', () => arrived(voice, 'voice.deleted'), wait);
    for (const id of [voice, duplicate, rejected])
      await waitFor('voice.received', () => arrived(id, 'voice.received'), wait);

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
      const first = attempts[0] as ReceivedWebhook;
      const detailType = `Voice ${first.type.slice('voice.'.length).replace(/^./, (c) => c.toUpperCase())}`;
      expect(logged).toContain(`${detailType} ${first.voiceId} ${id}`);
    }
    expect(lines).toHaveLength(7);
    expect(running.output()).toContain(`event voice.ready ${voice}`);
  }, 150_000);
});
