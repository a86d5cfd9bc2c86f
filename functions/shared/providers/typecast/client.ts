import { isMissingRoute, ProviderError } from '../errors';
import {
  createProviderHttp,
  invalidResponse,
  type ProviderHttp,
  type ProviderRequest,
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
  DeleteResult,
  ProviderClientOptions,
  SpeechRequest,
  SpeechResult,
  SpeechStream,
  VoiceProvider,
} from '../types';
import { mapTypecastError } from './errors';
import { TYPECAST_LIMITS } from './limits';
import {
  type TypecastListedVoice,
  type TypecastSpeechRequest,
  typecastCloneResponseSchema,
  typecastVoiceListSchema,
} from './wire';

const TITLE = TYPECAST_LIMITS.title;

/** Custom (cloned) voices have this prefix; everything else in `/v2/voices` is Typecast's catalogue. */
export const TYPECAST_CUSTOM_VOICE_PREFIX = 'uc_';

/** How far before the lost attempt started a listed creation time may lie (clock skew). */
const CLOCK_SKEW_MS = 60_000;
/** Pages of `/v2/voices` read before giving up on finding a clone (the list is paginated on some answers). */
const MAX_LIST_PAGES = 20;

const MIME_TYPES = { wav: 'audio/wav', mp3: 'audio/mpeg' } as const;

/**
 * ISO 639-1 → ISO 639-3 for the languages Typecast speaks: voicedrop's API takes either, Typecast only
 * the latter. A code it does not list is left out, so Typecast detects the language itself.
 */
const ISO_639_3: Readonly<Record<string, string>> = {
  en: 'eng',
  ko: 'kor',
  ja: 'jpn',
  es: 'spa',
  de: 'deu',
  fr: 'fra',
  it: 'ita',
  pl: 'pol',
  nl: 'nld',
  ru: 'rus',
  el: 'ell',
  ta: 'tam',
  tl: 'tgl',
  fi: 'fin',
  zh: 'zho',
  sk: 'slk',
  ar: 'ara',
  hr: 'hrv',
  uk: 'ukr',
  id: 'ind',
  da: 'dan',
  sv: 'swe',
  ms: 'msa',
  cs: 'ces',
  pt: 'por',
  bg: 'bul',
  ro: 'ron',
  bn: 'ben',
  hi: 'hin',
  hu: 'hun',
  no: 'nor',
  pa: 'pan',
  th: 'tha',
  tr: 'tur',
  vi: 'vie',
};

export function typecastLanguage(language: string | undefined): string | undefined {
  if (!language) return undefined;
  const code = language.trim().toLowerCase();
  if (/^[a-z]{3}$/.test(code)) return code;
  return ISO_639_3[code];
}

/** v30 must say which kind of emotion control it gets; v21 knows only the preset fields. */
export function typecastPrompt(model: string): TypecastSpeechRequest['prompt'] {
  return model === 'ssfm-v21'
    ? { emotion_preset: 'normal', emotion_intensity: 1 }
    : { emotion_type: 'preset', emotion_preset: 'normal', emotion_intensity: 1 };
}

/**
 * Both speech routes take the same JSON; the streaming one refuses `output.volume` (docs/providers.md#typecast-streaming),
 * which voicedrop never sends.
 */
function speechRequest(path: string, request: SpeechRequest): ProviderRequest {
  const language = typecastLanguage(request.language);
  const body: TypecastSpeechRequest = {
    voice_id: request.providerVoiceId,
    text: request.text,
    model: request.model as TypecastSpeechRequest['model'],
    ...(language === undefined ? {} : { language }),
    prompt: typecastPrompt(request.model),
    // Typecast's output is 44.1 kHz whatever is asked, so sampleRate has nothing to map to.
    output: {
      audio_format: request.format,
      ...(request.speed === undefined ? {} : { audio_tempo: request.speed }),
    },
  };
  return {
    operation: 'speech',
    method: 'POST',
    path,
    headers: {
      'Content-Type': 'application/json',
      Accept: MIME_TYPES[request.format],
    },
    body: JSON.stringify(body),
    idempotent: true,
  };
}

