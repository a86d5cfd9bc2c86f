import { randomUUID } from 'node:crypto';
import {
  emptyWav,
  encodeALaw,
  encodeMp3,
  encodeMuLaw,
  encodePcm,
  encodeWav,
  seedFor,
  voicedSignal,
} from '../audio';
import { audioReadyMs, pacedPieces, STREAM_CHUNK_SEC } from '../latency';
import type { SimulatorContext, SimulatorReply, SimulatorRequest, SimulatorState } from '../server';
import {
  MODEL_SPEECH_ROUTES,
  RETIRED_MODELS,
  SPEECH_DEFAULT_OUTPUT_FORMAT,
  SPEECH_DEFAULT_SAMPLE_RATE,
  type SpeechRequestBody,
  speechRequestSchema,
} from './contract';
import { deprecated, error, issues, routeMissing } from './replies';
import type { SmallestSimulatedClone, SmallestSimulatorOptions } from './simulator';

/**
 * Smallest AI Waves' speech routes (docs/providers.md#smallest-ai-waves): the unified `/waves/v1/tts`,
 * the per-model `/<model>/get_speech` and the streaming `/waves/v1/tts/live`, for ./simulator.ts.
 */

/** What the speech routes read of one simulator. */
export interface SmallestSpeech {
  readonly options: SmallestSimulatorOptions;
  readonly speechRoutes: ReadonlySet<'unified' | 'model'>;
  readonly state: SimulatorState<SmallestSimulatedClone>;
}

/** Seconds of speech per character at speed 1, roughly conversational English. */
const SECONDS_PER_CHARACTER = 0.065;

