import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { conditionHeld } from '../conditional-write';
import { VOICES_BY_CREATED_AT_INDEX } from '../contract';
import { VoicedropError } from '../errors';
import type { ProviderName } from '../providers/types';
import { queryItems } from '../query-items';
import { LIST_PARTITION, type VoiceRecord } from './record';
import {
  DELETED_STATUSES,
  FINAL_STATUSES,
  IN_PROGRESS_STATUSES,
  mayMove,
  RETRIED_WHEN_RETRYABLE_STATUSES,
  VOICE_MADE_STATUSES,
  type VoiceStatus,
} from './status';
import { type TransitionOptions, transitionExpression } from './transition-expression';

/** The index that lists voices newest first (same name in lib/voicedrop-stack.ts and local mode). */
/** Index pages read at most to fill one page of a filtered list. */
const MAX_LIST_ROUNDS = 5;
/** Statuses as expression values (`:<prefix>0` …) and the `IN (…)` list that names them. */
function statusValues(
  prefix: string,
  statuses: Iterable<VoiceStatus>,
): { readonly values: Readonly<Record<string, VoiceStatus>>; readonly list: string } {
  const values: Record<string, VoiceStatus> = Object.fromEntries(
    [...statuses].map((status, index) => [`:${prefix}${index}`, status]),
  );
  return { values, list: `(${Object.keys(values).join(', ')})` };
}
/** For the lease condition (isResumable): work in progress, and failures retried when retryable. */
const IN_PROGRESS = statusValues('inProgress', IN_PROGRESS_STATUSES);
const RETRIED = statusValues('retried', RETRIED_WHEN_RETRYABLE_STATUSES);
/** For the list: what GET /voices leaves out unless asked for by status. */
const DELETED = statusValues('deleted', DELETED_STATUSES);
/** Races claimAudio may lose in a row before the upload is retried later instead. */
const CLAIM_ATTEMPTS = 5;

/**
 * How every document client on the voices table translates items. DynamoDBDocumentClient.from stores these
 * in the underlying client's (shared) config, so every document client made from one DynamoDBClient must
 * use the same options.
 */
export const DOCUMENT_TRANSLATION = {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
} as const;

/** Attributes a transition may set; `undefined` values are left alone, `null` removes the attribute. */
export type VoiceChanges = { readonly [K in keyof VoiceRecord]?: VoiceRecord[K] | null };

export interface AudioClaim {
  readonly claimKey: string;
  readonly ownerVoiceId: string;
}

/** One speech request's figures, added to a voice's `usage`. */
export interface UsageDelta {
  readonly requests: number;
  readonly characters: number;
  readonly providerCharacters: number;
  readonly cacheHits: number;
  readonly at: string;
}

/**
 * Every write to a voice record is conditional, so concurrent deliveries of one S3 event (or two uploads
 * of the same audio) cannot both reach the provider. Single-item conditions only: they are atomic in
 * DynamoDB and in the local emulator alike.
 */
