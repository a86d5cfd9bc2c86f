import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { conditionHeld } from '../conditional-write';
import { backoffDelayMs, sleep } from '../retry';
import { DOCUMENT_TRANSLATION } from '../voices/repository';
import { PROVIDER_NAMES, type ProviderName } from './types';

/** A held slot: give it back with ProviderSlots.release. */
export interface ProviderSlot {
  readonly provider: ProviderName;
  readonly key: string;
  readonly holder: string;
}

export interface AcquireOptions {
  /** Who holds the slot (the voice id, for the record and for anyone reading the table). */
  readonly holder: string;
  /**
   * The time now on the caller's clock, epoch ms: the one its record leases are on, so a slot's lease and
   * the record's lease end together. Leases are compared on it, advanced by the real time spent waiting.
   * @default Date.now()
   */
  readonly now?: number;
  /** When the slot frees itself if it is never released (a crash, a Lambda timeout), epoch ms on that clock. */
  readonly leaseUntil: number;
  /** How long to wait for a free slot, in ms of real time; 0 is a single try. */
  readonly waitMs: number;
}

/**
 * How many clone requests may be in flight at each provider, across every clone invocation (and local
 * mode): `limit` slot items per provider in the voices table (`slot#<provider>#<n>`, outside the list
 * index), each taken by a conditional write with a lease, so a crashed holder frees its slot when the
 * lease ends. Providers allow very few concurrent requests (Smallest documents 1, Typecast 2–15 by plan);
 * the queue's event-source concurrency caps invocations, these slots cap each provider exactly.
 */
export class ProviderSlots {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly limits: Readonly<Record<ProviderName, number>>,
    private readonly options: { readonly pollMs?: number } = {},
  ) {
    // DynamoDBDocumentClient.from writes its translate options into the shared client's config: they must
    // match the VoiceRepository's on the same client, or whichever is made last changes the other's writes.
    this.documents = DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION);
  }

  limit(provider: ProviderName): number {
    return this.limits[provider];
  }

  /** Takes a free slot, polling until `waitUntil`; undefined when every slot stayed taken. */
  async acquire(provider: ProviderName, options: AcquireOptions): Promise<ProviderSlot | undefined> {
    const pollMs = this.options.pollMs ?? 500;
    const started = Date.now();
    const callerNow = options.now ?? started;
    for (let round = 0; ; round += 1) {
      const waited = Date.now() - started;
      const slot = await this.tryEach(provider, options, callerNow + waited);
      if (slot) return slot;
      const left = options.waitMs - (Date.now() - started);
      if (left <= 0) return undefined;
      // Jittered, growing polls (at most four times pollMs): waiting holders do not all knock in step.
      const delay = Math.min(
        left,
        backoffDelayMs(round + 1, { baseMs: pollMs, maxMs: pollMs * 4, jitter: 'equal' }),
      );
      await sleep(delay);
    }
  }

  /** Frees the slot if this holder still has it (a lease that ran out may have been taken over). */
  async release(slot: ProviderSlot): Promise<void> {
    await conditionHeld(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { voiceId: slot.key },
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': slot.holder },
        }),
      ),
    );
  }

  /**
   * Frees every slot, whoever holds it. Only for a single process that owns the table and starts afresh
   * (local mode after a crash); in AWS a crashed holder's lease simply runs out.
   */
  async freeAll(): Promise<void> {
    for (const provider of PROVIDER_NAMES) {
      for (let index = 0; index < this.limits[provider]; index += 1) {
        await this.documents.send(
          new DeleteCommand({ TableName: this.tableName, Key: { voiceId: slotKey(provider, index) } }),
        );
      }
    }
  }

  private async tryEach(
    provider: ProviderName,
    options: AcquireOptions,
    now: number,
  ): Promise<ProviderSlot | undefined> {
    const limit = this.limits[provider];
    // Start at a random slot so that concurrent takers spread over the free ones.
    const first = Math.floor(Math.random() * limit);
    for (let offset = 0; offset < limit; offset += 1) {
      const key = slotKey(provider, (first + offset) % limit);
      const taken = await conditionHeld(() =>
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              voiceId: key,
              holder: options.holder,
              leaseUntil: options.leaseUntil,
              takenAt: new Date(now).toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(voiceId) OR leaseUntil < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        ),
      );
      if (taken) return { provider, key, holder: options.holder };
    }
    return undefined;
  }
}

/** The voices-table key of a provider's slot number `index`: `slot#<provider>#<index>`. */
export function slotKey(provider: ProviderName, index: number): string {
  return `slot#${provider}#${index}`;
}
