import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SPEECH_PREFIX } from '../../shared/contract';
import type { Log } from '../../shared/logger';
import type { MetricsRecorder } from '../../shared/metrics';
import type { ProviderName, SpeechStream, VoiceProvider } from '../../shared/providers/types';
import { knownProviderOf, VOICE_ID_PATTERN, type VoiceRecord } from '../../shared/voices/record';
import type { VoiceRepository } from '../../shared/voices/repository';
import { DELETED_STATUSES, IN_PROGRESS_STATUSES } from '../../shared/voices/status';
import { ApiError } from '../errors';
import type { SpeechRequestBody } from '../schemas';
import type { RecentPieces } from './recent-pieces';
import { Semaphore } from './semaphore';
import {
  type PlannedPiece,
  type ProductionOutcome,
  produceSpeech,
  type SpeechProduction,
} from './speech-production';
import { isSpeakable, speechPieces } from './split-text';
import { normaliseSpeechText, type PieceIdentity, pieceCacheKey, SynthesisCache } from './synthesis-cache';

export interface SpeechDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  /** Synthesis requests in flight per provider (SMALLEST_SPEECH_CONCURRENCY, …); default: its limits. */
  readonly speechConcurrency?: Readonly<Record<ProviderName, number>>;
  readonly speechUrlTtlSeconds: number;
  /** The synthesis cache's tier in this instance's memory; without it every lookup goes to S3. */
  readonly recentPieces?: RecentPieces;
  readonly logger: Log;
  readonly metrics: MetricsRecorder;
  readonly now: () => Date;
}

export interface StoredSpeech {
  readonly url: string;
  readonly expiresAt: string;
  readonly contentType: 'audio/wav' | 'audio/mpeg';
  readonly bytes: number;
}

/** `hit`: every piece came from the synthesis cache; `partial`: some did; `miss`: none (or it was bypassed). */
export type CacheOutcome = 'hit' | 'partial' | 'miss';

export type SpeechAnswer =
  | {
      readonly kind: 'stream';
      readonly body: ReadableStream<Uint8Array>;
      readonly contentType: 'audio/wav' | 'audio/mpeg';
      /** The exact body size, when every piece is cached; else the body is sent chunked. */
      readonly contentLength?: number;
      readonly pieces: number;
      readonly cache: CacheOutcome;
      /** Resolves once the request's usage and metrics are recorded (after the body has ended). */
      readonly finished: Promise<void>;
    }
  /** `delivery: "url"` was asked for. */
  | {
      readonly kind: 'url';
      readonly body: StoredSpeech;
      readonly pieces: number;
      readonly cache: CacheOutcome;
      readonly finished: Promise<void>;
    };

/** Finds the voice that speaks for `voiceId` (a duplicate speaks with the voice it duplicates). */
export async function speakingVoice(
  voiceId: string,
  voices: VoiceRepository,
): Promise<VoiceRecord & { readonly providerVoiceId: string }> {
  let record = await voices.get(voiceId);
  if (!record || !VOICE_ID_PATTERN.test(record.voiceId)) {
    throw new ApiError(404, 'voice_not_found', `No voice ${voiceId}.`);
  }
  if (record.status === 'duplicate' && record.duplicateOf) {
    const original = await voices.get(record.duplicateOf);
    if (!original || DELETED_STATUSES.has(original.status)) {
      throw new ApiError(
        410,
        'voice_deleted',
        `Voice ${voiceId} duplicates ${record.duplicateOf}, which was deleted.`,
      );
    }
    record = original;
  }
  if (DELETED_STATUSES.has(record.status)) {
    throw new ApiError(
      410,
      'voice_deleted',
      `Voice ${voiceId} was deleted${record.deletedAt ? ` at ${record.deletedAt}` : ''}.`,
    );
  }
  if (record.status !== 'ready' || !record.providerVoiceId) {
    const reason = record.error ? `: ${record.error.message}` : '';
    throw new ApiError(409, 'voice_not_ready', `Voice ${voiceId} is ${record.status}, not ready${reason}`, {
      retryable: IN_PROGRESS_STATUSES.has(record.status),
    });
  }
  return { ...record, providerVoiceId: record.providerVoiceId };
}

