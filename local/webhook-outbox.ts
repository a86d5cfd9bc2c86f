/**
 * Local mode's webhook queue: one file per (event, endpoint) under `<data-dir>/webhooks/`, written before
 * the event counts as published, deleted once the endpoint took it. Each is delivered by the webhook
 * function's own code (functions/webhooks/batch.ts) in the SQS record shape, retried on its redelivery
 * plan (local backoff: seconds, not minutes), dead-lettered into `<data-dir>/webhook-dead-letters.jsonl`
 * after as many deliveries as in AWS cover 24 hours, or at once when refused. A restart picks up every
 * file: nothing is lost, and a retry keeps its webhook-id.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { appendFile, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { describeError, type Log } from '../functions/shared/logger';
import type { RetryBackoff } from '../functions/shared/redelivery-plan';
import {
  handleWebhookBatch,
  type WebhookEndpoint,
  webhookMaxReceiveCount,
} from '../functions/webhooks/batch';
import { LOCAL_RETRY_BACKOFF } from './queue';
import type { WebhookDeadLetterLine } from './redrive';

interface OutboxEntry {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  readonly receiveCount: number;
  readonly nextAt: number;
}

export interface WebhookOutboxOptions {
  readonly directory: string;
  readonly deadLetterFile: string;
  readonly endpoints: readonly WebhookEndpoint[];
  readonly secret: string;
  readonly backoff?: RetryBackoff;
  readonly timeoutMs?: number;
  readonly log: Log;
}

export class WebhookOutbox {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly maxReceiveCount: number;
  private stopped = false;

  constructor(private readonly options: WebhookOutboxOptions) {
    mkdirSync(options.directory, { recursive: true });
    this.maxReceiveCount = webhookMaxReceiveCount(options.backoff ?? LOCAL_RETRY_BACKOFF);
  }

  get endpoints(): readonly WebhookEndpoint[] {
    return this.options.endpoints;
  }

  /** Delivers what a previous run left. */
  async resume(): Promise<void> {
    for (const name of await readdir(this.options.directory)) {
      if (!name.endsWith('.json')) continue;
      const entry = JSON.parse(await readFile(join(this.options.directory, name), 'utf8')) as OutboxEntry;
      this.schedule(entry);
    }
  }

  /** Stores one message durably (the same message id for the same event and endpoint), then delivers it. */
  async send(body: string, key: string): Promise<void> {
    const messageId = createHash('sha256').update(key).digest('hex').slice(0, 32);
    const entry: OutboxEntry = { messageId, body, sentAt: Date.now(), receiveCount: 0, nextAt: Date.now() };
    await this.write(entry);
    this.schedule(entry);
  }

  /**
   * Puts a dead-lettered message back (`npm run redrive -- --local --webhooks`): delivered at once, under
   * its old message id and the event's webhook-id, with a fresh round of retries.
   */
  async redeliver(messageId: string, body: string): Promise<void> {
    const entry: OutboxEntry = { messageId, body, sentAt: Date.now(), receiveCount: 0, nextAt: Date.now() };
    await this.write(entry);
    this.schedule(entry);
  }

  /** Messages not yet delivered or dead-lettered. */
  async pending(): Promise<number> {
    return (await readdir(this.options.directory)).filter((name) => name.endsWith('.json')).length;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.inFlight.values());
  }

  private schedule(entry: OutboxEntry): void {
    if (this.stopped || this.timers.has(entry.messageId)) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(entry.messageId);
        const delivery = this.deliver(entry)
          .catch((error) =>
            this.options.log.error('webhook delivery crashed; retried on restart', describeError(error)),
          )
          .finally(() => this.inFlight.delete(entry.messageId));
        this.inFlight.set(entry.messageId, delivery);
      },
      Math.max(0, entry.nextAt - Date.now()),
    );
    this.timers.set(entry.messageId, timer);
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const receiveCount = entry.receiveCount + 1;
    const record = toSqsRecord(entry, receiveCount);
    const result = await handleWebhookBatch(
      { Records: [record] },
      {
        endpoints: new Map(this.options.endpoints.map((endpoint) => [endpoint.id, endpoint])),
        secretOf: async () => this.options.secret,
        deadLetter: (failed, reason) => this.deadLetter(entry, receiveCount, reason, failed.body),
        retryBackoff: this.options.backoff ?? LOCAL_RETRY_BACKOFF,
        timeoutMs: this.options.timeoutMs,
        log: this.options.log,
      },
    );
    const redelivery = result.redeliveries.find((plan) => plan.messageId === entry.messageId);
    if (!redelivery) {
      await unlink(this.path(entry)).catch(() => undefined);
      return;
    }
    if (receiveCount >= this.maxReceiveCount) {
      await this.deadLetter(entry, receiveCount, 'ran out of retries', entry.body);
      await unlink(this.path(entry)).catch(() => undefined);
      return;
    }
    const next: OutboxEntry = {
      ...entry,
      receiveCount,
      nextAt: Date.now() + redelivery.delaySeconds * 1_000,
    };
    await this.write(next);
    this.schedule(next);
  }

  private async deadLetter(
    entry: OutboxEntry,
    receiveCount: number,
    reason: string,
    body: string,
  ): Promise<void> {
    const line: WebhookDeadLetterLine = {
      messageId: entry.messageId,
      receiveCount,
      sentAt: new Date(entry.sentAt).toISOString(),
      at: new Date().toISOString(),
      reason,
      body,
    };
    await appendFile(this.options.deadLetterFile, `${JSON.stringify(line)}\n`);
    this.options.log.warn('webhook moved to the dead letters', { messageId: entry.messageId, reason });
  }

  private path(entry: Pick<OutboxEntry, 'messageId'>): string {
    return join(this.options.directory, `${entry.messageId}.json`);
  }

  /** Written whole to a temporary name and renamed: a crash never leaves half a message. */
  private async write(entry: OutboxEntry): Promise<void> {
    const temporary = `${this.path(entry)}.tmp`;
    await writeFile(temporary, JSON.stringify(entry));
    await rename(temporary, this.path(entry));
  }
}

function toSqsRecord(entry: OutboxEntry, receiveCount: number): SQSRecord {
  return {
    messageId: entry.messageId,
    receiptHandle: `local-${entry.messageId}-${receiveCount}`,
    body: entry.body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(entry.sentAt),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(entry.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(entry.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:voicedrop-local-webhooks',
    awsRegion: 'us-east-1',
  };
}