/**
 * A streamed answer's chunks as they come (a WAV's first carries the RIFF header with placeholder sizes;
 * MP3 chunks are whole frames). One that ends without a byte is as invalid as an empty plain answer.
 */
async function* passThrough(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.byteLength;
    yield chunk;
  }
  if (bytes === 0) {
    throw new ProviderError({
      provider: 'typecast',
      kind: 'invalid_response',
      retryable: false,
      message: `${TITLE} ended the speech stream without any audio.`,
    });
  }
}

/** One provider instance's connection, and what it has learnt about Typecast's routes. */
interface TypecastClient {
  readonly http: ProviderHttp;
  /** False once the streaming route answered 404 or 410 and the plain route worked instead. */
  streamRoute: boolean;
}

export function createTypecastProvider(options: ProviderClientOptions): VoiceProvider {
  const http = createProviderHttp({
    provider: 'typecast',
    title: TITLE,
    client: options,
    authorize: (apiKey) => ({ 'X-API-KEY': apiKey }),
    mapError: mapTypecastError,
  });
  const client: TypecastClient = { http, streamRoute: true };

  // Not `this`: a caller may hand the methods around on their own.
  return {
    name: 'typecast',
    limits: TYPECAST_LIMITS,
    cloneVoice: (request, callOptions) => cloneVoice(client, request, callOptions),
    synthesizeStream: (request, callOptions) => synthesizeStream(client, request, callOptions),
    synthesize: (request, callOptions) => synthesize(client, request, callOptions),
    deleteVoice: (providerVoiceId, callOptions) => deleteVoice(client, providerVoiceId, callOptions),
    findClone: (hint, callOptions) => findClone(client, hint, callOptions),
  };
}

