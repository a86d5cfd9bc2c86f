import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline';
import { redriveFolder, type WebhookDeadLetterLine } from '../../local/redrive';
import { dataPaths } from '../../local/servers';
import { makeWav } from '../support/audio';
import { dropSample } from '../support/drop';
import { startTestPipeline } from '../support/local-pipeline';
import { runScript } from '../support/processes';
import { waitFor } from '../support/wait';
import { webhookTestBed } from '../support/webhook-test-bed';

const bed = webhookTestBed('webhook-redrive');
const { secret, dataDir } = bed;
let local: LocalPipeline | undefined;
bed.closeAfterwards(() => local?.close());

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
    const receiver = await bed.receiver(() => (accepting ? 204 : 410));
    local = await startTestPipeline(dataDir, {
      environment: { WEBHOOK_SECRET: secret },
      webhooks: [receiver.url],
    });
    const voiceId = await dropSample(
      local.info,
      'incoming/redriven.wav',
      makeWav({ durationSec: 6, sampleRate: 16_000, seed: 41 }),
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
