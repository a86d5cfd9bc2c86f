import { AudioSourceError } from './errors';
import { walkMp4 } from './mp4';
import { walkMpegFrames } from './mpeg';
import { detectContainer } from './sniff';
import type { AudioFormat, AudioProbe, ByteSource } from './types';
import { probeWav } from './wav';
import { walkWebm } from './webm';

/** The first read: enough for every header verdict (garbage, unsupported, WAV) without reading more. */
export const FIRST_READ_BYTES = 64 * 1024;

// Opus always decodes at 48 kHz whatever rate its header notes as the input's; players and ffprobe say 48 kHz.
const OPUS_SAMPLE_RATE = 48_000;

function unreadable(format: AudioFormat, reason: string): AudioProbe {
  return { kind: 'unreadable', format, reason };
}

/**
 * The reason shown to users when a parser throws. Our parsers answer damage with verdicts, not exceptions,
 * so anything thrown is one tripping over the damage: a JavaScript runtime error's text ("Cannot read
 * properties of undefined") says nothing a person can act on.
 */
function userFacingReason(error: unknown): string {
  const runtimeError =
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError;
  if (error instanceof Error && !runtimeError && error.message.trim() !== '') return error.message;
  return 'its headers contradict each other';
}

function probeMp3(bytes: Uint8Array, firstFrame: number): AudioProbe {
  const stream = walkMpegFrames(bytes, firstFrame);
  if (!stream || stream.frames === 0) return unreadable('mp3', 'MP3 file holds no complete audio frame');
  return {
    kind: 'audio',
    format: 'mp3',
    durationSec: stream.durationSec,
    sampleRate: stream.sampleRate,
    channels: stream.channels,
    codec: stream.codec,
  };
}

function probeMp4(bytes: Uint8Array): AudioProbe {
  const layout = walkMp4(bytes);
  if (!layout.hasMovieBox) {
    return unreadable(
      'mp4',
      'MP4 file is incomplete: its index (moov box) is missing or cut off, as when a recording is not finished',
    );
  }
  const { audio } = layout;
  if (!audio) {
    return unreadable(
      'mp4',
      layout.damage ? `MP4 file is damaged (${layout.damage})` : 'MP4 file has no audio track',
    );
  }
  // The header's length is what the movie declares; what plays is bounded by the samples present.
  const declared = audio.declaredDurationSec;
  const present = audio.presentDurationSec;
  const durationSec = declared !== undefined && declared > 0 ? Math.min(declared, present) : present;
  if (!(durationSec > 0)) {
    return unreadable(
      'mp4',
      layout.damage
        ? `MP4 file is damaged (${layout.damage})`
        : 'MP4 file holds no audio samples (it is cut off before them)',
    );
  }
  return {
    kind: 'audio',
    format: 'mp4',
    durationSec,
    sampleRate: audio.sampleRate ?? null,
    channels: audio.channels ?? null,
    codec: audio.codec,
  };
}

function probeWebm(bytes: Uint8Array): AudioProbe {
  const layout = walkWebm(bytes);
  const track = layout.audioTrack;
  if (!track) {
    return unreadable(
      'webm',
      layout.headerDamage ? `WebM file is damaged (${layout.headerDamage})` : 'WebM file has no audio track',
    );
  }
  if (layout.audioBlocks === 0) {
    return unreadable('webm', 'WebM file holds no audio data (it is cut off before its first audio block)');
  }
  const declared = layout.declaredDurationSec;
  const measured = layout.measuredDurationSec;
  const durationSec = declared === undefined ? measured : Math.min(declared, measured);
  if (!(durationSec > 0)) return unreadable('webm', 'WebM file holds no playable audio');
  const isOpus = track.codec?.toUpperCase() === 'OPUS';
  return {
    kind: 'audio',
    format: 'webm',
    durationSec,
    sampleRate: isOpus ? OPUS_SAMPLE_RATE : (track.sampleRate ?? null),
    channels: track.channels ?? null,
    codec: track.codec,
  };
}

/** A source's read whose failure says nothing about the audio: AudioSourceError, worth retrying. */
export async function readOrExplain(read: () => Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await read();
  } catch (error) {
    throw error instanceof AudioSourceError
      ? error
      : new AudioSourceError('Could not read the audio', { cause: error });
  }
}

/**
 * What the bytes are, and for audio its real playable length, sample rate and channels.
 *
 * Reads as little as the container allows: the first read is at most 64 KiB, and verdicts on garbage,
 * unsupported formats and WAV come from it alone (WAV files need only their header and size). MP3, MP4 and
 * WebM are read whole (callers check the size first). Never throws because of the bytes: anything a parser
 * trips over becomes `unreadable`. A failing source (file system, S3) throws AudioSourceError, because that
 * says nothing about the audio and is worth retrying.
 */
export async function probeAudio(source: ByteSource): Promise<AudioProbe> {
  if (source.size <= 0) return { kind: 'empty' };
  const read = (start: number, end: number) => readOrExplain(() => source.read(start, end));
  const readAll = () => readOrExplain(() => source.readAll());
  try {
    const prefix = await read(0, Math.min(source.size, FIRST_READ_BYTES));
    // The size came from a listing or HEAD; the object itself holds nothing now.
    if (prefix.length === 0) return { kind: 'empty' };
    const detection = await detectContainer(prefix, source.size, read);
    // A small file is whole after the first read; do not fetch it twice.
    const everything = async () => (prefix.length >= source.size ? prefix : readAll());
    switch (detection.kind) {
      case 'wav':
        return await probeWav(prefix, source.size, read);
      case 'mp3':
        return probeMp3(await everything(), detection.firstFrame);
      case 'mp4':
        return probeMp4(await everything());
      case 'webm':
        return probeWebm(await everything());
      default:
        return detection;
    }
  } catch (error) {
    if (error instanceof AudioSourceError) throw error;
    return { kind: 'unreadable', format: null, reason: `could not be parsed (${userFacingReason(error)})` };
  }
}