export class VoiceRepository {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    /** The table's client and name: the consent ledger (shared/consents) lives in the same table. */
    readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION);
  }

  async get(voiceId: string): Promise<VoiceRecord | undefined> {
    const response = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { voiceId }, ConsistentRead: true }),
    );
    return response.Item as VoiceRecord | undefined;
  }

  /** Creates the record in `received`; when it exists already (a repeated event) returns the stored one. */
  async createIfAbsent(record: VoiceRecord): Promise<{ created: boolean; record: VoiceRecord }> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...record, listPartition: LIST_PARTITION },
          ConditionExpression: 'attribute_not_exists(voiceId)',
        }),
      );
      return { created: true, record };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(record.voiceId);
      if (!existing) throw error;
      return { created: false, record: existing };
    }
  }

  /**
   * Takes the record for one attempt: allowed when nobody holds it (`received`), when the previous
   * holder's lease ran out (`validating`/`cloning`), or when it failed for a reason a retry can fix.
   * Returns the record as stored after the write, or undefined when someone else holds it or it is done.
   */
  async acquireLease(
    voiceId: string,
    token: string,
    leaseUntil: number,
    now: number,
  ): Promise<VoiceRecord | undefined> {
    try {
      const response = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId },
          UpdateExpression:
            'SET #processing.#leaseToken = :token, #processing.#leaseUntil = :until, #processing.#attempts = if_not_exists(#processing.#attempts, :zero) + :one, updatedAt = :updatedAt',
          ConditionExpression:
            // Only a resumable record (status.ts, isResumable): work in progress, or a retryable failure.
            `attribute_exists(voiceId) AND (attribute_not_exists(#processing.#leaseUntil) OR #processing.#leaseUntil < :now) AND (#status IN ${IN_PROGRESS.list} OR (#status IN ${RETRIED.list} AND #error.#retryable = :true))`,
          ExpressionAttributeNames: {
            '#status': 'status',
            '#processing': 'processing',
            '#leaseToken': 'leaseToken',
            '#leaseUntil': 'leaseUntil',
            '#attempts': 'attempts',
            '#error': 'error',
            '#retryable': 'retryable',
          },
          ExpressionAttributeValues: {
            ':token': token,
            ':until': leaseUntil,
            ':zero': 0,
            ':one': 1,
            ':now': now,
            ...IN_PROGRESS.values,
            ...RETRIED.values,
            ':true': true,
            ':updatedAt': new Date(now).toISOString(),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return response.Attributes as VoiceRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Moves the record from one of `from` to `to` while this attempt still holds the lease.
   * Returns false when the condition failed (the lease was lost or the status moved on).
   */
  async transition(voiceId: string, options: TransitionOptions): Promise<boolean> {
    const illegal = options.from.filter((from) => !mayMove(from, options.to));
    if (illegal.length > 0) {
      throw new Error(`Not a move of the status machine: ${illegal.join(', ')} → ${options.to}`);
    }
    const { names, values, sets, removes, conditions } = transitionExpression(options);
    return conditionHeld(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /**
   * Newest first through the `byCreatedAt` index (never a table scan). Filters apply server-side; a page is
   * filled from up to a few index pages so a selective filter still returns `limit` items when it can.
   */
  async list(options: {
    readonly limit: number;
    readonly status?: VoiceStatus;
    readonly provider?: string;
    readonly after?: { readonly voiceId: string; readonly createdAt: string };
  }): Promise<{ items: VoiceRecord[]; last?: { voiceId: string; createdAt: string } }> {
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':partition': LIST_PARTITION };
    if (options.status) {
      filters.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = options.status;
    } else {
      // Deleted voices, and voices being deleted, are listed only when asked for by status.
      filters.push(`NOT (#status IN ${DELETED.list})`);
      names['#status'] = 'status';
      Object.assign(values, DELETED.values);
    }
    if (options.provider) {
      filters.push('#provider = :provider');
      names['#provider'] = 'provider';
      values[':provider'] = options.provider;
    }
    const items: VoiceRecord[] = [];
    let startKey: Record<string, unknown> | undefined = options.after
      ? { voiceId: options.after.voiceId, createdAt: options.after.createdAt, listPartition: LIST_PARTITION }
      : undefined;
    for (let round = 0; round < MAX_LIST_ROUNDS && items.length < options.limit; round += 1) {
      const response = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: VOICES_BY_CREATED_AT_INDEX,
          KeyConditionExpression: 'listPartition = :partition',
          FilterExpression: filters.length ? filters.join(' AND ') : undefined,
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: options.limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((response.Items ?? []) as VoiceRecord[]));
      startKey = response.LastEvaluatedKey;
      if (!startKey) break;
    }
    const lastKey = startKey as { voiceId?: string; createdAt?: string } | undefined;
    return {
      items,
      last:
        lastKey?.voiceId && lastKey.createdAt
          ? { voiceId: lastKey.voiceId, createdAt: lastKey.createdAt }
          : undefined,
    };
  }

  /**
   * Provider voice ids of this provider's voices with `displayName`: clones voicedrop already knows, which
   * a reconciliation by name must not mistake for the one it is looking for. Reads the list index with a
   * filter (a rare path: only after a clone request's answer was lost).
   */
  async knownProviderVoiceIds(provider: ProviderName, displayName: string): Promise<string[]> {
    const items = await queryItems<{ providerVoiceId?: unknown }>(this.documents, {
      TableName: this.tableName,
      IndexName: VOICES_BY_CREATED_AT_INDEX,
      KeyConditionExpression: 'listPartition = :partition',
      FilterExpression: '#provider = :provider AND displayName = :name AND attribute_exists(providerVoiceId)',
      ExpressionAttributeNames: { '#provider': 'provider' },
      ExpressionAttributeValues: {
        ':partition': LIST_PARTITION,
        ':provider': provider,
        ':name': displayName,
      },
      ProjectionExpression: 'providerVoiceId',
    });
    return items.flatMap((item) => (typeof item.providerVoiceId === 'string' ? [item.providerVoiceId] : []));
  }

  /**
   * Claims byte-identical audio (same provider, model and language) for one voice. The first claim
   * wins; a claim whose owner ended without a voice (failed, rejected, deleted) may be taken over. Each
   * lost race (the claim vanished or changed hands between two reads) starts over, a bounded number of
   * times: then the upload is retried later (`claim_contended`) rather than spinning.
   */
  async claimAudio(claimKey: string, voiceId: string, now: Date): Promise<AudioClaim> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt += 1) {
      const claim = await this.tryClaimAudio(claimKey, voiceId, now);
      if (claim) return claim;
    }
    throw new VoicedropError(
      'claim_contended',
      'Other uploads of the same audio kept changing its claim; this upload will be retried.',
      { retryable: true },
    );
  }

  /** One attempt of claimAudio; undefined when a concurrent writer changed the claim meanwhile. */
  private async tryClaimAudio(claimKey: string, voiceId: string, now: Date): Promise<AudioClaim | undefined> {
    const claimed = await conditionHeld(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { voiceId: claimKey, ownerVoiceId: voiceId, createdAt: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(voiceId) OR ownerVoiceId = :me',
          ExpressionAttributeValues: { ':me': voiceId },
        }),
      ),
    );
    if (claimed) return { claimKey, ownerVoiceId: voiceId };
    const claim = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { voiceId: claimKey }, ConsistentRead: true }),
    );
    const ownerVoiceId = claim.Item?.ownerVoiceId as string | undefined;
    if (!ownerVoiceId) return undefined;
    const owner = await this.get(ownerVoiceId);
    const ownerEndedWithoutVoice =
      !owner || (FINAL_STATUSES.has(owner.status) && !VOICE_MADE_STATUSES.has(owner.status));
    if (!ownerEndedWithoutVoice) return { claimKey, ownerVoiceId };
    const taken = await conditionHeld(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId: claimKey },
          UpdateExpression: 'SET ownerVoiceId = :me, createdAt = :now',
          ConditionExpression: 'ownerVoiceId = :previous',
          ExpressionAttributeValues: { ':me': voiceId, ':previous': ownerVoiceId, ':now': now.toISOString() },
        }),
      ),
    );
    return taken ? { claimKey, ownerVoiceId: voiceId } : undefined;
  }

  /**
   * Adds one speech request's figures to the voice's `usage`, atomically (concurrent requests never lose
   * a count). A record without `usage` gets it first; a record that no longer exists is left alone.
   */
  async recordUsage(voiceId: string, delta: UsageDelta): Promise<void> {
    const add = () => this.documents.send(new UpdateCommand(this.usageAddition(voiceId, delta)));
    if (await conditionHeld(add)) return;
    // No usage yet (or no record): create the map with zeros, unless another request just did.
    await conditionHeld(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId },
          UpdateExpression: 'SET #usage = :zero',
          ConditionExpression: 'attribute_exists(voiceId) AND attribute_not_exists(#usage)',
          ExpressionAttributeNames: { '#usage': 'usage' },
          ExpressionAttributeValues: {
            ':zero': {
              requests: 0,
              characters: 0,
              providerCharacters: 0,
              cacheHits: 0,
              lastUsedAt: delta.at,
            },
          },
        }),
      ),
    );
    // If this fails too, the record is gone: nothing to count on.
    await conditionHeld(add);
  }

  /** Adds `delta` to an existing `usage` map of an existing record. */
  private usageAddition(voiceId: string, delta: UsageDelta): UpdateCommandInput {
    return {
      TableName: this.tableName,
      Key: { voiceId },
      UpdateExpression:
        'ADD #usage.#requests :requests, #usage.#characters :characters, #usage.#providerCharacters :providerCharacters, #usage.#cacheHits :cacheHits SET #usage.#lastUsedAt = :at',
      ConditionExpression: 'attribute_exists(voiceId) AND attribute_exists(#usage)',
      ExpressionAttributeNames: {
        '#usage': 'usage',
        '#requests': 'requests',
        '#characters': 'characters',
        '#providerCharacters': 'providerCharacters',
        '#cacheHits': 'cacheHits',
        '#lastUsedAt': 'lastUsedAt',
      },
      ExpressionAttributeValues: {
        ':requests': delta.requests,
        ':characters': delta.characters,
        ':providerCharacters': delta.providerCharacters,
        ':cacheHits': delta.cacheHits,
        ':at': delta.at,
      },
    };
  }

  /** Releases a claim this voice owns (after a failure), so a later identical upload can clone. */
  async releaseClaim(claimKey: string, voiceId: string): Promise<void> {
    // Not ours (any more): nothing to release.
    await conditionHeld(() =>
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { voiceId: claimKey },
          ConditionExpression: 'ownerVoiceId = :me',
          ExpressionAttributeValues: { ':me': voiceId },
        }),
      ),
    );
  }
}

/** The key of the claim item for byte-identical audio. */
export function audioClaimKey(
  provider: ProviderName,
  model: string,
  language: string | undefined,
  sha256: string,
): string {
  return `audio#${provider}#${model}#${language ?? '-'}#${sha256}`;
}
