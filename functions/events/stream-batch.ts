import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { describeError, type Log } from '../shared/logger';
import { type EventEntry, toEventEntry, type VoiceEvent, voiceEventFrom } from './voice-events';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * Puts entries on the bus; resolves once every entry is accepted, throws otherwise (after its own retries
 * of failed entries). EventBridge in AWS (functions/events/publish.ts), the local bus in local mode.
 */
export type PublishEvents = (entries: readonly EventEntry[]) => Promise<void>;

export interface StreamBatchDependencies {
  readonly publish: PublishEvents;
  readonly eventBusName?: string;
  readonly log: Log;
}

/**
 * One batch of the voices table's stream, in order: every record that is a lifecycle event is published,
 * in chunks of up to 10. When a chunk fails, the batch reports its first record as the failure
 * (ReportBatchItemFailures): Lambda retries from there, so nothing after it is skipped and what was
 * published before it is not sent again. Records announced twice keep their event id.
 */
export async function handleVoiceStream(
  event: DynamoDBStreamEvent,
  dependencies: StreamBatchDependencies,
): Promise<DynamoDBBatchResponse> {
  const announced: { record: DynamoDBRecord; event: VoiceEvent }[] = [];
  for (const record of event.Records) {
    const voiceEvent = voiceEventFrom(record);
    if (voiceEvent) announced.push({ record, event: voiceEvent });
  }
  for (let start = 0; start < announced.length; start += PUT_EVENTS_MAX_ENTRIES) {
    const chunk = announced.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
    try {
      await dependencies.publish(chunk.map((item) => toEventEntry(item.event, dependencies.eventBusName)));
    } catch (error) {
      const first = chunk[0];
      dependencies.log.error('could not publish voice events; the stream retries from the first of them', {
        eventIds: chunk.map((item) => item.event.detail.eventId),
        ...describeError(error),
      });
      return { batchItemFailures: [{ itemIdentifier: first?.record.dynamodb?.SequenceNumber ?? '' }] };
    }
    for (const item of chunk) {
      dependencies.log.debug('voice event published', {
        eventId: item.event.detail.eventId,
        type: item.event.type,
        voiceId: item.event.detail.voiceId,
        provider: item.event.detail.provider,
      });
    }
  }
  return { batchItemFailures: [] };
}