/** The speech routes: which exist (options), which are retired (410), which model routes there are. */
export function speechRoute(
  sim: SmallestSpeech,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> | SimulatorReply {
  const route = routeOf(sim, request);
  if (typeof route !== 'string') return route;
  const checked = checkSpeech(sim, request);
  if ('reply' in checked) return checked.reply;
  return route === 'live' ? live(sim, checked, context) : speak(sim, checked, request, context);
}

/** Which speech route the path names, or the answer when it names none that exists. */
function routeOf(sim: SmallestSpeech, request: SimulatorRequest): 'live' | 'plain' | SimulatorReply {
  const path = request.url.pathname;
  if (path === '/waves/v1/tts/live')
    return sim.options.streamingRoute !== false ? 'live' : routeMissing(request);
  if (path === '/waves/v1/tts') return sim.speechRoutes.has('unified') ? 'plain' : routeMissing(request);
  const segment = path.split('/')[3] ?? '';
  if (RETIRED_MODELS.includes(segment) || !sim.speechRoutes.has('model')) {
    return deprecated(`POST /waves/v1/${segment}/get_speech`);
  }
  return MODEL_SPEECH_ROUTES.includes(segment) ? 'plain' : routeMissing(request);
}

/** A valid speech request: its body, how long and at what rate it speaks, and whether it is silent. */
interface SpeechPlan {
  readonly body: SpeechRequestBody;
  /** Only a clone without any v3 embedding (made by the old lightning-large endpoint) speaks nothing. */
  readonly silent: boolean;
  readonly durationSec: number;
  readonly sampleRate: number;
}

/** The checks every speech route makes: the plan of a valid request, or the answer. */
function checkSpeech(
  sim: SmallestSpeech,
  request: SimulatorRequest,
): { readonly reply: SimulatorReply } | SpeechPlan {
  if (request.jsonInvalid || typeof request.json !== 'object' || request.json === null) {
    return { reply: error(400, 'InvalidRequest', { message: 'The request body must be a JSON object.' }) };
  }
  const parsed = speechRequestSchema.safeParse(request.json);
  if (!parsed.success) return { reply: issues(parsed.error.issues) };
  const body = parsed.data;
  const voice = sim.state.clones.get(body.voice_id);
  // Cloned ids look like voice_…; anything else is a catalogue voice, which the simulator accepts.
  if (body.voice_id.startsWith('voice_') && !voice) {
    return { reply: issues([{ code: 'custom', path: ['voice_id'], message: 'Invalid Voice ID' }]) };
  }
  const silent = voice !== undefined && !voice.modelIds.some((id) => id.startsWith('lightning-v3'));
  return {
    body,
    silent,
    durationSec: silent ? 0 : durationOf(body),
    sampleRate: body.sample_rate ?? SPEECH_DEFAULT_SAMPLE_RATE,
  };
}

const durationOf = (body: SpeechRequestBody) =>
  Math.max(0.6, (body.text.length * SECONDS_PER_CHARACTER) / (body.speed ?? 1));
const speechHeaders = (contentType: string) => ({
  'content-type': contentType,
  'x-request-id': randomUUID(),
  'x-session-id': randomUUID(),
});

async function speak(
  sim: SmallestSpeech,
  { body, silent, durationSec, sampleRate }: SpeechPlan,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const { options } = sim;
  // The plain route answers once the whole audio is made.
  const readyMs = audioReadyMs(options, durationSec);
  if (!(await context.settle((options.speechLatencyMs ?? 0) + readyMs))) return undefined;

  // Whatever the format: the documented quirk clients must not trust.
  const headers = speechHeaders('audio/wav');
  const accept = String(request.headers.accept ?? '');
  if (!accept.includes('audio/wav')) return { status: 200, headers, body: new Uint8Array(0) };

  // Other pairings are not rejected by the provider, just possibly worse.
  if (silent) return { status: 200, headers, body: emptyWav(sampleRate) };
  const samples = voicedSignal(durationSec, sampleRate, seedFor(body.voice_id));
  return { status: 200, headers, body: encodeSpeech(body, samples, sampleRate) };
}

/** The samples in the body's `output_format` (default SPEECH_DEFAULT_OUTPUT_FORMAT). */
function encodeSpeech(body: SpeechRequestBody, samples: Int16Array, sampleRate: number): Uint8Array {
  const format = body.output_format ?? SPEECH_DEFAULT_OUTPUT_FORMAT;
  return format === 'wav'
    ? encodeWav(samples, sampleRate)
    : format === 'mp3'
      ? encodeMp3(samples, sampleRate)
      : format === 'ulaw'
        ? encodeMuLaw(samples)
        : format === 'alaw'
          ? encodeALaw(samples)
          : encodePcm(samples);
}

/**
 * `POST /waves/v1/tts/live`: Server-Sent Events, each `data:` a JSON `{ audio: <base64 PCM 16-bit mono
 * at sample_rate>, done: false, status: "206" }` of ~100 ms, then `{ status: "200", done: true }` when the
 * whole audio is made. PCM whatever `output_format` says (the documented events carry PCM only).
 */
async function live(
  sim: SmallestSpeech,
  { body, durationSec, sampleRate }: SpeechPlan,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const { options } = sim;
  if (!(await context.settle(options.speechLatencyMs ?? 0))) return undefined;

  const pcm = encodePcm(voicedSignal(durationSec, sampleRate, seedFor(body.voice_id)));
  const chunkBytes = Math.round(STREAM_CHUNK_SEC * sampleRate) * 2;
  const chunks: { startSec: number; bytes: Uint8Array }[] = [];
  for (let offset = 0; offset < pcm.byteLength; offset += chunkBytes) {
    const audio = Buffer.from(pcm.subarray(offset, offset + chunkBytes)).toString('base64');
    chunks.push({ startSec: offset / 2 / sampleRate, bytes: event({ audio, done: false, status: '206' }) });
  }
  chunks.push({ startSec: durationSec, bytes: event({ status: '200', done: true }) });
  return {
    status: 200,
    headers: { ...speechHeaders('text/event-stream'), 'cache-control': 'no-cache' },
    stream: {
      pieces: pacedPieces(options, chunks),
      errorEvent: event({ status: '500', done: true, error: 'Internal Server Error' }),
    },
  };
}

/** One Server-Sent Event. */
const event = (data: unknown) => new TextEncoder().encode(`data: ${JSON.stringify(data)}\n\n`);
