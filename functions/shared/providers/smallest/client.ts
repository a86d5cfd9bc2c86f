import type { AudioFormat } from '../../audio/types';
import { isMissingRoute, ProviderError } from '../errors';
import {
  createProviderHttp,
  invalidResponse,
  type ProviderHttp,
  type ProviderOperation,
  type ProviderResponse,
  type ProviderStreamResponse,
  readJson,
} from '../http';
import { MultipartBody } from '../multipart';
import { plainSpeechStream, streamedChunks } from '../speech-stream';
import type {
  CallOptions,
  ClonedVoice,
  CloneHint,
  CloneLookup,
  CloneRequest,
  CloneState,
  DeleteResult,
  ProviderClientOptions,
  SpeechRequest,
  SpeechResult,
  SpeechStream,
  VoiceProvider,
} from '../types';
import { mapSmallestError } from './errors';
import { SMALLEST_LIMITS } from './limits';
import { smallestLiveAudio } from './live';
import {
  SMALLEST_DEFAULT_SAMPLE_RATE,
  type SmallestListedClone,
  type SmallestSpeechRequest,
  smallestCloneListSchema,
  smallestCloneResponseSchema,
} from './wire';

const TITLE = SMALLEST_LIMITS.title;

/** MIME types Smallest accepts, per detected container (the file name's extension matches). */
export const SMALLEST_MIME_TYPES: Readonly<Record<AudioFormat, string>> = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  mp4: 'audio/mp4',
  webm: 'audio/webm',
};

/** A WAV this small holds no speech: what a `lightning-large`-only clone answers on v3.1. */
const EMPTY_AUDIO_MAX_BYTES = 200;

type SpeechRoute = 'unified' | 'model';
type DeleteRoute = 'guide' | 'voice-cloning';

/** `lightning-v3.1-pro` → `lightning_v3.1_pro`: the unified speech route spells models with underscores. */
export function smallestSpeechModel(model: string): string {
  return model.replaceAll('-', '_');
}

/** One provider instance's connection, and which of Smallest's routes it has found answering. */
interface SmallestClient {
  readonly http: ProviderHttp;
  // Which route answered last time, per client instance: the provider is mid-migration on both.
  speechRoute?: SpeechRoute;
  deleteRoute?: DeleteRoute;
  /** False once the live (SSE) route answered 404 or 410 and the plain route worked instead. */
  liveRoute: boolean;
}

export function createSmallestProvider(options: ProviderClientOptions): VoiceProvider {
  const http = createProviderHttp({
    provider: 'smallest',
    title: TITLE,
    client: options,
    authorize: (apiKey) => ({ Authorization: `Bearer ${apiKey}` }),
    mapError: mapSmallestError,
  });
  const client: SmallestClient = { http, liveRoute: true };

  // Not `this`: a caller may hand the methods around on their own.
  return {
    name: 'smallest',
    limits: SMALLEST_LIMITS,
    cloneVoice: (request, callOptions) => cloneVoice(client, request, callOptions),
    synthesizeStream: (request, callOptions) => synthesizeStream(client, request, callOptions),
    synthesize: (request, callOptions) => synthesize(client, request, callOptions),
    deleteVoice: (providerVoiceId, callOptions) => deleteVoice(client, providerVoiceId, callOptions),
    findClone: (hint, callOptions) => findClone(client, hint, callOptions),
  };
}

async function sendJson(
  { http }: SmallestClient,
  operation: ProviderOperation,
  method: 'POST' | 'DELETE',
  path: string,
  body: unknown,
  callOptions: CallOptions | undefined,
  extraHeaders: Record<string, string> = {},
): Promise<ProviderResponse> {
  return http.send(
    {
      operation,
      method,
      path,
      headers: { 'Content-Type': 'application/json', ...extraHeaders },
      body: JSON.stringify(body),
      idempotent: true,
    },
    callOptions,
  );
}

async function listClones(
  { http }: SmallestClient,
  callOptions?: CallOptions,
): Promise<SmallestListedClone[]> {
  const response = await http.send(
    { operation: 'list', method: 'GET', path: '/waves/v1/voice-cloning', idempotent: true },
    callOptions,
  );
  const parsed = smallestCloneListSchema.safeParse(readJson(response.body));
  if (!parsed.success) throw invalidResponse('smallest', TITLE, 'list', response, parsed.error);
  return parsed.data.data;
}

/** One speech request on `route`: the unified route names the model in the body, the per-model one in the path. */
async function speakOn(
  client: SmallestClient,
  route: SpeechRoute,
  request: SpeechRequest,
  callOptions?: CallOptions,
) {
  const body = speechBody(request, request.format);
  const [path, payload] =
    route === 'unified'
      ? ['/waves/v1/tts', { ...body, model: smallestSpeechModel(request.model) }]
      : [`/waves/v1/${encodeURIComponent(request.model)}/get_speech`, body];
  return sendJson(client, 'speech', 'POST', path, payload, callOptions, { Accept: 'audio/wav' });
}

