/**
 * A stand-in for the voices table's DynamoDB stream in local mode (dynalite has none), feeding the events
 * function's own code (functions/events/stream-batch.ts).
 *
 * Faithful where it matters: dynalite writes each item through its item store under a per-key lock, after
 * the write's condition held. This module wraps exactly that store's put and del, so a record exists only
 * for a write that was committed (a failed condition never reaches them), with the old image read under
 * the same lock. The stream record is committed in the same LevelDB batch as the item itself: a crash
 * either keeps both or neither, so a restart neither loses an event nor invents one. Records are read in
 * order from a checkpoint that advances only after the consumer succeeded (at least once, like Lambda's
 * event source mapping), then trimmed.
 */
import { createRequire } from 'node:module';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describeError, type Log } from '../functions/shared/logger';

const require = createRequire(import.meta.url);

/** Part of dynalite's store (node_modules/dynalite/db/index.js) that the stream needs. */
export interface DynaliteStore {
  readonly db: LevelLike;
  getItemDb(tableName: string): ItemDb;
}

interface LevelLike {
  get(key: string): Promise<unknown>;
  batch(operations: readonly LevelOperation[]): Promise<void>;
  iterator(options: {
    gt?: string;
    lt?: string;
    reverse?: boolean;
    limit?: number;
  }): AsyncIterable<[string, unknown]>;
}

type LevelOperation =
  | { readonly type: 'put'; readonly key: string; readonly value: unknown }
  | { readonly type: 'del'; readonly key: string };

interface ItemDb {
  put(key: string, value: unknown, callback: (error?: Error | null) => void): void;
  del(key: string, callback: (error?: Error | null) => void): void;
}

/** How dynalite prefixes a table's items in its one LevelDB (getItemDb → `item-<table>~`). */
const itemPrefix = (tableName: string) => `item-${tableName}~`;
/** Our records live beside them, under prefixes dynalite never uses. */
const STREAM_PREFIX = 'voicedrop-stream~';
const CHECKPOINT_KEY = 'voicedrop-stream-checkpoint';
/** Sequence numbers as fixed-width strings, so LevelDB's key order is the stream's order. */
const sequenceKey = (sequence: number) => `${STREAM_PREFIX}${String(sequence).padStart(16, '0')}`;
const STREAM_END = `${STREAM_PREFIX}\xff`;

type DynamoItem = Record<string, Record<string, unknown>>;

interface StoredStreamRecord {
  readonly sequence: number;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: DynamoItem;
  readonly oldImage?: DynamoItem;
  readonly newImage?: DynamoItem;
  readonly at: number;
}

/**
 * Calls dynalite's factory and hands back its store as well (dynalite does not expose it): its module's
 * `create` is wrapped for this one synchronous call.
 */
export function createDynaliteWithStore<Server>(
  factory: (options: Record<string, unknown>) => Server,
  options: Record<string, unknown>,
): { server: Server; store: DynaliteStore } {
  const dynaliteDb = require('dynalite/db/index.js') as { create: (options: unknown) => DynaliteStore };
  const create = dynaliteDb.create;
  let store: DynaliteStore | undefined;
  dynaliteDb.create = (createOptions: unknown) => {
    store = create(createOptions);
    return store;
  };
  try {
    const server = factory(options);
    if (!store) throw new Error('dynalite did not create its store through db.create');
    return { server, store };
  } finally {
    dynaliteDb.create = create;
  }
}

export type StreamConsumer = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface LocalTableStreamOptions {
  readonly store: DynaliteStore;
  readonly tableName: string;
  /** Most records per consumer call (the event source mapping's batch size). */
  readonly batchSize?: number;
  /** Delay before a failed batch is offered again. */
  readonly retryDelayMs?: number;
  readonly log: Log;
}

/** The captured writes of one table, and their delivery to one consumer. */
export class LocalTableStream {
  private nextSequence = 1;
  private commits: Promise<void> = Promise.resolve();
  private consumer?: StreamConsumer;
  private pumping?: Promise<void>;
  private again = false;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private idleResolvers: (() => void)[] = [];

  private constructor(private readonly options: LocalTableStreamOptions) {}

  /** Starts capturing the table's writes (before anything writes to it). */
  static async capture(options: LocalTableStreamOptions): Promise<LocalTableStream> {
    const stream = new LocalTableStream(options);
    for await (const [key] of options.store.db.iterator({
      gt: STREAM_PREFIX,
      lt: STREAM_END,
      reverse: true,
      limit: 1,
    })) {
      stream.nextSequence = Number(key.slice(STREAM_PREFIX.length)) + 1;
    }
    const checkpoint = Number((await options.store.db.get(CHECKPOINT_KEY)) ?? 0);
    stream.nextSequence = Math.max(stream.nextSequence, checkpoint + 1);
    stream.wrapItemStore();
    return stream;
  }

  /** Delivers every record after the checkpoint, now and as writes come, to `consumer`. */
  start(consumer: StreamConsumer): void {
    this.consumer = consumer;
    this.kick();
  }

