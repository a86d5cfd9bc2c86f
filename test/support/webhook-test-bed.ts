import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { type ReceivedWebhook, startWebhookReceiver } from './webhook-receiver';

/**
 * What every webhook test of local mode sets up: a signing secret, a data folder of its own and an
 * independent receiver. Call it at a file's top level; after the file's tests it runs what was handed to
 * `closeAfterwards` (in that order: local mode before the receiver it delivers to), then removes the folder.
 */
export function webhookTestBed(name: string) {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const dataDir = mkdtempSync(join(tmpdir(), `voicedrop-${name}-`));
  const closers: (() => Promise<unknown> | undefined)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    secret,
    dataDir,
    closeAfterwards(close: () => Promise<unknown> | undefined): void {
      closers.push(close);
    },
    /** The receiver for this secret (see startWebhookReceiver), closed after the tests. */
    async receiver(answer: (delivery: Omit<ReceivedWebhook, 'answered'>, earlier: number) => number) {
      const receiver = await startWebhookReceiver(secret, answer);
      closers.push(receiver.close);
      return receiver;
    },
  };
}