async function speak(
  client: SmallestClient,
  request: SpeechRequest,
  callOptions?: CallOptions,
): Promise<ProviderResponse> {
  const preferred: SpeechRoute = client.speechRoute ?? 'unified';
  try {
    const response = await speakOn(client, preferred, request, callOptions);
    client.speechRoute = preferred;
    return response;
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
  }
  const other: SpeechRoute = preferred === 'unified' ? 'model' : 'unified';
  const response = await speakOn(client, other, request, callOptions);
  client.speechRoute = other;
  return response;
}

async function cloneVoice(
  { http }: SmallestClient,
  request: CloneRequest,
  callOptions?: CallOptions,
): Promise<ClonedVoice> {
  // The record id travels as a tag: the only way findClone can later recognise this clone.
  const tags = [...new Set([...(request.tags ?? []), request.voiceRecordId].map((tag) => tag.trim()))];
  const optional = (name: string, value: string | undefined) => (value ? [{ name, value }] : []);
  const form = new MultipartBody([
    { name: 'displayName', value: request.displayName },
    {
      name: 'file',
      filename: `sample.${request.format}`,
      contentType: SMALLEST_MIME_TYPES[request.format],
      data: request.audio,
    },
    { name: 'model', value: request.model },
    ...optional('language', request.language),
    ...optional('description', request.description),
    ...optional('accent', request.accent),
    { name: 'tags', value: tags.filter((tag) => tag !== '').join(',') },
  ]);

  const response = await http.send(
    {
      operation: 'clone',
      method: 'POST',
      path: '/waves/v1/voice-cloning',
      body: form,
      idempotent: false,
    },
    callOptions,
  );
  const parsed = smallestCloneResponseSchema.safeParse(readJson(response.body));
  if (!parsed.success) throw invalidResponse('smallest', TITLE, 'clone', response, parsed.error);
  const data = parsed.data.data;
  const model = typeof data.model === 'string' ? data.model : (data.model?.modelName ?? request.model);
  return {
    providerVoiceId: data.voiceId,
    displayName: data.displayName,
    model,
    language: data.language ?? request.language,
    state: smallestCloneState(data.status),
    createdAt: data.createdAt ?? undefined,
    samples: (data.samples ?? []).map((sample) => ({ text: sample.text, audioUrl: sample.audioUrl })),
    tags: data.tags ?? tags,
  };
}

async function synthesizeStream(
  client: SmallestClient,
  request: SpeechRequest,
  callOptions?: CallOptions,
): Promise<SpeechStream> {
  // The live route speaks PCM only (wrapped here in a WAV header): MP3 comes from the plain route.
  if (request.format !== 'wav' || !client.liveRoute) {
    return plainSpeechStream(await synthesize(client, request, callOptions));
  }
  const sampleRate = request.sampleRate ?? SMALLEST_DEFAULT_SAMPLE_RATE;
  let response: ProviderStreamResponse;
  try {
    response = await client.http.stream(
      {
        operation: 'speech',
        method: 'POST',
        path: '/waves/v1/tts/live',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        // The unified route's body; `pcm` because that is what the events carry, whatever is asked.
        body: JSON.stringify({
          ...speechBody(request, 'pcm'),
          model: smallestSpeechModel(request.model),
        }),
        idempotent: true,
      },
      callOptions,
    );
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
    const plain = await synthesize(client, request, callOptions);
    // Only now is the route known to be gone (not the voice): later calls go straight to the plain one.
    client.liveRoute = false;
    return plainSpeechStream(plain);
  }
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const context = { sampleRate, providerVoiceId: request.providerVoiceId, requestId };
  return {
    format: 'wav',
    contentType: 'audio/wav',
    streamed: true,
    requestId,
    chunks: streamedChunks(response.body, (body) => smallestLiveAudio(body, context)),
  };
}

async function synthesize(
  client: SmallestClient,
  request: SpeechRequest,
  callOptions?: CallOptions,
): Promise<SpeechResult> {
  const response = await speak(client, request, callOptions);
  const requestId = response.headers.get('x-request-id') ?? undefined;
  if (holdsNoAudio(response.body)) {
    throw new ProviderError({
      provider: 'smallest',
      kind: 'incompatible_voice',
      statusCode: response.status,
      requestId,
      message:
        `${TITLE} returned empty audio for voice ${request.providerVoiceId}: this usually means the clone was made ` +
        'with the old lightning-large endpoint and only works with lightning-large. Re-clone the voice from its sample.',
    });
  }
  // The answer is labelled audio/wav whatever was asked for, so the requested format is the truth.
  return {
    audio: response.body,
    format: request.format,
    contentType: request.format === 'mp3' ? 'audio/mpeg' : 'audio/wav',
    requestId,
  };
}

