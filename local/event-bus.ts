/**
 * Local mode's bus `voicedrop`: what the events function would put on EventBridge is appended to
 * `<data-dir>/events.jsonl` (one PutEvents entry per line: Source, DetailType, Detail as a JSON string,
 * Time), logged as a status line, and routed to the webhook endpoints whose `events` match, as the
 * stack's rules do. An event already in the file (the stream offering a record again after a restart)
 * is not written or routed twice.
 */
import { existsSync, readFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import type { PublishEvents } from '../functions/events/stream-batch';
import { VOICE_EVENT_TYPES, type VoiceEventDetail } from '../functions/events/voice-events';
import type { Log } from '../functions/shared/logger';
import { webhookMessage } from '../functions/webhooks/payload';
import type { WebhookOutbox } from './webhook-outbox';

export interface LocalWebhookEndpoint {
  readonly id: string;
  readonly url: string;
  /** Webhook types it wants (`voice.ready`, …); all when absent. */
  readonly events?: readonly string[];
}

export function localEventBus(options: {
  readonly eventsFile: string;
  readonly endpoints: readonly LocalWebhookEndpoint[];
  readonly outbox?: WebhookOutbox;
  readonly log: Log;
}): PublishEvents {
  const published = new Set<string>();
  if (existsSync(options.eventsFile)) {
    for (const line of readFileSync(options.eventsFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as { Detail?: string };
        const detail = JSON.parse(entry.Detail ?? '{}') as Partial<VoiceEventDetail>;
        if (detail.eventId) published.add(detail.eventId);
      } catch {
        // A torn last line from a crash: its event was not counted as published, so it comes again.
      }
    }
  }
  return async (entries) => {
    for (const entry of entries) {
      const detail = JSON.parse(entry.Detail) as VoiceEventDetail;
      if (published.has(detail.eventId)) continue;
      const type = VOICE_EVENT_TYPES[detail.status].type;
      // Webhooks first: once the line is written, the event counts as published.
      for (const endpoint of options.endpoints) {
        if (endpoint.events && !endpoint.events.includes(type)) continue;
        await options.outbox?.send(
          webhookMessage(endpoint.id, entry.DetailType, detail),
          `${detail.eventId}\n${endpoint.id}`,
        );
      }
      const line = {
        Source: entry.Source,
        DetailType: entry.DetailType,
        Detail: entry.Detail,
        Time: entry.Time.toISOString(),
      };
      await appendFile(options.eventsFile, `${JSON.stringify(line)}\n`);
      published.add(detail.eventId);
      options.log.info('voice event', {
        type,
        eventId: detail.eventId,
        voiceId: detail.voiceId,
        status: detail.status,
        provider: detail.provider,
      });
    }
  };
}
