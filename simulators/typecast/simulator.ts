import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import {
  encodeMp3,
  encodePcm,
  encodeWav,
  mp3Frames,
  probeAudio,
  seedFor,
  streamingWavHeader,
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
  type SimulatorContext,
  type SimulatorHandle,
  type SimulatorReply,
  type SimulatorRequest,
  type SimulatorState,
  type SimulatorVendor,
  serveSimulator,
} from '../server';
import {
  CLONE_ERRORS,
  CLONE_MAX_DURATION_SEC,
  CLONE_MAX_FILE_BYTES,
  CLONE_MIN_DURATION_SEC,
  CLONE_NAME_MAX_CODE_POINTS,
  CLONE_NAME_MIN_CODE_POINTS,
  CONCURRENCY_FREE_PLAN,
  EMOTIONS,
  type FastApiIssue,
  fastApiIssues,
  MODELS,
  type Model,
  SEED_DEFAULT_MODEL,
  SPEECH_SAMPLE_RATE,
  type SpeechRequestBody,
  speechRequestSchema,
} from './contract';

/**
 * A local Typecast that answers as docs/providers.md#typecast describes it: the
 * `X-API-KEY` header, FastAPI-style errors (`detail` strings and 422 issue lists), multipart clones
 * checked by their bytes (music-metadata, independent of voicedrop's validator), custom voice slots
 * (403), per-key concurrency (429), credits (402), `/v2/voices` with `uc_` custom voices, delete 204
 * then 404, and real 44.1 kHz WAV/MP3 speech with `X-Audio-Duration`.
 */

export interface TypecastSimulatorOptions extends SpeechLatencyOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Accepted keys (default `['tc_test_simulator']`). */
  readonly apiKeys?: readonly string[];
  /** Custom voice slots (default 10); one more clone answers 403. */
  readonly cloneSlots?: number;
  /** Concurrent requests per key (default 2, the Free plan); excess → 429. */
  readonly concurrency?: number;
  readonly cloneLatencyMs?: number;
  /** A fixed wait before any speech route starts to answer (on top of the latency model, ../latency.ts). */
  readonly speechLatencyMs?: number;
  /** False: `POST /v1/text-to-speech/stream` is missing (404 `Not Found`), to test fallbacks (default true). */
  readonly streamingRoute?: boolean;
  /** False answers every clone with 403 "not available on your plan" (default true). */
  readonly cloningAvailable?: boolean;
  /** Characters the account may still synthesize (default unlimited); beyond → 402. */
  readonly creditCharacters?: number;
  /**
   * Adds `created_at` to listed voices. Typecast's documented list has no creation time (default
   * false); turning it on exercises clients that use one when present.
   */
  readonly listCreationTimes?: boolean;
}

export interface TypecastSimulatedClone {
  readonly voice_id: string;
  readonly name: string;
  readonly model: string;
  readonly createdAt: string;
}

export interface TypecastSimulator extends SimulatorHandle<TypecastSimulatedClone> {
  /** Adds a custom voice as if made earlier. */
  seedClone(input: TypecastSeedInput): TypecastSimulatedClone;
}

const seedSchema = z.object({
  voice_id: z.string().min(1).optional(),
  name: z.string().min(1),
  model: z.enum(MODELS).optional(),
  createdAt: z.string().optional(),
});
export type TypecastSeedInput = z.input<typeof seedSchema>;

/** Typecast's own catalogue voices, listed next to the custom ones. */
const CATALOGUE = [
  { voice_id: 'tc_60e5426de8b95f1d3000d7b5', voice_name: 'Olivia', gender: 'female', age: 'young_adult' },
  { voice_id: 'tc_672c5f5ce59fac2a48faeaee', voice_name: 'Ethan', gender: 'male', age: 'middle_age' },
] as const;
const SECONDS_PER_CHARACTER = 0.065;

const detail = (status: number, message: string): SimulatorReply => ({ status, json: { detail: message } });
const validation = (issues: readonly FastApiIssue[]): SimulatorReply => ({
  status: 422,
  json: { detail: issues },
});

/** One simulator's settings and state, shared by its route handlers. */
interface Typecast {
  readonly options: TypecastSimulatorOptions;
  readonly apiKeys: ReadonlySet<string>;
  readonly cloneSlots: number;
  readonly state: SimulatorState<TypecastSimulatedClone>;
  creditsLeft: number;
}