/**
 * Speaks `request.text` with the voice, as a stream that starts with the first piece's first bytes. The
 * text is cut into pieces (speechPieces: a sentence each), each the audio of one provider request: cached
 * pieces are read from the bucket, the others synthesized in order within the provider's concurrency and
 * cached. Errors before the first byte (an unknown voice, the provider refusing the first piece) are
 * thrown as usual; later ones end the stream early. Text with nothing to speak is a 400, before any
 * provider call.
 */
export async function speak(
  voiceId: string,
  request: SpeechRequestBody,
  signal: AbortSignal,
  dependencies: SpeechDependencies,
): Promise<SpeechAnswer> {
  refuseUnspeakable(request.text);
  const voice = await resolveVoice(voiceId, request, dependencies);
  const { record, provider } = voice;
  const cache = request.cache
    ? new SynthesisCache(dependencies.s3, dependencies.bucket, dependencies.recentPieces)
    : undefined;
  const pieces = planSpeech(request, voice, cache, signal);
  // Known once the first piece has begun (every lookup has answered by then).
  let cacheOutcome: CacheOutcome = 'miss';
  const contentType = request.format === 'mp3' ? 'audio/mpeg' : 'audio/wav';
  const characters = [...request.text].length;
  const started = Date.now();
  const concurrency = dependencies.speechConcurrency?.[voice.name] ?? provider.limits.speech.concurrency;

  const production = await produceSpeech({
    pieces,
    format: request.format,
    contentType,
    concurrency,
    cache,
    signal,
    logger: dependencies.logger,
    marking: { voiceId: record.voiceId, at: dependencies.now().toISOString() },
    synthesize: synthesizerFor(voice, request),
    // Reads `cacheOutcome` when the production finishes, not now.
    onFinished: (outcome) =>
      reportSpeech(
        outcome,
        {
          voiceId,
          record,
          provider: voice.name,
          characters,
          pieces: pieces.length,
          started,
          delivery: request.delivery,
        },
        cacheOutcome,
        dependencies,
      ),
  });

  cacheOutcome =
    production.cachedPieces === pieces.length ? 'hit' : production.cachedPieces > 0 ? 'partial' : 'miss';
  const common = { pieces: pieces.length, cache: cacheOutcome, finished: production.finished };
  return request.delivery === 'url'
    ? urlAnswer(production, request, record.voiceId, contentType, common, dependencies)
    : streamAnswer(production, contentType, common);
}

/** Throws the 400 for text with nothing to speak. */
function refuseUnspeakable(text: string): void {
  // Refused here, like the schema's own checks, rather than by the provider after a paid round trip.
  if (!isSpeakable(text)) {
    throw new ApiError(
      400,
      'invalid_request',
      'text: has nothing to speak; it needs at least one letter or digit (punctuation, emoji, symbols and ' +
        'whitespace alone are silent).',
    );
  }
}

/** The voice that speaks a request, with the provider, model and language it speaks with. */
interface ResolvedVoice {
  readonly record: VoiceRecord;
  readonly name: ProviderName;
  readonly provider: VoiceProvider;
  readonly providerVoiceId: string;
  readonly model: string;
  readonly language?: string;
}

/** Finds the speaking voice and its provider, model and language; a 409 when its provider is unknown. */
async function resolveVoice(
  voiceId: string,
  request: SpeechRequestBody,
  dependencies: SpeechDependencies,
): Promise<ResolvedVoice> {
  const record = await speakingVoice(voiceId, dependencies.voices);
  const name = knownProviderOf(record);
  if (!name) throw new ApiError(409, 'voice_not_ready', `Voice ${voiceId} has no known provider.`);
  const provider = dependencies.providers[name];
  const model = record.model ?? provider.limits.models.default;
  const language = request.language ?? record.language;
  return { record, name, provider, providerVoiceId: record.providerVoiceId, model, language };
}

