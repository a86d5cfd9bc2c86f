import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import {
  emptyWav,
  encodeALaw,
  encodeMp3,
  encodeMuLaw,
  encodePcm,
  encodeWav,
  probeAudio,
  seedFor,
  voicedSignal,
} from '../audio';
import {
  faultAnswer,
  genericStatusMessage,
  type SimulatorFault,
  type SimulatorRouteOrOther,
} from '../faults';
import { audioReadyMs, pacedPieces, type SpeechLatencyOptions, STREAM_CHUNK_SEC } from '../latency';
import {
  createSimulatorState,
  type SimulatorHandle,
  type SimulatorReply,
  type SimulatorRequest,
  type SimulatorRouteHandler,
  type SimulatorVendor,
  serveSimulator,
} from '../server';
import {
  CLONE_ACCEPTED_MIME_TYPES,
  CLONE_DEFAULT_MODEL,
  CLONE_DEPRECATED_MODELS,
  CLONE_ERRORS,
  CLONE_MAX_DURATION_SEC,
  CLONE_MAX_FILE_BYTES,
  CLONE_MIN_DURATION_SEC,
  CLONE_MODELS,
  CLONE_STATUSES,
  type CloneStatus,
  deleteRequestSchema,
  displayNameSchema,
  LANGUAGES,
  MODEL_SPEECH_ROUTES,
  RETIRED_MODELS,
  SPEECH_CONCURRENCY,
  SPEECH_DEFAULT_OUTPUT_FORMAT,
  SPEECH_DEFAULT_SAMPLE_RATE,
  type SpeechRequestBody,
  speechRequestSchema,
} from './contract';

/**
 * A local Smallest AI Waves that answers as docs/providers.md#smallest-ai-waves describes it: bearer keys,
 * multipart clones checked by their bytes (music-metadata, independent of voicedrop's validator), clone
 * slots, one TTS request per key at a time, both speech routes, the guide's and the newer delete route
 * (refusing API keys by default, as Smallest does since July 2026), retired routes answering 410, and
 * real WAV/MP3 audio. Drive it from tests through the returned handle, or from anywhere through
 * `/__sim/*` (see ../server.ts).
 */

export interface SmallestSimulatorOptions extends SpeechLatencyOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Accepted keys (default `['sk_test_simulator']`). */
  readonly apiKeys?: readonly string[];
  /** Clones the organisation may hold (default 10); one more answers `clone limit exceeded`. */
  readonly cloneSlots?: number;
  /** Concurrent TTS requests per key (default 1, as documented); excess → 429. */
  readonly concurrency?: number;
  readonly cloneLatencyMs?: number;
  /** A fixed wait before any speech route starts to answer (on top of the latency model, ../latency.ts). */
  readonly speechLatencyMs?: number;
  /** False: `POST /waves/v1/tts/live` is missing (404), as on a deployment without streaming (default true). */
  readonly streamingRoute?: boolean;
  /**
   * Which delete route works (docs/providers.md#smallest-delete): `api-key-refused` (the default, as
   * Smallest answers since July 2026: the guide's route 410, `POST /waves/v1/voice-cloning/delete` 401 for
   * an API key, so nothing is deleted), `lightning-large` (the guide's route deletes; the newer one is
   * missing), `new-route` (the guide's route answers 410, the newer one deletes).
   */
  readonly deleteMode?: SmallestDeleteMode;
  /** Which speech routes exist (default both): `unified` is `/waves/v1/tts`, `model` is `/<model>/get_speech`. */
  readonly speechRoutes?: readonly ('unified' | 'model')[];
  /**
   * How long a new clone takes to finish (default 0: it answers `completed`, as the synchronous call
   * normally does). Longer, it answers `pending`, lists as `processing` until then, and `completed` after,
   * as the provider may do (docs/providers.md#smallest-clone).
   */
  readonly cloneProcessingMs?: number;
  /** `Retry-After` on concurrency 429s (default 1). */
  readonly retryAfterSec?: number;
}

export const SMALLEST_DELETE_MODES = ['api-key-refused', 'lightning-large', 'new-route'] as const;
export type SmallestDeleteMode = (typeof SMALLEST_DELETE_MODES)[number];