export async function startTypecastSimulator(
  options: TypecastSimulatorOptions = {},
): Promise<TypecastSimulator> {
  const sim: Typecast = {
    options,
    apiKeys: new Set(options.apiKeys ?? ['tc_test_simulator']),
    cloneSlots: options.cloneSlots ?? 10,
    state: createSimulatorState<TypecastSimulatedClone>(),
    creditsLeft: options.creditCharacters ?? Number.POSITIVE_INFINITY,
  };
  const handle = await serveSimulator(typecastVendor(sim), sim.state, options.port ?? 0);
  return { ...handle, seedClone: (input) => seed(sim, input) };
}

function typecastVendor(sim: Typecast): SimulatorVendor<TypecastSimulatedClone> {
  const { options } = sim;
  return {
    maxUploadBytes: CLONE_MAX_FILE_BYTES,
    routeOf,

    authenticate(headers) {
      const key = headers['x-api-key'];
      if (typeof key === 'string' && sim.apiKeys.has(key)) return { apiKey: key };
      return { reply: detail(401, 'Invalid API key') };
    },

    concurrency: {
      routes: ['clone', 'speech'],
      limit: options.concurrency ?? CONCURRENCY_FREE_PLAN,
      reply: () => detail(429, 'Too many requests'),
    },

    faultReply,

    async handle(request, context) {
      switch (request.route) {
        case 'clone':
          return clone(sim, request, context);
        case 'speech':
          if (request.url.pathname === '/v1/text-to-speech') return speak(sim, request, context);
          return options.streamingRoute === false ? detail(404, 'Not Found') : stream(sim, request, context);
        case 'list':
          await context.settle(0);
          return list(sim);
        case 'delete':
          return remove(sim, request, context);
        default:
          return detail(404, 'Not Found');
      }
    },

    seed: (input) => seed(sim, input),

    reset() {
      sim.creditsLeft = options.creditCharacters ?? Number.POSITIVE_INFINITY;
    },
  };
}

function routeOf(method: string, pathname: string): SimulatorRouteOrOther {
  if (method === 'POST' && pathname === '/v1/voices/clone') return 'clone';
  if (method === 'GET' && (pathname === '/v2/voices' || pathname === '/v1/voices')) return 'list';
  if (method === 'DELETE' && /^\/v1\/voices\/[^/]+$/.test(pathname)) return 'delete';
  if (method === 'POST' && pathname === '/v1/text-to-speech') return 'speech';
  if (method === 'POST' && pathname === '/v1/text-to-speech/stream') return 'speech';
  return 'other';
}

function faultReply(fault: SimulatorFault): SimulatorReply {
  const { status, headers, custom } = faultAnswer(fault);
  if (custom) return { status, headers, ...custom };
  if (fault.errorCode)
    return { status, headers, json: { error_code: fault.errorCode, message: 'Simulated failure' } };
  return { status, headers, json: { detail: genericStatusMessage(status) } };
}

function seed(sim: Typecast, input: unknown): TypecastSimulatedClone {
  const parsed = seedSchema.parse(input);
  const clone: TypecastSimulatedClone = {
    voice_id: parsed.voice_id ?? `uc_${randomBytes(12).toString('hex')}`,
    name: parsed.name,
    model: parsed.model ?? SEED_DEFAULT_MODEL,
    createdAt: parsed.createdAt ?? new Date().toISOString(),
  };
  sim.state.clones.set(clone.voice_id, clone);
  return clone;
}

/** `POST /v1/voices/clone`: the form (one 422), the plan and slots (403), the audio (400), the clone. */
async function clone(
  sim: Typecast,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const file = request.files.find((candidate) => candidate.fieldName === 'file');
  const { name, model } = request.fields;
  const issues = cloneFormIssues(file !== undefined, name, model);
  if (issues.length > 0 || !file || name === undefined || model === undefined) return validation(issues);

  if (sim.options.cloningAvailable === false) return detail(403, CLONE_ERRORS.notOnPlan);
  if (sim.state.clones.size >= sim.cloneSlots) {
    return detail(403, 'No free custom_voice_slot: delete a custom voice or upgrade your plan');
  }
  if (file.truncated) return detail(400, CLONE_ERRORS.fileTooLarge);
  const audio = await probeAudio(file.bytes, file.mimeType);
  // Typecast takes WAV or MP3 only; anything else is as unreadable to it as noise.
  if (!audio || !['WAVE', 'MPEG'].includes(audio.container)) return detail(400, CLONE_ERRORS.unreadable);
  if (audio.durationSec < CLONE_MIN_DURATION_SEC) return detail(400, CLONE_ERRORS.tooShort);
  if (audio.durationSec > CLONE_MAX_DURATION_SEC) return detail(400, CLONE_ERRORS.tooLong);
  if (!(await context.settle(sim.options.cloneLatencyMs ?? 0))) return undefined;

  const created = seed(sim, { name, model });
  return { status: 200, json: { voice_id: created.voice_id, name: created.name, model: created.model } };
}