/** Cuts the text into the provider's pieces, each with its cache lookup under way (see planPieces). */
function planSpeech(
  request: SpeechRequestBody,
  voice: ResolvedVoice,
  cache: SynthesisCache | undefined,
  signal: AbortSignal,
): PlannedPiece[] {
  const { record, provider } = voice;
  const texts = speechPieces(normaliseSpeechText(request.text), provider.limits.speech.maxCharsPerRequest);
  return planPieces(texts, record.voiceId, cache, signal, {
    provider: voice.name,
    providerVoiceId: voice.providerVoiceId,
    model: voice.model,
    format: request.format,
    language: voice.language,
    speed: request.speed,
    sampleRate: request.sampleRate,
  });
}

/** Asks the voice's provider for one piece's audio. */
function synthesizerFor(
  voice: ResolvedVoice,
  request: SpeechRequestBody,
): (text: string, signal: AbortSignal) => Promise<SpeechStream> {
  return (text, pieceSignal) =>
    voice.provider.synthesizeStream(
      {
        providerVoiceId: voice.providerVoiceId,
        text,
        format: request.format,
        model: voice.model,
        language: voice.language,
        speed: request.speed,
        sampleRate: request.sampleRate,
      },
      { signal: pieceSignal },
    );
}

/** What the report of a finished request says besides the production's outcome. */
interface SpeechFacts {
  /** As asked for (a duplicate's id, say); `record` is the voice that spoke. */
  readonly voiceId: string;
  readonly record: VoiceRecord;
  /** The provider that spoke (the record's, narrowed). */
  readonly provider: ProviderName;
  readonly characters: number;
  readonly pieces: number;
  /** `Date.now()` just before the production started. */
  readonly started: number;
  readonly delivery: SpeechRequestBody['delivery'];
}

/** Records a finished request: its metrics, its log line and the voice's usage. */
async function reportSpeech(
  outcome: ProductionOutcome,
  facts: SpeechFacts,
  cacheOutcome: CacheOutcome,
  dependencies: SpeechDependencies,
): Promise<void> {
  const { voiceId, record, provider, characters, started } = facts;
  const { metrics, logger } = dependencies;
  metrics.count('SpeechRequests');
  metrics.count('SpeechCharacters', characters);
  metrics.providerCount(provider, 'SpeechProviderCharacters', outcome.providerCharacters);
  metrics.providerCount(provider, 'SpeechCachedPieces', outcome.cachedPieces);
  if (outcome.completed && cacheOutcome === 'hit') metrics.providerCount(provider, 'SpeechCacheHits', 1);
  if (outcome.synthesizedPieces > 0) {
    metrics.providerLatency(provider, 'speech', Date.now() - started);
  }
  if (!outcome.completed && outcome.bytes > 0) metrics.count('SpeechStreamsTruncated');
  const details = {
    voiceId,
    provider,
    characters,
    pieces: facts.pieces,
    cachedPieces: outcome.cachedPieces,
    synthesizedPieces: outcome.synthesizedPieces,
    providerCharacters: outcome.providerCharacters,
    bytes: outcome.bytes,
    ms: Date.now() - started,
    cache: cacheOutcome,
    delivery: facts.delivery,
  };
  if (outcome.completed) logger.info('speech synthesized', details);
  else if (outcome.bytes > 0)
    logger.error('speech stream ended early', { ...details, error: describe(outcome.error) });
  try {
    await dependencies.voices.recordUsage(record.voiceId, {
      requests: 1,
      characters,
      providerCharacters: outcome.providerCharacters,
      cacheHits: outcome.completed && cacheOutcome === 'hit' ? 1 : 0,
      at: dependencies.now().toISOString(),
    });
  } catch (error) {
    logger.warn('could not record speech usage', { voiceId, error: describe(error) });
  }
}

