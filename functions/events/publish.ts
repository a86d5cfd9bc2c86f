import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { backoffDelayMs, sleep } from '../shared/retry';
import type { PublishEvents } from './stream-batch';
import type { EventEntry } from './voice-events';

/** PutEvents calls per chunk: the first and two retries of the entries EventBridge did not take. */
const PUT_ATTEMPTS = 3;
const PUT_BACKOFF = { baseMs: 200, maxMs: 2_000, jitter: 'equal' } as const;

/**
 * PutEvents on EventBridge. PutEvents can accept a call and still refuse some entries (FailedEntryCount):
 * only those are sent again, with backoff; entries still refused after the last attempt throw, and the
 * stream batch retries them (handleVoiceStream).
 */
export function eventBridgePublisher(client: EventBridgeClient): PublishEvents {
  return async (entries) => {
    let pending: readonly EventEntry[] = entries;
    let lastProblem = '';
    for (let attempt = 1; attempt <= PUT_ATTEMPTS && pending.length > 0; attempt += 1) {
      if (attempt > 1) await sleep(backoffDelayMs(attempt - 1, PUT_BACKOFF));
      const answer = await client.send(new PutEventsCommand({ Entries: [...pending] }));
      if (!answer.FailedEntryCount) return;
      const results = answer.Entries ?? [];
      const refused = pending.filter((_, index) => results[index]?.ErrorCode || !results[index]?.EventId);
      lastProblem = results.find((result) => result.ErrorCode)?.ErrorCode ?? 'unknown';
      pending = refused;
    }
    if (pending.length > 0) {
      throw new Error(`EventBridge refused ${pending.length} of ${entries.length} events (${lastProblem})`);
    }
  };
}
