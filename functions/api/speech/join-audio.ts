/**
 * The audio formats speech pieces are joined in: which WAV formats can be joined by copying whole sample
 * frames, how a format is described in errors, the WAV header a joined response starts with, and the
 * Xing/Info frames an MP3 piece's reader leaves behind. The joining itself is PieceReader's (piece-reader.ts).
 */

import { latin1, uint16LittleEndian, uint32LittleEndian } from '../../shared/audio/bytes';
import type { MpegFrameHeader } from '../../shared/audio/mpeg';
import { MAXIMUM_RIFF_SIZE, wavHeader as riffWavHeader, wavRiffSize } from '../../shared/audio/wav-header';
import { VoicedropError } from '../../shared/errors';

/** The parts cannot form one file: not the expected container, or formats that differ between parts. */
export class AudioJoinError extends VoicedropError {
  constructor(message: string) {
    super('audio_join_failed', message);
  }
}

const PCM = 0x0001;
const IEEE_FLOAT = 0x0003;
const A_LAW = 0x0006;
const MU_LAW = 0x0007;
const EXTENSIBLE = 0xfffe;
// Formats where one block is one sample frame: parts can be cut and joined at any block.
const FORMAT_NAMES: ReadonlyMap<number, string> = new Map([
  [PCM, 'PCM'],
  [IEEE_FLOAT, 'IEEE float'],
  [A_LAW, 'A-law'],
  [MU_LAW, 'mu-law'],
]);

/** What a WAV's `fmt ` chunk says about its samples. */
export interface WavFormat {
  /** The fmt chunk body as written, so extensible and float headers survive the join. */
  readonly formatBody: Uint8Array;
  /** The real format (the sub-format of WAVE_FORMAT_EXTENSIBLE). */
  readonly formatTag: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  /** Bytes per sample frame: pieces are cut and joined at these only. */
  readonly blockAlign: number;
}

/** What a WAV's `fmt ` chunk says; throws AudioJoinError for formats that cannot be joined. */
export function wavFormat(formatBody: Uint8Array, label: string): WavFormat {
  const tag = uint16LittleEndian(formatBody, 0);
  const channels = uint16LittleEndian(formatBody, 2);
  const sampleRate = uint32LittleEndian(formatBody, 4);
  const declaredBlockAlign = uint16LittleEndian(formatBody, 12);
  const bitsPerSample = uint16LittleEndian(formatBody, 14);
  if (
    tag === undefined ||
    channels === undefined ||
    sampleRate === undefined ||
    declaredBlockAlign === undefined ||
    bitsPerSample === undefined
  ) {
    throw new AudioJoinError(`${label} has a format (fmt) chunk too short to read`);
  }
  const formatTag = tag === EXTENSIBLE ? (uint16LittleEndian(formatBody, 24) ?? tag) : tag;
  if (!FORMAT_NAMES.has(formatTag)) {
    throw new AudioJoinError(
      `${label} is WAV format 0x${formatTag.toString(16).padStart(4, '0')}; only PCM, float, A-law and mu-law WAV can be joined`,
    );
  }
  const blockAlign = declaredBlockAlign || channels * Math.ceil(bitsPerSample / 8);
  if (channels === 0 || sampleRate === 0 || blockAlign === 0) {
    throw new AudioJoinError(`${label} has a corrupt format: ${channels} channels at ${sampleRate} Hz`);
  }
  return { formatBody, formatTag, channels, sampleRate, bitsPerSample, blockAlign };
}

export function describeWav(part: WavFormat): string {
  const channels = part.channels === 1 ? '1 channel' : `${part.channels} channels`;
  return `${part.sampleRate} Hz, ${channels}, ${part.bitsPerSample}-bit ${FORMAT_NAMES.get(part.formatTag)}`;
}

/**
 * The start of a joined RIFF/WAVE file up to its samples (the shared wavHeader, wav-header.ts): `RIFF`, the
 * `fmt ` chunk given, any `chunks` (whole, even-sized chunks such as the AI-generated LIST/INFO marking) and
 * a `data` chunk header for `dataBytes` of samples; without them (a stream of unknown length) both sizes are
 * the 0xFFFFFFFF placeholder that streamed WAV carries. Throws AudioJoinError beyond the 4 GiB RIFF limit.
 */
export function wavHeader(formatBody: Uint8Array, dataBytes?: number, chunks?: Uint8Array): Uint8Array {
  if (
    dataBytes !== undefined &&
    wavRiffSize(formatBody.length, dataBytes, chunks?.length) > MAXIMUM_RIFF_SIZE
  ) {
    throw new AudioJoinError('Joined WAV would exceed the 4 GiB RIFF limit');
  }
  return riffWavHeader(formatBody, dataBytes, chunks);
}

/** Xing/Info (LAME) or VBRI frame: the encoder's frame count and seek table, silent as audio. */
export function isInformationFrame(bytes: Uint8Array, offset: number, header: MpegFrameHeader): boolean {
  const sideInformation =
    header.version === 1 ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  const checksum = ((bytes[offset + 1] ?? 0) & 1) === 0 ? 2 : 0;
  const tag = latin1(bytes, offset + 4 + checksum + sideInformation, 4);
  return tag === 'Xing' || tag === 'Info' || latin1(bytes, offset + 36, 4) === 'VBRI';
}

export function describeMp3(header: MpegFrameHeader): string {
  const channels = header.channels === 1 ? 'mono' : 'stereo';
  return `MPEG ${header.version} Layer ${header.layer}, ${header.sampleRate} Hz, ${channels}`;
}
