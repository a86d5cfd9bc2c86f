import { createHash, randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { errorMessage } from '../functions/shared/errors';
import type { Log } from '../functions/shared/logger';
import type { Redelivery, RetryBackoff } from '../functions/shared/redelivery-plan';
import { sleep } from '../functions/shared/retry';
import { type DeadLetterLine, deadLetterContext } from './redrive';

/**
 * Local redeliveries and webhook retries come within seconds, 2 s doubling to 60 s (in AWS the clone queue
 * waits 10 s doubling to 15 min, webhooks 30 s doubling to 15 min).
 */
export const LOCAL_RETRY_BACKOFF: RetryBackoff = { baseSeconds: 2, maxSeconds: 60 };

export interface LocalQueueOptions {
  /**
   * Delivers one batch, as Lambda's SQS event source mapping does. A redelivery plan, when given, is
   * applied as the clone handler's SQS adapter applies it in AWS (functions/shared/sqs-redeliveries.ts).
   */
  readonly deliver: (
    event: SQSEvent,
  ) => Promise<SQSBatchResponse & { readonly redeliveries?: readonly Redelivery[] }>;
  /** Batches in flight at once (the event source mapping's maximum concurrency). */
  readonly concurrency: number;
  /**
   * Most messages per batch (the event source mapping's batch size). As in AWS with no batching window,
   * a batch holds what is ready when it starts, up to this many.
   */
  readonly batchSize: number;
  /** Deliveries before a message goes to the dead letters (the queue's maxReceiveCount). */
  readonly maxReceiveCount: number;
  /** Delay before a failed message without a plan is delivered again (the visibility timeout), by delivery. */
  readonly retryDelayMs: (receiveCount: number) => number;
  readonly deadLetterFile?: string;
  readonly log: Log;
  readonly queueArn?: string;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  /** What the handler threw on the latest delivery, if it threw (it reports most failures without). */
  lastError?: string;
}

/**
 * An in-process stand-in for the SQS clone queue and its Lambda event source mapping: at-least-once
 * delivery in the SQS record shape, partial batch failures, redelivery after a delay, a dead-letter file.
 */
export class LocalQueue {
  private readonly ready: Message[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Messages in batches being delivered. */
  private inFlight = 0;
  private batchesInFlight = 0;
  private waiting = 0;
  private idleResolvers: (() => void)[] = [];
  private stopped = false;
  readonly deadLetters: DeadLetterLine[] = [];

  constructor(private readonly options: LocalQueueOptions) {}

  send(body: string): string {
    const message: Message = { messageId: randomUUID(), body, sentAt: Date.now(), receiveCount: 0 };
    this.ready.push(message);
    this.pump();
    return message.messageId;
  }

  /** Messages not yet finished (ready, in flight or waiting for redelivery). */
  get pending(): number {
    return this.ready.length + this.inFlight + this.waiting;
  }

  /** Resolves when nothing is pending. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  /** Stops delivering; waits for the batches in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    while (this.inFlight > 0) await sleep(20);
  }

  private pump(): void {
    while (!this.stopped && this.batchesInFlight < this.options.concurrency && this.ready.length > 0) {
      const batch = this.ready.splice(0, Math.max(1, this.options.batchSize));
      this.inFlight += batch.length;
      this.batchesInFlight += 1;
      void this.deliver(batch).finally(() => {
        this.inFlight -= batch.length;
        this.batchesInFlight -= 1;
        this.pump();
        this.settleIdle();
      });
    }
  }

  private async deliver(batch: readonly Message[]): Promise<void> {
    for (const message of batch) {
      message.receiveCount += 1;
      message.lastError = undefined;
    }
    let response: Awaited<ReturnType<LocalQueueOptions['deliver']>> | undefined;
    try {
      response = await this.options.deliver({ Records: batch.map((message) => this.toRecord(message)) });
    } catch (error) {
      // As in AWS: a handler that throws fails the whole batch.
      const lastError = errorMessage(error);
      for (const message of batch) message.lastError = lastError;
      this.options.log.error('clone handler threw; the batch will be delivered again', {
        messageIds: batch.map((message) => message.messageId),
        error: lastError,
      });
    }
    await Promise.all(
      batch.map((message) => {
        const failed =
          !response ||
          response.batchItemFailures.some((failure) => failure.itemIdentifier === message.messageId);
        const plan = response?.redeliveries?.find((redelivery) => redelivery.messageId === message.messageId);
        return failed ? this.redeliver(message, plan) : undefined;
      }),
    );
  }

  private async redeliver(message: Message, plan: Redelivery | undefined): Promise<void> {
    if (plan?.kind === 'requeue') {
      // Sent again as a new message (as the AWS adapter does): waiting for a slot is not a delivery.
      message.receiveCount = 0;
    } else if (message.receiveCount >= this.options.maxReceiveCount) {
      await this.deadLetter(message);
      return;
    }
    if (this.stopped) return;
    this.waiting += 1;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.waiting -= 1;
        this.ready.push(message);
        this.pump();
      },
      plan ? plan.delaySeconds * 1_000 : this.options.retryDelayMs(message.receiveCount),
    );
    this.timers.add(timer);
  }

  /**
   * Keeps what a person needs next to the body: the uploads it names (keys decoded, voice ids), how many
   * deliveries it had, when it was first sent and dead-lettered. `npm run redrive -- --local` sends it back.
   */
  private async deadLetter(message: Message): Promise<void> {
    const letter: DeadLetterLine = {
      messageId: message.messageId,
      receiveCount: message.receiveCount,
      sentAt: new Date(message.sentAt).toISOString(),
      at: new Date().toISOString(),
      ...deadLetterContext(message.body),
      ...(message.lastError === undefined ? {} : { lastError: message.lastError }),
      body: message.body,
    };
    this.deadLetters.push(letter);
    this.options.log.warn('message moved to the dead letters', {
      messageId: message.messageId,
      receiveCount: message.receiveCount,
      keys: letter.uploads.map((upload) => upload.key),
      voiceIds: letter.uploads.map((upload) => upload.voiceId),
    });
    if (this.options.deadLetterFile) {
      await appendFile(this.options.deadLetterFile, `${JSON.stringify(letter)}\n`);
    }
  }

  private settleIdle(): void {
    if (this.pending > 0) return;
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
  }

  private toRecord(message: Message): SQSRecord {
    const now = String(Date.now());
    return {
      messageId: message.messageId,
      receiptHandle: `local-${message.messageId}-${message.receiveCount}`,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: now,
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(message.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.options.queueArn ?? 'arn:aws:sqs:us-east-1:000000000000:voicedrop-local-clone',
      awsRegion: 'us-east-1',
    };
  }
}
