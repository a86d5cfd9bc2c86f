import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { FINAL_STATUSES, LIST_PARTITION, type VoiceRecord, type VoiceStatus } from './record';

/** Attributes a transition may set; `undefined` values are left alone, `null` removes the attribute. */
export type VoiceChanges = { readonly [K in keyof VoiceRecord]?: VoiceRecord[K] | null };

export interface AudioClaim {
  readonly claimKey: string;
  readonly ownerVoiceId: string;
}

/**
 * Every write to a voice record is conditional, so concurrent deliveries of one S3 event (or two uploads
 * of the same audio) cannot both reach the provider. Single-item conditions only: they are atomic in
 * DynamoDB and in the local emulator alike.
 */
export class VoiceRepository {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    });
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
            'attribute_exists(voiceId) AND (attribute_not_exists(#processing.#leaseUntil) OR #processing.#leaseUntil < :now) AND (#status IN (:received, :validating, :cloning) OR (#status = :failed AND #error.#retryable = :true))',
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
            ':received': 'received',
            ':validating': 'validating',
            ':cloning': 'cloning',
            ':failed': 'failed',
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
  async transition(
    voiceId: string,
    options: {
      readonly from: readonly VoiceStatus[];
      readonly to: VoiceStatus;
      readonly token: string;
      readonly changes?: VoiceChanges;
      readonly processing?: Readonly<Record<string, unknown>>;
      readonly releaseLease?: boolean;
      readonly now: Date;
    },
  ): Promise<boolean> {
    const names: Record<string, string> = {
      '#status': 'status',
      '#processing': 'processing',
      '#leaseToken': 'leaseToken',
    };
    const values: Record<string, unknown> = {
      ':to': options.to,
      ':token': options.token,
      ':updatedAt': options.now.toISOString(),
    };
    const sets = ['#status = :to', 'updatedAt = :updatedAt'];
    const removes: string[] = [];
    let index = 0;
    for (const [attribute, value] of Object.entries(options.changes ?? {})) {
      if (value === undefined || attribute === 'status' || attribute === 'voiceId') continue;
      const name = `#a${index}`;
      names[name] = attribute;
      if (value === null) removes.push(name);
      else {
        values[`:a${index}`] = value;
        sets.push(`${name} = :a${index}`);
      }
      index += 1;
    }
    for (const [attribute, value] of Object.entries(options.processing ?? {})) {
      const name = `#p${index}`;
      names[name] = attribute;
      if (value === null || value === undefined) removes.push(`#processing.${name}`);
      else {
        values[`:p${index}`] = value;
        sets.push(`#processing.${name} = :p${index}`);
      }
      index += 1;
    }
    if (options.releaseLease) {
      names['#leaseUntil'] = 'leaseUntil';
      removes.push('#processing.#leaseToken', '#processing.#leaseUntil');
    }
    const fromNames = options.from.map((_, position) => `:from${position}`);
    options.from.forEach((status, position) => {
      values[`:from${position}`] = status;
    });
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: `#status IN (${fromNames.join(', ')}) AND #processing.#leaseToken = :token`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Claims byte-identical audio (same provider, model and language) for one voice. The first claim
   * wins; a claim whose owner ended without a voice (failed, rejected, deleted) may be taken over.
   */
  async claimAudio(claimKey: string, voiceId: string, now: Date): Promise<AudioClaim> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { voiceId: claimKey, ownerVoiceId: voiceId, createdAt: now.toISOString() },
          ConditionExpression: 'attribute_not_exists(voiceId) OR ownerVoiceId = :me',
          ExpressionAttributeValues: { ':me': voiceId },
        }),
      );
      return { claimKey, ownerVoiceId: voiceId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const claim = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { voiceId: claimKey }, ConsistentRead: true }),
    );
    const ownerVoiceId = claim.Item?.ownerVoiceId as string | undefined;
    if (!ownerVoiceId) return this.claimAudio(claimKey, voiceId, now);
    const owner = await this.get(ownerVoiceId);
    const ownerEndedWithoutVoice =
      !owner ||
      (FINAL_STATUSES.has(owner.status) && owner.status !== 'ready' && owner.status !== 'duplicate');
    if (!ownerEndedWithoutVoice) return { claimKey, ownerVoiceId };
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId: claimKey },
          UpdateExpression: 'SET ownerVoiceId = :me, createdAt = :now',
          ConditionExpression: 'ownerVoiceId = :previous',
          ExpressionAttributeValues: { ':me': voiceId, ':previous': ownerVoiceId, ':now': now.toISOString() },
        }),
      );
      return { claimKey, ownerVoiceId: voiceId };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.claimAudio(claimKey, voiceId, now);
    }
  }

  /** Releases a claim this voice owns (after a failure), so a later identical upload can clone. */
  async releaseClaim(claimKey: string, voiceId: string): Promise<void> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { voiceId: claimKey },
          ConditionExpression: 'ownerVoiceId = :me',
          ExpressionAttributeValues: { ':me': voiceId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** The key of the claim item for byte-identical audio. */
export function audioClaimKey(
  provider: string,
  model: string,
  language: string | undefined,
  sha256: string,
): string {
  return `audio#${provider}#${model}#${language ?? '-'}#${sha256}`;
}