/** Every voice the key can see, or `complete: false` when the pages did not end. */
async function listVoices({ http }: TypecastClient, callOptions?: CallOptions) {
  const voices: TypecastListedVoice[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page += 1) {
    const query = cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`;
    const response = await http.send(
      { operation: 'list', method: 'GET', path: `/v2/voices${query}`, idempotent: true },
      callOptions,
    );
    const parsed = typecastVoiceListSchema.safeParse(readJson(response.body));
    if (!parsed.success) throw invalidResponse('typecast', TITLE, 'list', response, parsed.error);
    const items = Array.isArray(parsed.data) ? parsed.data : parsed.data.voices;
    voices.push(...items);
    const next = Array.isArray(parsed.data) ? undefined : (parsed.data.next_cursor ?? undefined);
    if (next === undefined) return { voices, complete: true };
    // A server that ignores the cursor would hand back the same page forever.
    if (seen.has(next)) break;
    seen.add(next);
    cursor = next;
  }
  return { voices, complete: false };
}

async function cloneVoice(
  { http }: TypecastClient,
  request: CloneRequest,
  callOptions?: CallOptions,
): Promise<ClonedVoice> {
  if (request.format !== 'wav' && request.format !== 'mp3') {
    throw new ProviderError({
      provider: 'typecast',
      kind: 'invalid_request',
      message: `${TITLE} clones only from WAV or MP3; this sample is ${request.format.toUpperCase()}.`,
    });
  }
  const form = new MultipartBody([
    {
      name: 'file',
      filename: `sample.${request.format}`,
      contentType: MIME_TYPES[request.format],
      data: request.audio,
    },
    { name: 'name', value: request.displayName },
    { name: 'model', value: request.model },
  ]);

  const response = await http.send(
    { operation: 'clone', method: 'POST', path: '/v1/voices/clone', body: form, idempotent: false },
    callOptions,
  );
  const parsed = typecastCloneResponseSchema.safeParse(readJson(response.body));
  if (!parsed.success) throw invalidResponse('typecast', TITLE, 'clone', response, parsed.error);
  return {
    providerVoiceId: parsed.data.voice_id,
    displayName: parsed.data.name,
    model: parsed.data.model,
    language: request.language,
    // Typecast's clone call answers once the voice can speak.
    state: 'ready',
    // Typecast keeps neither tags nor samples; voicedrop keeps the tags on its record.
    samples: [],
  };
}

async function synthesizeStream(
  client: TypecastClient,
  request: SpeechRequest,
  callOptions?: CallOptions,
): Promise<SpeechStream> {
  if (!client.streamRoute) return plainSpeechStream(await synthesize(client, request, callOptions));
  let response: ProviderStreamResponse;
  try {
    response = await client.http.stream(speechRequest('/v1/text-to-speech/stream', request), callOptions);
  } catch (error) {
    // 404 is also Typecast's unknown voice: the route is known to be gone only once the plain one works.
    if (!isMissingRoute(error)) throw error;
    const plain = await synthesize(client, request, callOptions);
    client.streamRoute = false;
    return plainSpeechStream(plain);
  }
  return {
    format: request.format,
    contentType: MIME_TYPES[request.format],
    streamed: true,
    requestId: response.headers.get('x-request-id') ?? undefined,
    chunks: streamedChunks(response.body, passThrough),
  };
}

async function synthesize(
  { http }: TypecastClient,
  request: SpeechRequest,
  callOptions?: CallOptions,
): Promise<SpeechResult> {
  const response = await http.send(speechRequest('/v1/text-to-speech', request), callOptions);
  if (response.body.byteLength === 0) throw invalidResponse('typecast', TITLE, 'speech', response);
  return {
    audio: response.body,
    format: request.format,
    contentType: MIME_TYPES[request.format],
    requestId: response.headers.get('x-request-id') ?? undefined,
  };
}

async function deleteVoice(
  { http }: TypecastClient,
  providerVoiceId: string,
  callOptions?: CallOptions,
): Promise<DeleteResult> {
  try {
    await http.send(
      {
        operation: 'delete',
        method: 'DELETE',
        path: `/v1/voices/${encodeURIComponent(providerVoiceId)}`,
        idempotent: true,
      },
      callOptions,
    );
  } catch (error) {
    // Deleted earlier (by us or in the dashboard): the outcome the caller wants.
    if (error instanceof ProviderError && error.kind === 'not_found') return { deleted: true };
    throw error;
  }
  return { deleted: true };
}

async function findClone(
  client: TypecastClient,
  hint: CloneHint,
  callOptions?: CallOptions,
): Promise<CloneLookup> {
  const { voices, complete } = await listVoices(client, callOptions);
  const known = new Set(hint.knownProviderVoiceIds ?? []);
  const name = hint.displayName.normalize('NFC');
  const earliest = hint.startedAt.getTime() - CLOCK_SKEW_MS;
  const matches = voices.filter((voice) => {
    if (!voice.voice_id.startsWith(TYPECAST_CUSTOM_VOICE_PREFIX) || known.has(voice.voice_id)) return false;
    if ((voice.voice_name ?? voice.name ?? '').normalize('NFC') !== name) return false;
    const models = voice.models?.map((model) => model.version) ?? (voice.model ? [voice.model] : []);
    if (models.length > 0 && !models.includes(hint.model)) return false;
    const created = Date.parse(voice.created_at ?? voice.createdAt ?? '');
    return Number.isNaN(created) || created >= earliest;
  });

  const match =
    matches.find((voice) => voice.voice_id === hint.providerVoiceId) ??
    (matches.length === 1 ? matches[0] : undefined);
  if (match) {
    return {
      outcome: 'found',
      voice: {
        providerVoiceId: match.voice_id,
        displayName: match.voice_name ?? match.name ?? hint.displayName,
        model: hint.model,
        createdAt: match.created_at ?? match.createdAt ?? undefined,
        // A voice Typecast lists can speak.
        state: 'ready',
        samples: [],
      },
    };
  }
  if (matches.length > 1) {
    return {
      outcome: 'ambiguous',
      reason:
        `${matches.length} ${TITLE} custom voices are named "${hint.displayName}" (${hint.model}): ` +
        `${matches.map((voice) => voice.voice_id).join(', ')}; Typecast keeps no tag to tell which one this upload created.`,
    };
  }
  if (!complete) {
    return {
      outcome: 'ambiguous',
      reason: `${TITLE}'s voice list did not end after ${MAX_LIST_PAGES} pages, so a missing clone cannot be ruled out.`,
    };
  }
  return { outcome: 'absent' };
}
