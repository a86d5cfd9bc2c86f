/**
 * Lifecycle events and webhooks in local mode, put together: the table stream stand-in
 * (local/table-stream.ts) feeds the events function's code (functions/events/stream-batch.ts), whose
 * PutEvents go to the local bus (local/event-bus.ts), which writes events.jsonl and hands each webhook to
 * the outbox (local/webhook-outbox.ts).
 */
import { randomBytes } from 'node:crypto';
import { handleVoiceStream } from '../functions/events/stream-batch';
import type { EnvironmentReader } from '../functions/shared/config';
import { ENV } from '../functions/shared/contract';
import type { Log } from '../functions/shared/logger';
import type { RetryBackoff } from '../functions/shared/redelivery-plan';
import { sleep } from '../functions/shared/retry';
import { localEventBus } from './event-bus';
import { watchRedrive } from './redrive';
import type { dataPaths } from './servers';
import { type DynaliteStore, LocalTableStream } from './table-stream';
import { WebhookOutbox } from './webhook-outbox';

export interface LocalEvents {
  readonly stream: LocalTableStream;
  readonly outbox: WebhookOutbox;
  /** Resolves when every committed write has been announced and every webhook delivered or dead-lettered. */
  whenSettled(): Promise<void>;
  stop(): Promise<void>;
}

/** WEBHOOK_SECRET (`whsec_…`), or a new one when it is absent. */
export function readWebhookSecret(reader: EnvironmentReader): { secret: string; generated: boolean } {
  return reader.parsed(
    (read) => {
      const given = read(ENV.webhookSecret)?.trim();
      if (!given) return { secret: `whsec_${randomBytes(24).toString('base64')}`, generated: true };
      if (!given.startsWith('whsec_')) {
        throw new Error(`${ENV.webhookSecret} must be a Standard Webhooks secret: whsec_ + base64`);
      }
      return { secret: given, generated: false };
    },
    { secret: '', generated: false },
  );
}

export async function startLocalEvents(options: {
  readonly dataDir: string;
  readonly store: DynaliteStore;
  readonly tableName: string;
  readonly paths: ReturnType<typeof dataPaths>;
  readonly webhooks: readonly string[];
  readonly secret: string;
  readonly backoff?: RetryBackoff;
  readonly log: Log;
}): Promise<LocalEvents> {
  const stream = await LocalTableStream.capture({
    store: options.store,
    tableName: options.tableName,
    log: options.log,
  });
  const endpoints = options.webhooks.map((url, index) => ({ id: `endpoint-${index + 1}`, url }));
  const outbox = new WebhookOutbox({
    directory: options.paths.webhookOutbox,
    deadLetterFile: options.paths.webhookDeadLetters,
    endpoints,
    secret: options.secret,
    backoff: options.backoff,
    log: options.log,
  });
  await outbox.resume();
  // Dead-lettered webhooks moved back by `npm run redrive -- --local --webhooks`, now and while running.
  const redrive = watchRedrive({
    dataDir: options.dataDir,
    target: 'webhooks',
    send: (body, letter) => outbox.redeliver(letter.messageId, body),
    log: options.log,
  });
  const publish = localEventBus({ eventsFile: options.paths.events, endpoints, outbox, log: options.log });
  stream.start((event) => handleVoiceStream(event, { publish, log: options.log }));
  return {
    stream,
    outbox,
    async whenSettled() {
      await stream.whenIdle();
      while ((await outbox.pending()) > 0) await sleep(50);
    },
    async stop() {
      await stream.stop();
      await redrive.close();
      await outbox.stop();
    },
  };
}
