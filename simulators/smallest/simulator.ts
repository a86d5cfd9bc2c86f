import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { encodeWav, probeAudio, seedFor, voicedSignal } from '../audio';
import {
  faultAnswer,
  genericStatusMessage,
  type SimulatorFault,
  type SimulatorRouteOrOther,
} from '../faults';
import type { SpeechLatencyOptions } from '../latency';
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
  RETIRED_MODELS,
  SPEECH_CONCURRENCY,
} from './contract';
import { deprecated, error, issues, routeMissing } from './replies';
import { speechRoute } from './speech';

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

/** One simulator's settings and state, shared by its route handlers. */
interface Smallest {
  readonly options: SmallestSimulatorOptions;
  readonly apiKeys: ReadonlySet<string>;
  readonly cloneSlots: number;
  readonly deleteMode: SmallestDeleteMode;
  readonly speechRoutes: ReadonlySet<'unified' | 'model'>;
  readonly state: SimulatorState<SmallestSimulatedClone>;
  /** When each clone still being processed finishes, epoch ms. */
  readonly finishesAt: Map<string, number>;
  readonly processingMs: number;
}

export async function startSmallestSimulator(
  options: SmallestSimulatorOptions = {},
): Promise<SmallestSimulator> {
  const sim: Smallest = {
    options,
    apiKeys: new Set(options.apiKeys ?? ['sk_test_simulator']),
    cloneSlots: options.cloneSlots ?? 10,
    deleteMode: options.deleteMode ?? 'api-key-refused',
    speechRoutes: new Set(options.speechRoutes ?? ['unified', 'model']),
    state: createSimulatorState<SmallestSimulatedClone>(),
    finishesAt: new Map(),
    processingMs: options.cloneProcessingMs ?? 0,
  };
  const handle = await serveSimulator(smallestVendor(sim), sim.state, options.port ?? 0);
  return { ...handle, seedClone: (input) => seed(sim, input) };
}

function smallestVendor(sim: Smallest): SimulatorVendor<SmallestSimulatedClone> {
  const { options, state } = sim;
  return {
    maxUploadBytes: CLONE_MAX_FILE_BYTES,
    routeOf,

    authenticate(headers) {
      const match = /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ''));
      if (match?.[1] && sim.apiKeys.has(match[1])) return { apiKey: match[1] };
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

    faultReply,

    async handle(request, context) {
      switch (request.route) {
        case 'clone':
          return clone(sim, request, context);
        case 'list':
          await context.settle(0);
          return {
            status: 200,
            json: { data: [...state.clones.values()].map((voice) => current(sim, voice)) },
          };
        case 'delete':
          return deleteRoute(sim, request, context);
        case 'speech':
          return speechRoute(sim, request, context);
        default:
          return otherRoute(request);
      }
    },

    seed: (input) => seed(sim, input),

    admin: (method, url) => sampleDownload(sim, method, url),
  };
}

/** `GET /__sim/samples/<voiceId>/<n>.wav`: the sample downloads a new clone's answer links to. */
function sampleDownload(sim: Smallest, method: string, url: URL): SimulatorReply | undefined {
  const match = /^\/__sim\/samples\/([^/]+)\/\d+\.wav$/.exec(url.pathname);
  if (method !== 'GET' || !match?.[1] || !sim.state.clones.has(match[1])) return undefined;
  return {
    status: 200,
    headers: { 'content-type': 'audio/wav' },
    body: encodeWav(voicedSignal(2.5, 24_000, seedFor(match[1])), 24_000),
  };
}

function routeOf(method: string, pathname: string): SimulatorRouteOrOther {
  if (pathname === '/waves/v1/voice-cloning') return method === 'GET' ? 'list' : 'clone';
  if (pathname === '/waves/v1/lightning-large' && method === 'DELETE') return 'delete';
  if (pathname === '/waves/v1/voice-cloning/delete') return 'delete';
  if (pathname === '/waves/v1/tts' || pathname === '/waves/v1/tts/live') return 'speech';
  if (/^\/waves\/v1\/[^/]+\/get_speech$/.test(pathname)) return 'speech';
  return 'other';
}

function faultReply(fault: SimulatorFault): SimulatorReply {
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
}

/** A clone as the provider shows it now: a processing one completes on its own time. */
function current(sim: Smallest, clone: SmallestSimulatedClone): SmallestSimulatedClone {
  const at = sim.finishesAt.get(clone.voiceId);
  if (at === undefined) return clone;
  if (Date.now() < at) return { ...clone, status: 'processing' };
  sim.finishesAt.delete(clone.voiceId);
  const completed = { ...clone, status: 'completed' as const };
  sim.state.clones.set(clone.voiceId, completed);
  return completed;
}

function seed(sim: Smallest, input: unknown): SmallestSimulatedClone {
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
  sim.state.clones.set(clone.voiceId, clone);
  return clone;
}

type UploadedFile = SimulatorRequest['files'][number];

/** The clone form's fields, checked in the provider's order. */
interface CloneForm {
  readonly file: UploadedFile;
  readonly displayName: string;
  readonly model: string;
  readonly language: string | undefined;
}

