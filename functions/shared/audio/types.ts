/** Audio containers a provider may accept. Decided from the bytes, never from the file name. */
export const ACCEPTABLE_FORMATS = ['wav', 'mp3', 'mp4', 'webm'] as const;
export type AudioFormat = (typeof ACCEPTABLE_FORMATS)[number];

/**
 * Random access to the bytes of one file or object, so validation reads only what it needs:
 * the local file system for the CLI, ranged GETs for S3.
 */
export interface ByteSource {
  /** Total size in bytes, known before any read (stat or HEAD). */
  readonly size: number;
  /** Bytes [start, end) (end exclusive, clamped to size). */
  read(start: number, end: number): Promise<Uint8Array>;
  /** Every byte (called only when the container needs it). */
  readAll(): Promise<Uint8Array>;
  /** Bytes delivered so far by read and readAll, when the source counts them (proves how little was read). */
  readonly bytesRead?: number;
}

/** A ByteSource that always counts what it delivered (the ones in sources.ts). */
export interface MeteredByteSource extends ByteSource {
  readonly bytesRead: number;
}

/** What the bytes turned out to be. */
export type AudioProbe =
  | {
      readonly kind: 'audio';
      /** Container, one of the formats providers may accept. */
      readonly format: AudioFormat;
      /** Real playable duration in seconds (never more than the bytes hold). */
      readonly durationSec: number;
      readonly sampleRate: number | null;
      readonly channels: number | null;
      /** Codec as the parser names it, for messages and logs (e.g. "PCM", "MPEG 1 Layer 3", "AAC"). */
      readonly codec: string | null;
      /**
       * Where the duration comes from when only the header was read (header-probe.ts): what the header
       * states, or an estimate from an MP3's bitrate. Absent: measured from the bytes present.
       */
      readonly durationFrom?: 'header' | 'estimate';
    }
  | {
      /** Audio in an accepted container whose length its first 64 KiB do not tell (header-probe.ts). */
      readonly kind: 'header-only';
      readonly format: AudioFormat;
      readonly sampleRate: number | null;
      readonly channels: number | null;
    }
  | {
      /** Recognised audio in a container no provider here accepts (ogg, flac, aac, aiff, …). */
      readonly kind: 'unsupported';
      readonly format: string;
      readonly description: string;
    }
  | {
      /** Not audio, corrupt, truncated beyond use, or no audio track. */
      readonly kind: 'unreadable';
      readonly format: string | null;
      readonly reason: string;
    }
  | { readonly kind: 'empty' };
