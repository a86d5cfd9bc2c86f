import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeWav } from '../support/audio';
import { dropSample } from '../support/drop';
import { onFreePorts, type RunningLocalMode, startLocalMode } from '../support/local-mode';
import { waitFor } from '../support/wait';
import type { ReceivedWebhook } from '../support/webhook-receiver';
import { webhookTestBed } from '../support/webhook-test-bed';

const bed = webhookTestBed('webhooks');
const { secret, dataDir } = bed;
let running: RunningLocalMode | undefined;
bed.closeAfterwards(() => running?.stop());

describe('events and webhooks in local mode (acceptance)', () => {
  it('delivers every event of a mixed drop and a deletion, each retried under its webhook-id, and logs them', async () => {
    // Refuses the first delivery of every event with a 500, takes the next under the same webhook-id.
    const receiver = await bed.receiver((_delivery, earlier) => (earlier > 0 ? 204 : 500));
    running = await startLocalMode(onFreePorts(dataDir, '--webhook', receiver.url), {
      WEBHOOK_SECRET: secret,
    });
    const { info } = running;
    const wait = { timeoutMs: 60_000, detail: () => running?.output() ?? '' };
    expect(info.webhooks).toEqual([receiver.url]);
    expect(info.webhookSecret).toBeUndefined();
    const upload = (key: string, body: Uint8Array) => dropSample(info, key, body);
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