/** `POST /waves/v1/voice-cloning`: the form, then the audio, then a free slot, then the clone. */
async function clone(
  sim: Smallest,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const form = cloneForm(request);
  if ('reply' in form) return form.reply;
  const refusal = await audioRefusal(form.file);
  if (refusal) return refusal;
  if (sim.state.clones.size >= sim.cloneSlots) return error(400, CLONE_ERRORS.limitExceeded);
  if (!(await context.settle(sim.options.cloneLatencyMs ?? 0))) return undefined;

  const created = seed(sim, {
    displayName: form.displayName,
    description: request.fields.description || undefined,
    accent: request.fields.accent || undefined,
    // As documented: the server splits on commas and trims.
    tags: (request.fields.tags ?? '')
      .split(',')
      .map((tag) => tag.trim())
      .filter((tag) => tag !== ''),
    language: form.language,
    modelIds: [form.model],
    ...(sim.processingMs > 0 ? { status: 'pending' } : {}),
  });
  if (sim.processingMs > 0) sim.finishesAt.set(created.voiceId, Date.now() + sim.processingMs);
  return cloneCreated(created, form, context.baseUrl);
}

/** The file, display name, model and language of a clone request, or the provider's 400. */
function cloneForm(request: SimulatorRequest): CloneForm | { readonly reply: SimulatorReply } {
  const file = request.files.find((candidate) => candidate.fieldName === 'file');
  if (!file) return { reply: error(400, CLONE_ERRORS.noFile) };
  const displayName = displayNameSchema.safeParse(request.fields.displayName);
  if (!displayName.success) {
    return {
      reply: issues(
        displayName.error.issues.map((issue) => ({ ...issue, path: ['displayName', ...issue.path] })),
      ),
    };
  }
  const model = request.fields.model?.trim() || CLONE_DEFAULT_MODEL;
  const deprecation = CLONE_DEPRECATED_MODELS[model];
  if (deprecation) return { reply: error(400, deprecation) };
  if (!CLONE_MODELS.includes(model)) {
    return { reply: error(400, `Invalid model. Supported: ${CLONE_MODELS.join(', ')}`) };
  }
  const language = request.fields.language?.trim() || undefined;
  if (language && !LANGUAGES.includes(language)) {
    return { reply: error(400, `Invalid language. Supported: ${LANGUAGES.join(', ')}`) };
  }
  return { file, displayName: displayName.data, model, language };
}

/** The answer to a sample the provider will not clone (type, size, unreadable, duration), else undefined. */
async function audioRefusal(file: UploadedFile): Promise<SimulatorReply | undefined> {
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
  return undefined;
}

/** The 200 of a new clone, with its two sample downloads (`/__sim/samples/…`). */
function cloneCreated(created: SmallestSimulatedClone, form: CloneForm, baseUrl: string): SimulatorReply {
  return {
    status: 200,
    json: {
      message: 'Voice clone created successfully',
      data: {
        voiceId: created.voiceId,
        displayName: created.displayName,
        status: created.status,
        language: created.language ?? 'en',
        model: { _id: randomBytes(12).toString('hex'), modelName: form.model },
        audioFileNames: [form.file.filename],
        createdAt: created.createdAt,
        organizationId: ORGANIZATION_ID,
        samples: [1, 2].map((index) => ({
          text:
            index === 1 ? 'Hello! This is a sample of what I sound like.' : 'I can read anything you write.',
          audioUrl: `${baseUrl}/__sim/samples/${created.voiceId}/${index}.wav?X-Amz-Expires=3600`,
        })),
      },
    },
  };
}

/** The delete routes as `deleteMode` has them (docs/providers.md#smallest-delete). */
function deleteRoute(
  sim: Smallest,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> | SimulatorReply {
  if (request.url.pathname === '/waves/v1/lightning-large') {
    return sim.deleteMode === 'lightning-large'
      ? remove(sim, request, context)
      : deprecated('DELETE /waves/v1/lightning-large');
  }
  if (sim.deleteMode === 'lightning-large') return routeMissing(request);
  if (sim.deleteMode === 'api-key-refused') {
    return error(401, 'Unauthorized', { message: 'This route requires a dashboard session.' });
  }
  return remove(sim, request, context);
}

async function remove(
  sim: Smallest,
  request: SimulatorRequest,
  context: SimulatorContext,
): Promise<SimulatorReply | undefined> {
  const parsed = deleteRequestSchema.safeParse(request.json);
  if (!parsed.success) return issues(parsed.error.issues);
  if (!(await context.settle(0))) return undefined;
  if (!sim.state.clones.delete(parsed.data.voiceId)) return error(404, 'Voice not found');
  return {
    status: 200,
    json: { message: 'Voice deleted successfully', data: { voiceId: parsed.data.voiceId } },
  };
}

/** Any other path: a retired model's route answers 410, the rest 404. */
function otherRoute(request: SimulatorRequest): SimulatorReply {
  const path = request.url.pathname;
  const segment = path.split('/')[3] ?? '';
  if (path.startsWith('/waves/v1/') && RETIRED_MODELS.includes(segment)) return deprecated(path);
  return routeMissing(request);
}

function newVoiceId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return `voice_${[...randomBytes(10)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}