/** The clone form's problems, in FastAPI's order. */
function cloneFormIssues(
  hasFile: boolean,
  name: string | undefined,
  model: string | undefined,
): FastApiIssue[] {
  // FastAPI validates the whole form first and reports every problem in one 422.
  const issues: FastApiIssue[] = [];
  const missing = (field: string) =>
    issues.push({ type: 'missing', loc: ['body', field], msg: 'Field required' });
  if (!hasFile) missing('file');
  if (name === undefined) missing('name');
  else {
    // Python counts code points, not UTF-16 units.
    const length = [...name].length;
    if (length < CLONE_NAME_MIN_CODE_POINTS) {
      issues.push({
        type: 'string_too_short',
        loc: ['body', 'name'],
        msg: 'String should have at least 1 character',
      });
    }
    if (length > CLONE_NAME_MAX_CODE_POINTS) {
      issues.push({
        type: 'string_too_long',
        loc: ['body', 'name'],
        msg: `String should have at most ${CLONE_NAME_MAX_CODE_POINTS} characters`,
      });
    }
  }
  if (model === undefined) missing('model');
  else if (!(MODELS as readonly string[]).includes(model)) {
    issues.push({ type: 'enum', loc: ['body', 'model'], msg: "Input should be 'ssfm-v30' or 'ssfm-v21'" });
  }
  return issues;
}