export interface SmallestSimulatedClone {
  readonly voiceId: string;
  readonly displayName: string;
  readonly description?: string;
  readonly accent?: string;
  readonly tags: readonly string[];
  readonly language?: string;
  readonly status: CloneStatus;
  /** Models the clone speaks with; a clone without `lightning-v3.1` gets the empty WAV on v3.1. */
  readonly modelIds: readonly string[];
  readonly cloningType: 'instant';
  readonly audioFileNames: readonly string[];
  readonly createdAt: string;
}

export interface SmallestSimulator extends SimulatorHandle<SmallestSimulatedClone> {
  /** Adds a clone as if made earlier, e.g. `{ displayName, modelIds: ['lightning-large'] }`. */
  seedClone(input: SmallestSeedInput): SmallestSimulatedClone;
}

const seedSchema = z.object({
  voiceId: z.string().min(1).optional(),
  displayName: z.string().min(1),
  description: z.string().optional(),
  accent: z.string().optional(),
  tags: z.array(z.string()).optional(),
  language: z.string().optional(),
  status: z.enum(CLONE_STATUSES).optional(),
  modelIds: z.array(z.string()).optional(),
  createdAt: z.string().optional(),
});
export type SmallestSeedInput = z.input<typeof seedSchema>;

const ORGANIZATION_ID = '69561896a37fd214b9a8d33c';
/** Seconds of speech per character at speed 1, roughly conversational English. */
const SECONDS_PER_CHARACTER = 0.065;

const error = (status: number, message: string, extra: Record<string, unknown> = {}): SimulatorReply => ({
  status,
  json: { error: message, ...extra },
});
/** A 400 whose `error` is a list of zod issues, as the provider answers schema violations. */
const issues = (list: readonly unknown[]): SimulatorReply => ({ status: 400, json: { error: list } });
const deprecated = (what: string): SimulatorReply => ({
  status: 410,
  json: {
    status: 'error',
    error_code: 'MODEL_DEPRECATED',
    message: `${what} has been retired. Use POST /waves/v1/tts with model lightning_v3.1.`,
  },
});
const routeMissing = (request: SimulatorRequest): SimulatorReply =>
  error(404, `Cannot ${request.method} ${request.url.pathname}`);

