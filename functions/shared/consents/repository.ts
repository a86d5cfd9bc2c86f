import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { conditionHeld } from '../conditional-write';
import { VOICES_BY_CONSENT_INDEX } from '../contract';
import { queryItems } from '../query-items';
import type { VoiceRecord } from '../voices/record';
import { DOCUMENT_TRANSLATION, type VoiceRepository } from '../voices/repository';
import { CONSENT_ID_PATTERN, type ConsentRecord } from './record';

/** How a consent item is stored: keyed by the table's `voiceId`, no `consentId` or `listPartition` attribute. */
type StoredConsent = Omit<ConsentRecord, 'consentId'> & { readonly voiceId: string };

/**
 * The consent ledger in the voices table. Every write is conditional: a consent is created once (never
 * overwritten, even by a repeated request with the same id) and only ever changes by being revoked.
 */
export class ConsentRepository {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION);
  }

  /** The ledger in the same table as these voices. */
  static beside(voices: VoiceRepository): ConsentRepository {
    return new ConsentRepository(voices.client, voices.tableName);
  }

  /** Stores a new consent; false when an item with its id exists already (nothing is overwritten). */
  async create(consent: ConsentRecord): Promise<boolean> {
    const { consentId, ...rest } = consent;
    const item: StoredConsent = { voiceId: consentId, ...rest };
    return conditionHeld(() =>
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(voiceId)',
        }),
      ),
    );
  }

  async get(consentId: string): Promise<ConsentRecord | undefined> {
    if (!CONSENT_ID_PATTERN.test(consentId)) return undefined;
    const response = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { voiceId: consentId }, ConsistentRead: true }),
    );
    if (!response.Item) return undefined;
    const { voiceId, ...rest } = response.Item as StoredConsent;
    return { consentId: voiceId, ...rest };
  }

  /**
   * Sets `revokedAt` once (a second revocation leaves the first one's time and principal). Returns the
   * consent as stored afterwards, or undefined when there is none.
   */
  async revoke(consentId: string, by: string, at: Date): Promise<ConsentRecord | undefined> {
    if (!CONSENT_ID_PATTERN.test(consentId)) return undefined;
    // Not held: no such consent, or revoked already (the first revocation stands).
    await conditionHeld(() =>
      this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { voiceId: consentId },
          UpdateExpression: 'SET revokedAt = :at, revokedBy = :by',
          ConditionExpression:
            'attribute_exists(voiceId) AND attribute_exists(grantedBy) AND attribute_not_exists(revokedAt)',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':by': by },
        }),
      ),
    );
    return this.get(consentId);
  }

  /**
   * Every voice record cloned under the consent, oldest first, through the sparse `byConsent` index (never a
   * scan). The index is eventually consistent: callers that act on a status read the record again.
   */
  async voices(consentId: string): Promise<VoiceRecord[]> {
    return queryItems<VoiceRecord>(this.documents, {
      TableName: this.tableName,
      IndexName: VOICES_BY_CONSENT_INDEX,
      KeyConditionExpression: 'consentId = :consent',
      ExpressionAttributeValues: { ':consent': consentId },
    });
  }
}