/** The checks both speech routes make, in FastAPI's order: the valid body, or the answer. */
function checkSpeech(
  sim: Typecast,
  request: SimulatorRequest,
  streaming: boolean,
): { readonly reply: SimulatorReply } | { readonly body: SpeechRequestBody } {
  if (request.jsonInvalid || request.json === undefined) {
    return { reply: validation([{ type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error' }]) };
  }
  const parsed = speechRequestSchema.safeParse(request.json);
  if (!parsed.success) return { reply: validation(fastApiIssues(parsed.error)) };
  const body = parsed.data;
  if (streaming && body.output?.volume !== undefined) {
    // docs/providers.md#typecast-streaming: no output.volume on the stream (target_lufs instead).
    return {
      reply: validation([
        {
          type: 'extra_forbidden',
          loc: ['body', 'output', 'volume'],
          msg: 'Extra inputs are not permitted',
        },
      ]),
    };
  }
  if (!/[\p{L}\p{N}]/u.test(body.text)) {
    return {
      reply: {
        status: 400,
        json: {
          error_code: 'TEXT_NOT_SYNTHESIZABLE',
          message: 'The text contains nothing that can be spoken.',
        },
      },
    };
  }
  const refusal = voiceRefusal(sim, body);
  return refusal ? { reply: refusal } : { body };
}

/** The voice must exist and match the model; the text must fit the credits. Else the answer. */
function voiceRefusal(sim: Typecast, body: SpeechRequestBody): SimulatorReply | undefined {
  const custom = sim.state.clones.get(body.voice_id);
  const catalogue = CATALOGUE.some((voice) => voice.voice_id === body.voice_id);
  if (!custom && !catalogue) return detail(404, 'Voice not found');
  if (custom && custom.model !== body.model) {
    return detail(
      400,
      `Voice ${custom.voice_id} was cloned for ${custom.model} and cannot be used with ${body.model}`,
    );
  }
  if (body.text.length > sim.creditsLeft) return detail(402, 'Insufficient credits');
  return undefined;
}

const durationOf = (body: SpeechRequestBody) =>
  Math.max(0.6, (body.text.length * SECONDS_PER_CHARACTER) / (body.output?.audio_tempo ?? 1));

async function speak(
  sim: Typecast,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const { options } = sim;
  const checked = checkSpeech(sim, request, false);
  if ('reply' in checked) return checked.reply;
  const { body } = checked;
  const durationSec = durationOf(body);
  // The plain route answers once the whole audio is made.
  const readyMs = audioReadyMs(options, durationSec);
  if (!(await context.settle((options.speechLatencyMs ?? 0) + readyMs))) return undefined;
  sim.creditsLeft -= body.text.length;

  const samples = voicedSignal(durationSec, SPEECH_SAMPLE_RATE, seedFor(body.voice_id));
  const mp3 = body.output?.audio_format === 'mp3';
  return {
    status: 200,
    headers: {
      'content-type': mp3 ? 'audio/mpeg' : 'audio/wav',
      'x-audio-duration': durationSec.toFixed(3),
      'x-request-id': randomUUID(),
    },
    body: mp3 ? encodeMp3(samples, SPEECH_SAMPLE_RATE) : encodeWav(samples, SPEECH_SAMPLE_RATE),
  };
}

/** A streamed body's chunks: when each starts in the audio, and its bytes. */
type Chunks = { startSec: number; bytes: Uint8Array }[];

/**
 * `POST /v1/text-to-speech/stream`: chunked, ~100 ms of audio per chunk, paced by the latency model.
 * WAV: the first chunk is a RIFF header whose sizes are 0xFFFFFFFF plus the first PCM; MP3: whole frames.
 */
async function stream(
  sim: Typecast,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const checked = checkSpeech(sim, request, true);
  if ('reply' in checked) return checked.reply;
  const { body } = checked;
  if (!(await context.settle(sim.options.speechLatencyMs ?? 0))) return undefined;
  sim.creditsLeft -= body.text.length;

  const rate = SPEECH_SAMPLE_RATE;
  const samples = voicedSignal(durationOf(body), rate, seedFor(body.voice_id));
  const mp3 = body.output?.audio_format === 'mp3';
  const chunks = mp3 ? mp3Chunks(samples, rate) : wavChunks(samples, rate);
  return {
    status: 200,
    headers: { 'content-type': mp3 ? 'audio/mpeg' : 'audio/wav', 'x-request-id': randomUUID() },
    stream: { pieces: pacedPieces(sim.options, chunks) },
  };
}

/** MP3 in runs of whole frames of at least STREAM_CHUNK_SEC each. */
function mp3Chunks(samples: Int16Array, rate: number): Chunks {
  const chunks: Chunks = [];
  const encoded = encodeMp3(samples, rate);
  let start = 0;
  let startSamples = 0;
  let doneSamples = 0;
  let end = 0;
  for (const frame of mp3Frames(encoded)) {
    end = frame.offset + frame.length;
    doneSamples += frame.samples;
    if (doneSamples - startSamples >= STREAM_CHUNK_SEC * rate) {
      chunks.push({ startSec: startSamples / rate, bytes: encoded.subarray(start, end) });
      start = end;
      startSamples = doneSamples;
    }
  }
  // The rest (the last frames, and anything that did not parse as a frame).
  if (start < encoded.byteLength) {
    chunks.push({ startSec: startSamples / rate, bytes: encoded.subarray(start) });
  }
  return chunks;
}

/** WAV as PCM chunks of STREAM_CHUNK_SEC, the first behind a streaming RIFF header. */
function wavChunks(samples: Int16Array, rate: number): Chunks {
  const chunks: Chunks = [];
  const pcm = encodePcm(samples);
  const chunkBytes = Math.round(STREAM_CHUNK_SEC * rate) * 2;
  for (let offset = 0; offset < pcm.byteLength; offset += chunkBytes) {
    const part = pcm.subarray(offset, offset + chunkBytes);
    const bytes = offset === 0 ? Buffer.concat([streamingWavHeader(rate), part]) : part;
    chunks.push({ startSec: offset / 2 / rate, bytes });
  }
  return chunks;
}

function list(sim: Typecast): SimulatorReply {
  const custom = [...sim.state.clones.values()].map((voice) => ({
    voice_id: voice.voice_id,
    voice_name: voice.name,
    models: [{ version: voice.model, emotions: EMOTIONS[voice.model as Model] ?? ['normal'] }],
    gender: null,
    age: null,
    use_cases: [],
    ...(sim.options.listCreationTimes ? { created_at: voice.createdAt } : {}),
  }));
  const catalogue = CATALOGUE.map((voice) => ({
    ...voice,
    models: MODELS.map((version) => ({ version, emotions: EMOTIONS[version] })),
    use_cases: ['Conversational'],
  }));
  return { status: 200, json: [...catalogue, ...custom] };
}

/** `DELETE /v1/voices/<id>`: 204, then 404. */
async function remove(
  sim: Typecast,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const voiceId = decodeURIComponent(request.url.pathname.split('/')[3] ?? '');
  if (!(await context.settle(0))) return undefined;
  // A soft delete on Typecast's side: the id is 404 everywhere afterwards and the slot is free.
  if (!sim.state.clones.delete(voiceId)) return detail(404, 'Voice not found');
  return { status: 204 };
}