  /** Resolves when every captured record has been consumed. */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.pumping) await this.pumping;
      else if (!(await this.hasPending())) return;
      else await new Promise<void>((resolve) => this.idleResolvers.push(resolve));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.pumping;
  }

  private wrapItemStore(): void {
    const { store, tableName } = this.options;
    const items = store.getItemDb(tableName);
    const prefix = itemPrefix(tableName);
    // dynalite calls these under the item's lock, after the write's condition held.
    items.put = (key, value, callback) => {
      this.commit(prefix + key, { type: 'put', key: prefix + key, value: value as DynamoItem }).then(
        () => callback(null),
        callback,
      );
    };
    items.del = (key, callback) => {
      this.commit(prefix + key, { type: 'del', key: prefix + key }).then(() => callback(null), callback);
    };
  }

  /**
   * The item write and its stream record, in one atomic batch. Commits go one at a time, so sequence
   * numbers are committed in order and the reader never passes one that is still being written.
   */
  private commit(
    key: string,
    write: { type: 'put'; key: string; value: DynamoItem } | { type: 'del'; key: string },
  ): Promise<void> {
    const committed = this.commits.then(() => this.commitNow(key, write));
    this.commits = committed.catch(() => undefined);
    return committed;
  }

  private async commitNow(
    key: string,
    write: { type: 'put'; key: string; value: DynamoItem } | { type: 'del'; key: string },
  ): Promise<void> {
    const oldImage = (await this.options.store.db.get(key)) as DynamoItem | undefined;
    const newImage = write.type === 'put' ? write.value : undefined;
    if (!oldImage && !newImage) {
      await this.options.store.db.batch([write]);
      return;
    }
    const sequence = this.nextSequence;
    this.nextSequence += 1;
    const record: StoredStreamRecord = {
      sequence,
      eventName: !newImage ? 'REMOVE' : oldImage ? 'MODIFY' : 'INSERT',
      keys: keysOf(newImage ?? oldImage ?? {}),
      ...(oldImage ? { oldImage } : {}),
      ...(newImage ? { newImage } : {}),
      at: Date.now(),
    };
    await this.options.store.db.batch([write, { type: 'put', key: sequenceKey(sequence), value: record }]);
    this.kick();
  }

  private kick(): void {
    if (!this.consumer || this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.settleIdle();
    });
  }

  private async pump(): Promise<void> {
    const consumer = this.consumer;
    while (consumer && !this.stopped) {
      const checkpoint = Number((await this.options.store.db.get(CHECKPOINT_KEY)) ?? 0);
      const records = await this.readAfter(checkpoint);
      if (records.length === 0) return;
      let failedAt: number | undefined;
      try {
        const answer = await consumer({ Records: records.map((record) => this.toLambdaRecord(record)) });
        const failure = answer.batchItemFailures[0]?.itemIdentifier;
        if (failure !== undefined) failedAt = Number(failure);
      } catch (error) {
        this.options.log.error('the events consumer threw; the batch is offered again', describeError(error));
        failedAt = records[0]?.sequence;
      }
      const done = failedAt === undefined ? records : records.filter((record) => record.sequence < failedAt);
      await this.advance(checkpoint, done);
      if (failedAt !== undefined) {
        // As Lambda does: the failed record (and all after it) again, later.
        this.retryTimer = setTimeout(() => this.kick(), this.options.retryDelayMs ?? 1_000);
        return;
      }
    }
  }

  private async readAfter(checkpoint: number): Promise<StoredStreamRecord[]> {
    const records: StoredStreamRecord[] = [];
    for await (const [, value] of this.options.store.db.iterator({
      gt: sequenceKey(checkpoint),
      lt: STREAM_END,
      limit: this.options.batchSize ?? 100,
    })) {
      records.push(value as StoredStreamRecord);
    }
    return records;
  }

  /** Moves the checkpoint past `done` and trims them, atomically. */
  private async advance(checkpoint: number, done: readonly StoredStreamRecord[]): Promise<void> {
    const last = done.at(-1);
    if (!last) return;
    await this.options.store.db.batch([
      { type: 'put', key: CHECKPOINT_KEY, value: Math.max(checkpoint, last.sequence) },
      ...done.map((record) => ({ type: 'del' as const, key: sequenceKey(record.sequence) })),
    ]);
  }

  private async hasPending(): Promise<boolean> {
    const checkpoint = Number((await this.options.store.db.get(CHECKPOINT_KEY)) ?? 0);
    return (await this.readAfter(checkpoint)).length > 0 && !this.stopped;
  }

  private settleIdle(): void {
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
  }

  private toLambdaRecord(record: StoredStreamRecord): DynamoDBRecord {
    return {
      eventID: String(record.sequence),
      eventName: record.eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: 'us-east-1',
      eventSourceARN: `arn:aws:dynamodb:us-east-1:000000000000:table/${this.options.tableName}/stream/local`,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(record.at / 1_000),
        Keys: record.keys as never,
        ...(record.newImage ? { NewImage: record.newImage as never } : {}),
        ...(record.oldImage ? { OldImage: record.oldImage as never } : {}),
        SequenceNumber: String(record.sequence),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    };
  }
}

/** The voices table's key (its only key attribute is `voiceId`: functions/shared/contract.ts). */
function keysOf(image: DynamoItem): DynamoItem {
  return image.voiceId ? { voiceId: image.voiceId } : {};
}
