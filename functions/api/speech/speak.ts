import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SPEECH_PREFIX } from '../../shared/contract';
import type { Log } from '../../shared/logger';
import type { MetricsRecorder } from '../../shared/metrics';
import type { ProviderName, VoiceProvider } from '../../shared/providers/types';
import { knownProviderOf, type VoiceRecord } from '../../shared/voices/record';
import type { VoiceRepository } from '../../shared/voices/repository';
import { DELETED_STATUSES, IN_PROGRESS_STATUSES } from '../../shared/voices/status';
import { ApiError } from '../errors';
import type { SpeechRequestBody } from '../schemas';
import { joinMp3, joinWav } from './join-audio';
import { isSpeakable, splitText } from './split-text';

export interface SpeechDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  /** Synthesis requests in flight per provider (SMALLEST_SPEECH_CONCURRENCY, …); default: its limits. */
  readonly speechConcurrency?: Readonly<Record<ProviderName, number>>;
  readonly speechUrlTtlSeconds: number;
  readonly logger: Log;
  readonly metrics: MetricsRecorder;
  readonly now: () => Date;
}

/**
 * Audio a Lambda can return inline: the response payload limit is 6 MB and binary bodies travel as
 * base64 (4/3 larger), with room for headers.
 */
export const MAX_INLINE_AUDIO_BYTES = 4_400_000;

export interface StoredSpeech {
  readonly url: string;
  readonly expiresAt: string;
  readonly contentType: 'audio/wav' | 'audio/mpeg';
  readonly bytes: number;
}

export type SpeechAnswer =
  | {
      readonly kind: 'audio';
      readonly audio: Uint8Array;
      readonly contentType: 'audio/wav' | 'audio/mpeg';
      readonly chunks: number;
    }
  /** `delivery: "url"` was asked for. */
  | { readonly kind: 'url'; readonly body: StoredSpeech }
  /** Inline was asked for, but the audio is larger than a response can carry: a 303 to the stored file. */
  | { readonly kind: 'redirect'; readonly body: StoredSpeech };

/** Finds the voice that speaks for `voiceId` (a duplicate speaks with the voice it duplicates). */
export async function speakingVoice(voiceId: string, voices: VoiceRepository): Promise<VoiceRecord> {
  let record = await voices.get(voiceId);
  if (!record?.voiceId.startsWith('vc_')) throw new ApiError(404, 'voice_not_found', `No voice ${voiceId}.`);
  if (record.status === 'duplicate' && record.duplicateOf) {
    const original = await voices.get(record.duplicateOf);
    if (!original || original.status === 'deleted') {
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
  return record;
}

/**
 * Synthesizes `request.text` with the voice: text longer than one provider request allows is split at
 * sentence, then word, boundaries, synthesized in order within the provider's concurrency limit, and
 * joined into one WAV or MP3. Text with nothing to speak (no letter or digit) is a 400, before any
 * provider call.
 */
export async function speak(
  voiceId: string,
  request: SpeechRequestBody,
  deadline: number,
  dependencies: SpeechDependencies,
): Promise<SpeechAnswer> {
  // Refused here, like the schema's own checks, rather than by the provider after a paid round trip.
  if (!isSpeakable(request.text)) {
    throw new ApiError(
      400,
      'invalid_request',
      'text: has nothing to speak; it needs at least one letter or digit (punctuation, emoji, symbols and ' +
        'whitespace alone are silent).',
    );
  }
  const record = await speakingVoice(voiceId, dependencies.voices);
  const name = knownProviderOf(record);
  if (!name) throw new ApiError(409, 'voice_not_ready', `Voice ${voiceId} has no known provider.`);
  const provider = dependencies.providers[name];
  const chunks = splitText(request.text, provider.limits.speech.maxCharsPerRequest);
  const signal = AbortSignal.timeout(Math.max(1_000, deadline - Date.now()));
  const started = Date.now();
  const concurrency = dependencies.speechConcurrency?.[name] ?? provider.limits.speech.concurrency;
  const parts = await mapInOrder(chunks, concurrency, (text) =>
    provider.synthesize(
      {
        providerVoiceId: record.providerVoiceId as string,
        text,
        format: request.format,
        model: record.model ?? provider.limits.models.default,
        language: request.language ?? record.language,
        speed: request.speed,
        sampleRate: request.sampleRate,
      },
      { signal, deadline },
    ),
  );
  const audio =
    request.format === 'mp3'
      ? joinMp3(parts.map((part) => part.audio))
      : joinWav(parts.map((part) => part.audio));
  const contentType = request.format === 'mp3' ? 'audio/mpeg' : 'audio/wav';
  const characters = [...request.text].length;
  dependencies.metrics.count('SpeechRequests');
  dependencies.metrics.count('SpeechCharacters', characters);
  dependencies.metrics.providerLatency(record.provider, 'speech', Date.now() - started);
  dependencies.logger.info('speech synthesized', {
    voiceId,
    provider: record.provider,
    characters,
    chunks: chunks.length,
    bytes: audio.length,
    providerMs: Date.now() - started,
    delivery: request.delivery,
  });

  if (request.delivery === 'inline' && audio.length <= MAX_INLINE_AUDIO_BYTES) {
    return { kind: 'audio', audio, contentType, chunks: chunks.length };
  }
  const stored = await storeSpeech(record.voiceId, audio, request.format, contentType, dependencies);
  return { kind: request.delivery === 'url' ? 'url' : 'redirect', body: stored };
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

/** Runs `work` over `items` with at most `concurrency` in flight; results keep the input order. */
async function mapInOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    // After a failure no new request starts: the answer is an error anyway.
    while (next < items.length && !failed) {
      const index = next;
      next += 1;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}