/** What every answer carries, whatever its delivery. */
interface AnswerCommon {
  readonly pieces: number;
  readonly cache: CacheOutcome;
  readonly finished: Promise<void>;
}

/** The `delivery: "url"` answer: the whole audio stored in the bucket, behind a signed URL. */
async function urlAnswer(
  production: SpeechProduction,
  request: SpeechRequestBody,
  voiceId: string,
  contentType: 'audio/wav' | 'audio/mpeg',
  common: AnswerCommon,
  dependencies: SpeechDependencies,
): Promise<SpeechAnswer> {
  const audio = new Uint8Array(await new Response(production.body).arrayBuffer());
  const stored = await storeSpeech(voiceId, audio, request.format, contentType, dependencies);
  return { kind: 'url', body: stored, ...common };
}

/** The streamed answer: the production's body as it is made. */
function streamAnswer(
  production: SpeechProduction,
  contentType: 'audio/wav' | 'audio/mpeg',
  common: AnswerCommon,
): SpeechAnswer {
  return {
    kind: 'stream',
    body: production.body,
    contentType,
    contentLength: production.contentLength,
    ...common,
  };
}

/**
 * Each piece with its cache lookup under way (a few at a time, in order). The first pieces are fetched
 * whole, since they are needed at once; the others only asked about (HEAD), their bytes read when due.
 */
function planPieces(
  texts: readonly string[],
  voiceId: string,
  cache: SynthesisCache | undefined,
  signal: AbortSignal,
  identity: Omit<PieceIdentity, 'text'>,
): PlannedPiece[] {
  const keys = texts.map((text) => pieceCacheKey(voiceId, { ...identity, text }));
  const limit = new Semaphore(CACHE_LOOKUPS_IN_FLIGHT);
  let first: Promise<unknown> | undefined;
  return texts.map((text, index) => {
    const key = keys[index] as string;
    const ask = async () => {
      if (!cache) return undefined;
      return index < FETCHED_WHOLE ? cache.fetch(key, signal) : cache.find(key, signal);
    };
    // The first piece's lookup goes alone: the stream waits on it, the others have until its audio exists.
    const lookup = !cache
      ? Promise.resolve(undefined)
      : index === 0
        ? limit.run(ask)
        : limit.run(async () => {
            await first?.catch(() => undefined);
            return ask();
          });
    if (index === 0) first = lookup;
    // Awaited by the production; until then a failure must not count as unhandled.
    lookup.catch(() => undefined);
    return { text, cacheKey: key, lookup };
  });
}

const CACHE_LOOKUPS_IN_FLIGHT = 16;
/** Pieces whose cache lookup reads the audio too (those the stream starts with). */
const FETCHED_WHOLE = 4;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function storeSpeech(
  voiceId: string,
  audio: Uint8Array,
  format: 'wav' | 'mp3',
  contentType: 'audio/wav' | 'audio/mpeg',
  dependencies: SpeechDependencies,
): Promise<StoredSpeech> {
  const key = `${SPEECH_PREFIX}${voiceId}/${randomUUID()}.${format}`;
  await dependencies.s3.send(
    new PutObjectCommand({ Bucket: dependencies.bucket, Key: key, Body: audio, ContentType: contentType }),
  );
  const url = await getSignedUrl(
    dependencies.s3,
    new GetObjectCommand({ Bucket: dependencies.bucket, Key: key }),
    {
      expiresIn: dependencies.speechUrlTtlSeconds,
    },
  );
  const expiresAt = new Date(
    dependencies.now().getTime() + dependencies.speechUrlTtlSeconds * 1_000,
  ).toISOString();
  return { url, expiresAt, contentType, bytes: audio.length };
}
