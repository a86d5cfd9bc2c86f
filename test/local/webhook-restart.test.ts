import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dataPaths } from '../../local/servers';
import { makeWav } from '../support/audio';
import { dropSample } from '../support/drop';
import { onFreePorts, type RunningLocalMode, startLocalMode } from '../support/local-mode';
import { waitFor } from '../support/wait';
import { webhookTestBed } from '../support/webhook-test-bed';

const bed = webhookTestBed('webhook-restart');
const { secret, dataDir } = bed;
let running: RunningLocalMode | undefined;
bed.closeAfterwards(() => running?.stop());

const pendingFiles = () =>
  readdirSync(dataPaths(dataDir).webhookOutbox).filter((name) => name.endsWith('.json'));

describe('webhooks across a crash of local mode', () => {
  it('delivers what was pending under the same webhook-ids, and announces nothing twice', async () => {
    let accepting = false;
    const receiver = await bed.receiver(() => (accepting ? 204 : 503));
    const detail = { timeoutMs: 60_000, detail: () => running?.output() ?? '' };
    const args = onFreePorts(dataDir);
    running = await startLocalMode([...args, '--webhook', receiver.url], { WEBHOOK_SECRET: secret });
    const { info } = running;
    const voiceId = await dropSample(
      info,
      'incoming/restart.wav',
      makeWav({ durationSec: 6, sampleRate: 16_000, seed: 77 }),
    );
    await waitFor(
      'voice.ready refused once',
      () => (receiver.deliveries.some((delivery) => delivery.type === 'voice.ready') ? true : undefined),
      detail,
    );

    await running.crash();
    running = undefined;
    expect(pendingFiles()).toHaveLength(2);
    const refusedIds = [...new Set(receiver.deliveries.map((delivery) => delivery.id))].sort();
    expect(refusedIds).toHaveLength(2);

    accepting = true;
    running = await startLocalMode([...args, '--webhook', receiver.url], { WEBHOOK_SECRET: secret });
    const accepted = await waitFor(
      'both webhooks delivered after the restart',
      () => {
        const delivered = receiver.deliveries.filter((delivery) => delivery.answered === 204);
        return delivered.length >= 2 ? delivered : undefined;
      },
      detail,
    );
    expect(accepted.map((delivery) => delivery.id).sort()).toEqual(refusedIds);
    expect(accepted.map((delivery) => delivery.type).sort()).toEqual(['voice.ready', 'voice.received']);
    await waitFor('the outbox to empty', () => (pendingFiles().length === 0 ? true : undefined), detail);

    const events = readFileSync(dataPaths(dataDir).events, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { DetailType: string; Detail: string });
    expect(events.map((event) => event.DetailType)).toEqual(['Voice Received', 'Voice Ready']);
    expect(events.every((event) => JSON.parse(event.Detail).voiceId === voiceId)).toBe(true);
    // Another second: nothing more arrives (no event invented by the restart).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.deliveries.filter((delivery) => delivery.answered === 204)).toHaveLength(2);
    expect(receiver.badSignatures).toEqual([]);
  });
});
