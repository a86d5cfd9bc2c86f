/**
 * Audio to mono PCM for the speech-quality gate and trimming:
 * - WAV: integer PCM (8/16/24/32-bit), IEEE float (32/64-bit) and G.711 A-law/μ-law, read directly
 *   (decode-wav.ts);
 * - MP3: mpg123-decoder (decode-mpeg.ts);
 * - Opus in WebM: opus-decoder, fed the packets webm.ts finds (decode-opus.ts).
 * The two WebAssembly decoders are imported and compiled on first use only, so the clone function's import
 * time does not pay for them. Not decoded, with the reason: AAC (or anything else) in MP4, Vorbis in WebM,
 * ADPCM and other compressed WAV codecs; the caller says so in the verdict instead of guessing.
 */

import { decodeMpeg } from './decode-mpeg';
import { decodeWebmOpus } from './decode-opus';
import { decodeWav } from './decode-wav';
import type { AudioProbe } from './types';

export type AudibleProbe = Extract<AudioProbe, { kind: 'audio' }>;

/** A WAV's samples in the file, so a cut can copy them exactly. */
export interface WavLayout {
  readonly kind: 'wav';
  readonly dataOffset: number;
  /** Bytes of the data chunk that the file really holds (whole sample frames). */
  readonly dataBytes: number;
  readonly blockAlign: number;
  /** The fmt chunk's body, copied into a cut. */
  readonly formatChunk: Uint8Array;
}

/** An MP3's frames: frame i starts at byte frameOffsets[i] and at sample i × samplesPerFrame. */
export interface Mp3Layout {
  readonly kind: 'mp3';
  /** Byte offset of every audio frame, and one past the last. */
  readonly frameOffsets: readonly number[];
  readonly samplesPerFrame: number;
}

/** Where the samples lie in the file: what a cut needs (trim.ts), or only what was decoded. */
export type SampleLayout = WavLayout | Mp3Layout | { readonly kind: 'webm'; readonly codec: 'Opus' };

export interface DecodedAudio {
  readonly decoded: true;
  /** Mono (channels averaged), −1…1. */
  readonly samples: Float32Array;
  readonly sampleRate: number;
  readonly layout: SampleLayout;
  /** Whether decoding stopped at the limit (`maxSec`) before the end of the audio. */
  readonly truncated: boolean;
}

export type DecodeOutcome = DecodedAudio | { readonly decoded: false; readonly reason: string };

export interface DecodeOptions {
  /**
   * Decode at most this many seconds (memory: 4 bytes a sample, so 10 min at 48 kHz is 115 MB).
   * @default DEFAULT_MAX_DECODE_SEC
   */
  readonly maxSec?: number;
}

/** Ten minutes: four times Typecast's longest sample, and a bounded amount of memory. */
export const DEFAULT_MAX_DECODE_SEC = 600;

const FORMAT_NAMES = { wav: 'WAV', mp3: 'MP3', mp4: 'MP4', webm: 'WebM' } as const;

/**
 * PCM of the audio `probe` describes, or why it is not decoded. Never throws because of the bytes: damage
 * gives the PCM decoded before it, or a reason when there is none.
 */
export async function decodeAudio(
  bytes: Uint8Array,
  probe: AudibleProbe,
  options: DecodeOptions = {},
): Promise<DecodeOutcome> {
  const maxSec = Math.max(0, options.maxSec ?? DEFAULT_MAX_DECODE_SEC);
  try {
    switch (probe.format) {
      case 'wav':
        return decodeWav(bytes, maxSec);
      case 'mp3':
        return await decodeMpeg(bytes, maxSec);
      case 'webm':
        if (probe.codec === 'OPUS') return await decodeWebmOpus(bytes, maxSec);
        break;
      default:
        break;
    }
  } catch {
    return { decoded: false, reason: 'its audio could not be decoded' };
  }
  return {
    decoded: false,
    reason: `${probe.codec ?? 'Its'} audio in ${FORMAT_NAMES[probe.format]} is not decoded here`,
  };
}
