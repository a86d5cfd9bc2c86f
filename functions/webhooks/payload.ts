/**
 * What a webhook endpoint receives (README "Events and webhooks", schemas/webhook-payload.schema.json),
 * and the queue message each (event, endpoint) pair becomes: the EventBridge rule of each endpoint sends
 * `{ endpoint, detailType, detail }` to the webhook queue (lib/voicedrop-events.ts), local mode the same.
 */
import * as z from 'zod/mini';
import { EVENT_STATUSES, VOICE_EVENT_TYPES, type VoiceEventDetail } from '../events/voice-events';
import { VOICE_STATUSES } from '../shared/voices/status';
import '../shared/zod-messages';

export interface WebhookPayload {
  readonly type: string;
  /** When the event happened (the write's time), ISO 8601. */
  readonly timestamp: string;
  readonly data: Omit<VoiceEventDetail, 'eventId'>;
}

const detailSchema = z.object({
  eventId: z.string().check(z.regex(/^evt_[a-z2-7]{26}$/)),
  voiceId: z.string(),
  status: z.enum(EVENT_STATUSES as [string, ...string[]]),
  previousStatus: z.nullable(z.enum(VOICE_STATUSES)),
  provider: z.string(),
  occurredAt: z.string(),
  voice: z.record(z.string(), z.unknown()),
});

const messageSchema = z.object({
  endpoint: z.string().check(z.minLength(1)),
  detailType: z.string(),
  detail: detailSchema,
});

export type WebhookMessage = z.infer<typeof messageSchema>;

/** The queue message body, or why it is not one (a malformed message is dead-lettered, never retried). */
export function parseWebhookMessage(
  body: string,
): { ok: true; message: WebhookMessage } | { ok: false; problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'the body is not JSON' };
  }
  const parsed = messageSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problem: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    };
  }
  return { ok: true, message: parsed.data };
}

/** The webhook message for one event and one endpoint (what the endpoint's rule puts on the queue). */
export function webhookMessage(endpoint: string, detailType: string, detail: VoiceEventDetail): string {
  return JSON.stringify({ endpoint, detailType, detail });
}

export function webhookPayload(detail: WebhookMessage['detail']): WebhookPayload {
  const { eventId: _eventId, ...data } = detail;
  const status = detail.status as keyof typeof VOICE_EVENT_TYPES;
  return {
    type: VOICE_EVENT_TYPES[status].type,
    timestamp: detail.occurredAt,
    data: data as WebhookPayload['data'],
  };
}
