/**
 * Which committed writes of the voices table are voice lifecycle events, and what each event says: one
 * place for the stream consumer in AWS (functions/events/handler.ts) and for local mode, which feeds the
 * same stream records (local/table-stream.ts). README "Events and webhooks" documents the result.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { toVoiceJson } from '../api/voice-json';
import { EVENT_BUS_NAME, EVENT_SOURCE, VOICES_TABLE } from '../shared/contract';
import { hashedId, type VoiceRecord } from '../shared/voices/record';
import type { VoiceStatus } from '../shared/voices/status';

/**
 * The statuses announced, with their EventBridge detail-type and webhook type. The intermediate statuses
 * (`validating`, `cloning`, `deleting`) are not events.
 */
export const VOICE_EVENT_TYPES = {
  received: { detailType: 'Voice Received', type: 'voice.received' },
  ready: { detailType: 'Voice Ready', type: 'voice.ready' },
  rejected: { detailType: 'Voice Rejected', type: 'voice.rejected' },
  failed: { detailType: 'Voice Failed', type: 'voice.failed' },
  duplicate: { detailType: 'Voice Duplicate', type: 'voice.duplicate' },
  deleted: { detailType: 'Voice Deleted', type: 'voice.deleted' },
} as const satisfies Partial<Record<VoiceStatus, { detailType: string; type: string }>>;

export type EventStatus = keyof typeof VOICE_EVENT_TYPES;
export type VoiceEventType = (typeof VOICE_EVENT_TYPES)[EventStatus]['type'];
export type VoiceDetailType = (typeof VOICE_EVENT_TYPES)[EventStatus]['detailType'];
export const EVENT_STATUSES = Object.keys(VOICE_EVENT_TYPES) as EventStatus[];
export const WEBHOOK_EVENT_TYPES: readonly VoiceEventType[] = EVENT_STATUSES.map(
  (status) => VOICE_EVENT_TYPES[status].type,
);

/** The event detail (schemas/voice-event-detail.schema.json); the webhook payload's `data` without `eventId`. */
export interface VoiceEventDetail {
  /** Stable across retries and identical in AWS and local mode; the webhooks' `webhook-id`. */
  readonly eventId: string;
  readonly voiceId: string;
  readonly status: EventStatus;
  /** The status before this write; null when the write created the record. */
  readonly previousStatus: VoiceStatus | null;
  readonly provider: string;
  readonly occurredAt: string;
  /** The API's voice JSON (GET /voices/{id}): never audio, text or keys. */
  readonly voice: Record<string, unknown>;
}

export interface VoiceEvent {
  readonly detailType: VoiceDetailType;
  readonly type: VoiceEventType;
  readonly detail: VoiceEventDetail;
}

/** A PutEvents request entry, as sent to EventBridge and as local mode writes it to events.jsonl. */
export interface EventEntry {
  readonly Source: string;
  readonly DetailType: string;
  readonly Detail: string;
  readonly Time: Date;
  readonly EventBusName: string;
}

function isEventStatus(status: unknown): status is EventStatus {
  return typeof status === 'string' && Object.hasOwn(VOICE_EVENT_TYPES, status);
}

/**
 * The event a stream record announces, or undefined: only voice records (items carrying the list index's
 * partition attribute; claims, slots and any other item kind are not), only when the write changed the
 * status into one of VOICE_EVENT_TYPES. A removed item is no event (a deleted voice keeps its record in
 * `deleted`).
 */
export function voiceEventFrom(record: DynamoDBRecord): VoiceEvent | undefined {
  const newImage = record.dynamodb?.NewImage;
  if (record.eventName === 'REMOVE' || !newImage) return undefined;
  const voice = unmarshall(newImage as Record<string, AttributeValue>) as VoiceRecord;
  if (!isVoiceRecord(voice)) return undefined;
  const oldImage = record.dynamodb?.OldImage;
  const previous = oldImage
    ? (unmarshall(oldImage as Record<string, AttributeValue>) as Partial<VoiceRecord>)
    : undefined;
  if (!isEventStatus(voice.status) || previous?.status === voice.status) return undefined;
  const occurredAt = voice.updatedAt ?? voice.createdAt;
  const { detailType, type } = VOICE_EVENT_TYPES[voice.status];
  return {
    detailType,
    type,
    detail: {
      eventId: voiceEventId(voice.voiceId, voice.status, occurredAt),
      voiceId: voice.voiceId,
      status: voice.status,
      previousStatus: previous?.status ?? null,
      provider: voice.provider,
      occurredAt,
      voice: toVoiceJson(voice),
    },
  };
}

function isVoiceRecord(item: Partial<VoiceRecord>): item is VoiceRecord {
  return typeof item[VOICES_TABLE.byCreatedAt.partitionKey] === 'string' && typeof item.voiceId === 'string';
}

/**
 * `evt_` + 26 base32 characters of SHA-256 over the voice, its new status and the write's `updatedAt`:
 * every redelivery of one stream record (and its local twin) gives the same id, two writes never do.
 */
export function voiceEventId(voiceId: string, status: string, updatedAt: string): string {
  return hashedId('evt_', [voiceId, status, updatedAt]);
}

export function toEventEntry(event: VoiceEvent, eventBusName = EVENT_BUS_NAME): EventEntry {
  return {
    Source: EVENT_SOURCE,
    DetailType: event.detailType,
    Detail: JSON.stringify(event.detail),
    Time: new Date(event.detail.occurredAt),
    EventBusName: eventBusName,
  };
}
