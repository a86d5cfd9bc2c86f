/**
 * The synthesis cache: the audio of every provider speech request, stored in the bucket under
 * `cache/<voiceId>/` so that the same request is never paid for twice. A piece's key is a hash of
 * everything the provider's audio depends on: provider, provider voice id, model, format, language,
 * speed, sample rate and the piece's normalised text. Entries of one voice live under that voice's
 * prefix only, so they can never be served for another voice and are deleted with it; a lifecycle rule
 * expires them (README, "Speak"). A warm instance also keeps the pieces it used lately in memory
 * (recent-pieces.ts), asked first.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SPEECH_CACHE_PREFIX } from '../../shared/contract';
import type { ProviderName } from '../../shared/providers/types';
import type { RecentPieces } from './recent-pieces';

/** Everything a piece's audio depends on. */
export interface PieceIdentity {
  readonly provider: ProviderName;
  readonly providerVoiceId: string;
  readonly model: string;
  readonly format: 'wav' | 'mp3';
  readonly language?: string;
  readonly speed?: number;
  readonly sampleRate?: number;
  /** Normalised (see normaliseSpeechText). */
  readonly text: string;
}

/** What a cached entry says about itself (object metadata), read without its body. */
export interface CachedPiece {
  readonly key: string;
  /** Bytes the piece adds to a joined response: its PCM samples or MPEG frames, without the header. */
  readonly payloadBytes: number;
}

// Object metadata names (x-amz-meta-…), lower case as S3 returns them.
const PAYLOAD_BYTES = 'payload-bytes';

/** NFC, with every run of whitespace one space and none at the ends: text that sounds the same is one key. */
export function normaliseSpeechText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

/** The prefix of every cached piece of one voice. */
export function voiceCachePrefix(voiceId: string): string {
  return `${SPEECH_CACHE_PREFIX}${voiceId}/`;
}

export function pieceCacheKey(voiceId: string, piece: PieceIdentity): string {
  // A JSON array of fixed order: no field can run into the next, and absent ones are explicit.
  const identity = JSON.stringify([
    1,
    piece.provider,
    piece.providerVoiceId,
    piece.model,
    piece.format,
    piece.language ?? null,
    piece.speed ?? null,
    piece.sampleRate ?? null,
    piece.text,
  ]);
  const digest = createHash('sha256').update(identity).digest('base64url');
  return `${voiceCachePrefix(voiceId)}${digest}.${piece.format}`;
}

export class SynthesisCache {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    /** The tier in this instance's memory (recent-pieces.ts), asked before S3 and filled from it. */
    private readonly recent?: RecentPieces,
  ) {}

  /** The entry's metadata, or undefined when there is none (never cached, expired, or unreadable). */
  async find(key: string, signal?: AbortSignal): Promise<CachedPiece | undefined> {
    const recent = this.recent?.get(key);
    if (recent) return { key, payloadBytes: recent.payloadBytes };
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      const payloadBytes = Number(head.Metadata?.[PAYLOAD_BYTES]);
      // An entry without its size was not written by this code: synthesize again rather than guess.
      if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0) return undefined;
      return { key, payloadBytes };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The entry with its bytes in one request (for pieces needed at once), or undefined when there is none. */
  async fetch(key: string, signal?: AbortSignal): Promise<(CachedPiece & { bytes: Uint8Array }) | undefined> {
    const recent = this.recent?.get(key);
    if (recent) return { key, payloadBytes: recent.payloadBytes, bytes: recent.bytes };
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      const payloadBytes = Number(object.Metadata?.[PAYLOAD_BYTES]);
      const bytes = object.Body ? await object.Body.transformToByteArray() : undefined;
      if (!bytes || !Number.isSafeInteger(payloadBytes) || payloadBytes < 0) return undefined;
      this.recent?.put(key, { bytes, payloadBytes });
      return { key, payloadBytes, bytes };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The entry's bytes, or undefined when it went away since `find` (a lifecycle expiry, a deletion). */
  async read(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const recent = this.recent?.get(key);
    if (recent) return recent.bytes;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      return object.Body ? await object.Body.transformToByteArray() : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async write(key: string, audio: Uint8Array, payloadBytes: number, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: audio,
        ContentType: contentType,
        Metadata: { [PAYLOAD_BYTES]: String(payloadBytes) },
      }),
    );
    this.recent?.put(key, { bytes: audio, payloadBytes });
  }
}

/**
 * Not there. S3 answers a missing key with 403 to a role that may not list the bucket, and the speech
 * function may not (least privilege), so 403 counts as missing too: a real permission problem then shows
 * as every request missing the cache and every write failing, which is logged.
 */
function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return name === 'NoSuchKey' || name === 'NotFound' || status === 404 || status === 403;
}
