import * as z from 'zod/mini';
import { ProviderError } from '../errors';
import { kindForStatus } from '../http';
import { streamingWavHeader } from '../speech-stream';
import { type ServerSentEvent, SseParser } from '../sse';
import { SMALLEST_LIMITS } from './limits';
import '../../zod-messages';

const TITLE = SMALLEST_LIMITS.title;

/**
 * One event of `POST /waves/v1/tts/live` (docs/providers.md#smallest-streaming):
 * `{"audio": "<base64 PCM>", "done": false, "status": "206"}`, the last `{"status": "200", "done": true}`.
 * Loose: unknown fields are kept; an error event carries `error`/`message` (undocumented shape).
 */
export const smallestLiveEventSchema = z.looseObject({
  audio: z.nullish(z.string()),
  done: z.nullish(z.boolean()),
  status: z.nullish(z.union([z.string(), z.number()])),
  error: z.nullish(z.unknown()),
  message: z.nullish(z.string()),
  error_code: z.nullish(z.string()),
});
export type SmallestLiveEvent = z.infer<typeof smallestLiveEventSchema>;

export interface LiveSpeechContext {
  readonly sampleRate: number;
  readonly providerVoiceId: string;
  readonly requestId?: string;
}

function streamError(
  context: LiveSpeechContext,
  details: { kind: ProviderError['kind']; message: string; statusCode?: number; providerCode?: string },
  responseBody?: string,
): ProviderError {
  // Part of the audio may already have been used: retrying is the caller's decision, never ours.
  return new ProviderError({
    provider: 'smallest',
    retryable: false,
    requestId: context.requestId,
    responseBody,
    ...details,
  });
}

/** True when an event says the synthesis failed: a non-2xx status, `status: "error"`, or an `error`. */
function failedStatus(event: SmallestLiveEvent): number | undefined {
  const status = event.status === undefined || event.status === null ? '' : String(event.status).trim();
  if (/^\d{3}$/.test(status)) return status.startsWith('2') ? undefined : Number(status);
  if (status.toLowerCase() === 'error' || (event.error !== undefined && event.error !== null)) return 500;
  return undefined;
}

function describe(event: SmallestLiveEvent): string | undefined {
  const said = typeof event.error === 'string' ? event.error : event.message;
  return said?.trim().replace(/\.+$/u, '') || undefined;
}

/** One event's data → its PCM (possibly none) and whether it is the last; throws for an error event. */
function interpret(data: string, context: LiveSpeechContext): { audio?: Uint8Array; done: boolean } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    json = undefined;
  }
  const parsed = smallestLiveEventSchema.safeParse(json);
  if (!parsed.success) {
    throw streamError(
      context,
      {
        kind: 'invalid_response',
        message: `${TITLE} sent a speech stream event voicedrop does not understand (mid-stream).`,
      },
      data.slice(0, 500),
    );
  }
  const event = parsed.data;
  const failed = failedStatus(event);
  if (failed !== undefined) {
    const said = describe(event);
    throw streamError(
      context,
      {
        kind: kindForStatus(failed),
        statusCode: failed,
        providerCode: event.error_code ?? undefined,
        message: `${TITLE} failed mid-stream while synthesizing speech (status ${failed}${said ? `: ${said}` : ''}).`,
      },
      data.slice(0, 500),
    );
  }
  const audio = event.audio ? new Uint8Array(Buffer.from(event.audio, 'base64')) : undefined;
  return { audio: audio && audio.byteLength > 0 ? audio : undefined, done: event.done === true };
}

/**
 * The WAV a live (SSE) answer carries: a header with placeholder sizes joined to the first PCM as the
 * first chunk, then each event's PCM as it arrives. Throws a non-retryable ProviderError for an error
 * event, an event that is not the documented JSON, a stream that ends before `done`, or one without any
 * audio (what a lightning-large-only clone answers, as its empty WAV on the plain route).
 */
export async function* smallestLiveAudio(
  body: AsyncIterable<Uint8Array>,
  context: LiveSpeechContext,
): AsyncGenerator<Uint8Array, void, undefined> {
  const parser = new SseParser();
  let audioBytes = 0;
  let done = false;

  // A generator, so that the audio of the events before a bad one is yielded before the error is thrown.
  const chunksOf = function* (events: readonly ServerSentEvent[]): Generator<Uint8Array> {
    for (const event of events) {
      const { audio, done: last } = interpret(event.data, context);
      if (audio) {
        const chunk = audioBytes === 0 ? joinBytes(streamingWavHeader(context.sampleRate), audio) : audio;
        audioBytes += audio.byteLength;
        yield chunk;
      }
      if (last) {
        // Whatever follows `done` is not this speech.
        done = true;
        return;
      }
    }
  };

  for await (const bytes of body) {
    yield* chunksOf(parser.push(bytes));
    if (done) break;
  }
  if (!done) yield* chunksOf(parser.end());

  if (!done) {
    throw streamError(context, {
      kind: 'network',
      message: `${TITLE}'s speech stream ended mid-stream, before its final "done" event (after ${audioBytes} bytes of audio).`,
    });
  }
  if (audioBytes === 0) {
    throw streamError(context, {
      kind: 'incompatible_voice',
      message:
        `${TITLE} streamed no audio for voice ${context.providerVoiceId}: this usually means the clone was made ` +
        'with the old lightning-large endpoint and only works with lightning-large. Re-clone the voice from its sample.',
    });
  }
}

function joinBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.byteLength + second.byteLength);
  joined.set(first);
  joined.set(second, first.byteLength);
  return joined;
}