async function deleteVoice(
  client: SmallestClient,
  providerVoiceId: string,
  callOptions?: CallOptions,
): Promise<DeleteResult> {
  const body = { voiceId: providerVoiceId };
  if (client.deleteRoute !== 'voice-cloning') {
    try {
      await sendJson(client, 'delete', 'DELETE', '/waves/v1/lightning-large', body, callOptions);
      client.deleteRoute = 'guide';
      return { deleted: true };
    } catch (error) {
      if (isUnknownVoice(error)) {
        client.deleteRoute = 'guide';
        return { deleted: true };
      }
      if (!isMissingRoute(error)) throw error;
    }
  }

  try {
    await sendJson(client, 'delete', 'POST', '/waves/v1/voice-cloning/delete', body, callOptions);
    client.deleteRoute = 'voice-cloning';
    return { deleted: true };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    if (error.statusCode === 404) {
      client.deleteRoute = 'voice-cloning';
      return { deleted: true };
    }
    if (error.kind !== 'auth' && error.kind !== 'forbidden') throw error;
    // Refused. If the same key can list clones, the route (not the key) is the problem: say so honestly.
    const clones = await listClones(client, callOptions);
    client.deleteRoute = 'voice-cloning';
    if (!clones.some((clone) => clone.voiceId === providerVoiceId)) return { deleted: true };
    return {
      deleted: false,
      detail:
        `Smallest does not allow deleting clones with an API key; delete voice ${providerVoiceId} ` +
        'in the Smallest dashboard (app.smallest.ai → Voice cloning).',
    };
  }
}

async function findClone(
  client: SmallestClient,
  hint: CloneHint,
  callOptions?: CallOptions,
): Promise<CloneLookup> {
  const clones = await listClones(client, callOptions);
  const known = new Set(hint.knownProviderVoiceIds ?? []);
  const matches = clones.filter(
    (clone) =>
      !known.has(clone.voiceId) && (clone.tags ?? []).some((tag) => tag.trim() === hint.voiceRecordId),
  );
  // The list is complete (no pagination) and the tag is unique per record: no match means no clone.
  if (matches.length === 0) return { outcome: 'absent' };
  const match =
    matches.find((clone) => clone.voiceId === hint.providerVoiceId) ??
    (matches.length === 1 ? matches[0] : undefined);
  if (!match) {
    return {
      outcome: 'ambiguous',
      reason: `${matches.length} ${TITLE} clones carry tag ${hint.voiceRecordId}: ${matches.map((clone) => clone.voiceId).join(', ')}.`,
    };
  }
  return {
    outcome: 'found',
    voice: {
      providerVoiceId: match.voiceId,
      displayName: match.displayName,
      model: match.modelIds?.[0] ?? hint.model,
      language: match.language ?? undefined,
      state: smallestCloneState(match.status),
      createdAt: match.createdAt ?? undefined,
      samples: [],
      tags: match.tags ?? undefined,
    },
  };
}

/**
 * Smallest's clone `status` as readiness (docs/providers.md, "Smallest clone"): usable only once
 * `completed`; `failed` is final. The field is documented as always present, so an absent or unknown one
 * is not taken as ready: the clone is looked up again, within the pipeline's own deadlines.
 */
export function smallestCloneState(status: string | null | undefined): CloneState {
  if (status === 'completed') return 'ready';
  if (status === 'failed') return 'failed';
  return 'processing';
}

/** The JSON every speech route takes (the unified and live routes add `model`). */
function speechBody(request: SpeechRequest, outputFormat: SmallestSpeechRequest['output_format']) {
  const body: SmallestSpeechRequest = {
    text: request.text,
    voice_id: request.providerVoiceId,
    // Always explicit: the server's default output is headerless PCM, and its sample rate default may move.
    output_format: outputFormat,
    sample_rate: (request.sampleRate ?? SMALLEST_DEFAULT_SAMPLE_RATE) as SmallestSpeechRequest['sample_rate'],
    ...(request.speed === undefined ? {} : { speed: request.speed }),
    ...(request.language === undefined ? {} : { language: request.language }),
  };
  return body;
}

/**
 * The guide's delete route answers 404 with a voice message when the voice is already gone, and a
 * generic 404 when the route itself is missing.
 */
function isUnknownVoice(error: unknown): boolean {
  return (
    error instanceof ProviderError &&
    error.statusCode === 404 &&
    /voice[^/]*not found|no such voice|unknown voice|invalid voice/i.test(error.responseBody ?? '')
  );
}

/** True for no bytes, a tiny answer, or a RIFF/WAVE whose data chunk is empty. */
function holdsNoAudio(body: Uint8Array): boolean {
  if (body.byteLength <= EMPTY_AUDIO_MAX_BYTES) return true;
  const dataBytes = wavDataBytes(body);
  return dataBytes !== undefined && dataBytes === 0;
}

/** Size of a WAV's data chunk, or undefined when the bytes are not a WAV. */
function wavDataBytes(body: Uint8Array): number | undefined {
  const text = (offset: number) => String.fromCharCode(...body.subarray(offset, offset + 4));
  if (body.byteLength < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let offset = 12;
  while (offset + 8 <= body.byteLength) {
    const size = view.getUint32(offset + 4, true);
    if (text(offset) === 'data') return Math.min(size, body.byteLength - offset - 8);
    offset += 8 + size + (size % 2);
  }
  return undefined;
}