export async function startSmallestSimulator(
  options: SmallestSimulatorOptions = {},
): Promise<SmallestSimulator> {
  const apiKeys = new Set(options.apiKeys ?? ['sk_test_simulator']);
  const cloneSlots = options.cloneSlots ?? 10;
  const deleteMode = options.deleteMode ?? 'api-key-refused';
  const speechRoutes = new Set(options.speechRoutes ?? ['unified', 'model']);
  const state = createSimulatorState<SmallestSimulatedClone>();
  /** When each clone still being processed finishes, epoch ms. */
  const finishesAt = new Map<string, number>();
  const processingMs = options.cloneProcessingMs ?? 0;
  /** A clone as the provider shows it now: a processing one completes on its own time. */
  const current = (clone: SmallestSimulatedClone): SmallestSimulatedClone => {
    const at = finishesAt.get(clone.voiceId);
    if (at === undefined) return clone;
    if (Date.now() < at) return { ...clone, status: 'processing' };
    finishesAt.delete(clone.voiceId);
    const completed = { ...clone, status: 'completed' as const };
    state.clones.set(clone.voiceId, completed);
    return completed;
  };

  function seed(input: unknown): SmallestSimulatedClone {
    const parsed = seedSchema.parse(input);
    const clone: SmallestSimulatedClone = {
      voiceId: parsed.voiceId ?? newVoiceId(),
      displayName: parsed.displayName,
      description: parsed.description,
      accent: parsed.accent,
      tags: parsed.tags ?? [],
      language: parsed.language,
      status: parsed.status ?? 'completed',
      modelIds: parsed.modelIds ?? ['lightning-v3.1'],
      cloningType: 'instant',
      audioFileNames: ['sample.wav'],
      createdAt: parsed.createdAt ?? new Date().toISOString(),
    };
    state.clones.set(clone.voiceId, clone);
    return clone;
  }

  const clone: SimulatorRouteHandler = async (request, context) => {
    const file = request.files.find((candidate) => candidate.fieldName === 'file');
    if (!file) return error(400, CLONE_ERRORS.noFile);
    const displayName = displayNameSchema.safeParse(request.fields.displayName);
    if (!displayName.success) {
      return issues(
        displayName.error.issues.map((issue) => ({ ...issue, path: ['displayName', ...issue.path] })),
      );
    }
    const model = request.fields.model?.trim() || CLONE_DEFAULT_MODEL;
    const deprecation = CLONE_DEPRECATED_MODELS[model];
    if (deprecation) return error(400, deprecation);
    if (!CLONE_MODELS.includes(model)) {
      return error(400, `Invalid model. Supported: ${CLONE_MODELS.join(', ')}`);
    }
    const language = request.fields.language?.trim() || undefined;
    if (language && !LANGUAGES.includes(language)) {
      return error(400, `Invalid language. Supported: ${LANGUAGES.join(', ')}`);
    }
    if (!CLONE_ACCEPTED_MIME_TYPES.includes(file.mimeType.toLowerCase())) {
      return error(
        400,
        `Invalid file type ${file.mimeType}. Supported: ${CLONE_ACCEPTED_MIME_TYPES.join(', ')}`,
      );
    }
    if (file.truncated) return error(400, 'File too large. Maximum size is 5 MB');
    const audio = await probeAudio(file.bytes, file.mimeType);
    if (!audio) return error(500, CLONE_ERRORS.badSample, { error_code: 'voice_clone_error' });
    if (audio.durationSec < CLONE_MIN_DURATION_SEC || audio.durationSec > CLONE_MAX_DURATION_SEC) {
      return error(
        400,
        `Audio duration must be between ${CLONE_MIN_DURATION_SEC} and ${CLONE_MAX_DURATION_SEC} seconds (got ${audio.durationSec.toFixed(1)})`,
      );
    }
    if (state.clones.size >= cloneSlots) return error(400, CLONE_ERRORS.limitExceeded);
    if (!(await context.settle(options.cloneLatencyMs ?? 0))) return undefined;

    const created = seed({
      displayName: displayName.data,
      description: request.fields.description || undefined,
      accent: request.fields.accent || undefined,
      // As documented: the server splits on commas and trims.
      tags: (request.fields.tags ?? '')
        .split(',')
        .map((tag) => tag.trim())
        .filter((tag) => tag !== ''),
      language,
      modelIds: [model],
      ...(processingMs > 0 ? { status: 'pending' } : {}),
    });
    if (processingMs > 0) finishesAt.set(created.voiceId, Date.now() + processingMs);
    return {
      status: 200,
      json: {
        message: 'Voice clone created successfully',
        data: {
          voiceId: created.voiceId,
          displayName: created.displayName,
          status: created.status,
          language: created.language ?? 'en',
          model: { _id: randomBytes(12).toString('hex'), modelName: model },
          audioFileNames: [file.filename],
          createdAt: created.createdAt,
          organizationId: ORGANIZATION_ID,
          samples: [1, 2].map((index) => ({
            text:
              index === 1
                ? 'Hello! This is a sample of what I sound like.'
                : 'I can read anything you write.',
            audioUrl: `${context.baseUrl}/__sim/samples/${created.voiceId}/${index}.wav?X-Amz-Expires=3600`,
          })),
        },
      },
    };
  };

  /** The checks every speech route makes: the valid body and its clone (if one of ours), or the answer. */
  function checkSpeech(
    request: SimulatorRequest,
  ):
    | { readonly reply: SimulatorReply }
    | { readonly body: SpeechRequestBody; readonly voice?: SmallestSimulatedClone } {
    if (request.jsonInvalid || typeof request.json !== 'object' || request.json === null) {
      return { reply: error(400, 'InvalidRequest', { message: 'The request body must be a JSON object.' }) };
    }
    const parsed = speechRequestSchema.safeParse(request.json);
    if (!parsed.success) return { reply: issues(parsed.error.issues) };
    const body = parsed.data;
    const voice = state.clones.get(body.voice_id);
    // Cloned ids look like voice_…; anything else is a catalogue voice, which the simulator accepts.
    if (body.voice_id.startsWith('voice_') && !voice) {
      return { reply: issues([{ code: 'custom', path: ['voice_id'], message: 'Invalid Voice ID' }]) };
    }
    return { body, voice };
  }

  /** Only a clone without any v3 embedding (made by the old lightning-large endpoint) speaks nothing. */
  const speaksNothing = (voice: SmallestSimulatedClone | undefined) =>
    voice !== undefined && !voice.modelIds.some((id) => id.startsWith('lightning-v3'));
  const durationOf = (body: SpeechRequestBody) =>
    Math.max(0.6, (body.text.length * SECONDS_PER_CHARACTER) / (body.speed ?? 1));
  const speechHeaders = (contentType: string) => ({
    'content-type': contentType,
    'x-request-id': randomUUID(),
    'x-session-id': randomUUID(),
  });

  const speak: SimulatorRouteHandler = async (request, context) => {
    const checked = checkSpeech(request);
    if ('reply' in checked) return checked.reply;
    const { body, voice } = checked;
    const durationSec = speaksNothing(voice) ? 0 : durationOf(body);
    // The plain route answers once the whole audio is made.
    const readyMs = audioReadyMs(options, durationSec);
    if (!(await context.settle((options.speechLatencyMs ?? 0) + readyMs))) return undefined;

    // Whatever the format: the documented quirk clients must not trust.
    const headers = speechHeaders('audio/wav');
    const accept = String(request.headers.accept ?? '');
    if (!accept.includes('audio/wav')) return { status: 200, headers, body: new Uint8Array(0) };

    const sampleRate = body.sample_rate ?? SPEECH_DEFAULT_SAMPLE_RATE;
    // Other pairings are not rejected by the provider, just possibly worse.
    if (speaksNothing(voice)) return { status: 200, headers, body: emptyWav(sampleRate) };
    const samples = voicedSignal(durationSec, sampleRate, seedFor(body.voice_id));
    const format = body.output_format ?? SPEECH_DEFAULT_OUTPUT_FORMAT;
    const encoded =
      format === 'wav'
        ? encodeWav(samples, sampleRate)
        : format === 'mp3'
          ? encodeMp3(samples, sampleRate)
          : format === 'ulaw'
            ? encodeMuLaw(samples)
            : format === 'alaw'
              ? encodeALaw(samples)
              : encodePcm(samples);
    return { status: 200, headers, body: encoded };
  };

  /**
   * `POST /waves/v1/tts/live`: Server-Sent Events, each `data:` a JSON `{ audio: <base64 PCM 16-bit mono
   * at sample_rate>, done: false, status: "206" }` of ~100 ms, then `{ status: "200", done: true }` when the
   * whole audio is made. PCM whatever `output_format` says (the documented events carry PCM only).
   */
  const live: SimulatorRouteHandler = async (request, context) => {
    const checked = checkSpeech(request);
    if ('reply' in checked) return checked.reply;
    const { body, voice } = checked;
    if (!(await context.settle(options.speechLatencyMs ?? 0))) return undefined;

    const sampleRate = body.sample_rate ?? SPEECH_DEFAULT_SAMPLE_RATE;
    const durationSec = speaksNothing(voice) ? 0 : durationOf(body);
    const pcm = encodePcm(voicedSignal(durationSec, sampleRate, seedFor(body.voice_id)));
    const event = (data: unknown) => new TextEncoder().encode(`data: ${JSON.stringify(data)}\n\n`);
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
  };

  const remove: SimulatorRouteHandler = async (request, context) => {
    const parsed = deleteRequestSchema.safeParse(request.json);
    if (!parsed.success) return issues(parsed.error.issues);
    if (!(await context.settle(0))) return undefined;
    if (!state.clones.delete(parsed.data.voiceId)) return error(404, 'Voice not found');
    return {
      status: 200,
      json: { message: 'Voice deleted successfully', data: { voiceId: parsed.data.voiceId } },
    };
  };

  const vendor: SimulatorVendor<SmallestSimulatedClone> = {
    maxUploadBytes: CLONE_MAX_FILE_BYTES,

    routeOf(method, pathname): SimulatorRouteOrOther {
      if (pathname === '/waves/v1/voice-cloning') return method === 'GET' ? 'list' : 'clone';
      if (pathname === '/waves/v1/lightning-large' && method === 'DELETE') return 'delete';
      if (pathname === '/waves/v1/voice-cloning/delete') return 'delete';
      if (pathname === '/waves/v1/tts' || pathname === '/waves/v1/tts/live') return 'speech';
      if (/^\/waves\/v1\/[^/]+\/get_speech$/.test(pathname)) return 'speech';
      return 'other';
    },

    authenticate(headers) {
      const match = /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ''));
      if (match?.[1] && apiKeys.has(match[1])) return { apiKey: match[1] };
      return { reply: error(401, 'Unauthorized', { message: 'Bearer token is missing or invalid.' }) };
    },

    concurrency: {
      routes: ['speech'],
      limit: options.concurrency ?? SPEECH_CONCURRENCY,
      reply: () => ({
        status: 429,
        headers: { 'retry-after': String(options.retryAfterSec ?? 1) },
        json: { error: 'Too many requests', message: 'Concurrent request limit reached for this API key.' },
      }),
    },

    faultReply(fault: SimulatorFault): SimulatorReply {
      const { status, headers, custom } = faultAnswer(fault);
      if (custom) return { status, headers, ...custom };
      if (status === 410) return { ...deprecated('This route'), headers };
      const messages: Record<string, string> = {
        voice_clone_timeout: CLONE_ERRORS.timeout,
        voice_clone_error: CLONE_ERRORS.badSample,
      };
      const message = (fault.errorCode && messages[fault.errorCode]) || genericStatusMessage(status);
      return {
        status,
        headers,
        json: { error: message, ...(fault.errorCode ? { error_code: fault.errorCode } : {}) },
      };
    },

    async handle(request, context) {
      const path = request.url.pathname;
      switch (request.route) {
        case 'clone':
          return clone(request, context);
        case 'list':
          await context.settle(0);
          return { status: 200, json: { data: [...state.clones.values()].map(current) } };
        case 'delete':
          if (path === '/waves/v1/lightning-large') {
            return deleteMode === 'lightning-large'
              ? remove(request, context)
              : deprecated('DELETE /waves/v1/lightning-large');
          }
          if (deleteMode === 'lightning-large') return routeMissing(request);
          if (deleteMode === 'api-key-refused') {
            return error(401, 'Unauthorized', { message: 'This route requires a dashboard session.' });
          }
          return remove(request, context);
        case 'speech': {
          if (path === '/waves/v1/tts/live')
            return options.streamingRoute !== false ? live(request, context) : routeMissing(request);
          if (path === '/waves/v1/tts')
            return speechRoutes.has('unified') ? speak(request, context) : routeMissing(request);
          const segment = path.split('/')[3] ?? '';
          if (RETIRED_MODELS.includes(segment) || !speechRoutes.has('model')) {
            return deprecated(`POST /waves/v1/${segment}/get_speech`);
          }
          return MODEL_SPEECH_ROUTES.includes(segment) ? speak(request, context) : routeMissing(request);
        }
        default: {
          const segment = path.split('/')[3] ?? '';
          if (path.startsWith('/waves/v1/') && RETIRED_MODELS.includes(segment)) return deprecated(path);
          return routeMissing(request);
        }
      }
    },

    seed,

    admin(method, url) {
      const match = /^\/__sim\/samples\/([^/]+)\/\d+\.wav$/.exec(url.pathname);
      if (method !== 'GET' || !match?.[1] || !state.clones.has(match[1])) return undefined;
      return {
        status: 200,
        headers: { 'content-type': 'audio/wav' },
        body: encodeWav(voicedSignal(2.5, 24_000, seedFor(match[1])), 24_000),
      };
    },
  };

  const handle = await serveSimulator(vendor, state, options.port ?? 0);
  return { ...handle, seedClone: (input) => seed(input) };
}

function newVoiceId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `voice_${[...randomBytes(10)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}
