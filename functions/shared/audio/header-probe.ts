/**
 * What an object too large to be accepted is, from its first 64 KiB alone (one ranged GET, never the whole
 * object): its format always when the bytes show it, its length when the header states it (WAV sizes, an
 * MP3's Xing/VBRI frame count, MP4 and WebM declared durations) or an MP3's bitrate lets it be estimated.
 * So an oversize upload is told every problem at once (also "far too long"), without paying to read it.
 */

import { walkMp4 } from './mp4';
import { declaredMpegFrames, parseMpegFrameHeader, walkMpegFrames } from './mpeg';
import { FIRST_READ_BYTES, readOrExplain } from './probe';
import { detectContainer } from './sniff';
import type { AudioFormat, AudioProbe, ByteSource } from './types';
import { probeWav } from './wav';
import { walkWebm } from './webm';

/** A read past the header window: what is known so far is all a header-only look can say. */
class OutsideHeaderWindow extends Error {}

const OPUS_SAMPLE_RATE = 48_000;

/** The sample rate and channel count a header states, where it states them. */
type HeaderFacts = Partial<Record<'sampleRate' | 'channels', number>>;

function headerOnly(format: AudioFormat, facts: HeaderFacts = {}) {
  return {
    kind: 'header-only',
    format,
    sampleRate: facts.sampleRate ?? null,
    channels: facts.channels ?? null,
  } as const satisfies AudioProbe;
}

/** A container whose header states its duration: audio, as far as this look can tell. */
function durationFromHeader(
  format: AudioFormat,
  durationSec: number,
  facts: HeaderFacts,
  codec: string | null,
): AudioProbe {
  return {
    kind: 'audio',
    format,
    durationSec,
    sampleRate: facts.sampleRate ?? null,
    channels: facts.channels ?? null,
    codec,
    durationFrom: 'header',
  };
}

function mp3FromHeader(prefix: Uint8Array, firstFrame: number, size: number): AudioProbe {
  const header = parseMpegFrameHeader(prefix, firstFrame);
  if (!header) return headerOnly('mp3');
  const facts = { sampleRate: header.sampleRate, channels: header.channels };
  const base = {
    kind: 'audio',
    format: 'mp3',
    ...facts,
    codec: `MPEG ${header.version} Layer ${header.layer}`,
  } as const;
  const declared = declaredMpegFrames(prefix, firstFrame);
  if (declared !== undefined && declared > 0) {
    return {
      ...base,
      durationSec: (declared * header.samplesPerFrame) / header.sampleRate,
      durationFrom: 'header',
    } as const;
  }
  // No frame count: the frames seen so far give bytes per second, and the object's size the rest.
  const seen = walkMpegFrames(prefix, firstFrame);
  if (!seen || seen.frames === 0) return headerOnly('mp3', facts);
  const bytesPerSecond = (prefix.length - firstFrame) / seen.durationSec;
  if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) return headerOnly('mp3', facts);
  return { ...base, durationSec: (size - firstFrame) / bytesPerSecond, durationFrom: 'estimate' } as const;
}

function mp4FromHeader(prefix: Uint8Array): AudioProbe {
  const layout = walkMp4(prefix);
  const audio = layout.audio;
  const facts = { sampleRate: audio?.sampleRate, channels: audio?.channels };
  const declared = audio?.declaredDurationSec;
  if (!layout.hasMovieBox || !audio || declared === undefined || !(declared > 0)) {
    return headerOnly('mp4', facts);
  }
  return durationFromHeader('mp4', declared, facts, audio.codec);
}

function webmFromHeader(prefix: Uint8Array): AudioProbe {
  const layout = walkWebm(prefix);
  const track = layout.audioTrack;
  const isOpus = track?.codec?.toUpperCase() === 'OPUS';
  const facts = { sampleRate: isOpus ? OPUS_SAMPLE_RATE : track?.sampleRate, channels: track?.channels };
  const declared = layout.declaredDurationSec;
  if (!track || declared === undefined || !(declared > 0)) return headerOnly('webm', facts);
  return durationFromHeader('webm', declared, facts, track.codec);
}

/**
 * Probes `source` from its first FIRST_READ_BYTES only. Verdicts that need more bytes than that (a WAV whose
 * chunks before `data` outgrow the window, an MP3 behind a large ID3 tag) end as `header-only` or as the
 * detection's own verdict. Like probeAudio, throws only AudioSourceError.
 */
export async function probeAudioHeader(source: ByteSource): Promise<AudioProbe | undefined> {
  if (source.size <= 0) return { kind: 'empty' };
  const prefix = await readOrExplain(() => source.read(0, Math.min(source.size, FIRST_READ_BYTES)));
  if (prefix.length === 0) return { kind: 'empty' };
  const withinWindow = async (start: number, end: number): Promise<Uint8Array> => {
    if (end > prefix.length && prefix.length < source.size) throw new OutsideHeaderWindow();
    return prefix.subarray(start, end);
  };
  let detection: Awaited<ReturnType<typeof detectContainer>>;
  try {
    detection = await detectContainer(prefix, source.size, withinWindow);
  } catch {
    // Behind a tag larger than the window, or damage the detector trips over: nothing is known.
    return undefined;
  }
  try {
    switch (detection.kind) {
      case 'wav':
        return await probeWav(prefix, source.size, withinWindow);
      case 'mp3':
        return mp3FromHeader(prefix, detection.firstFrame, source.size);
      case 'mp4':
        return mp4FromHeader(prefix);
      case 'webm':
        return webmFromHeader(prefix);
      default:
        return detection;
    }
  } catch {
    // The header outgrows the window, or the parser trips over damage a full read would judge.
    return detection.kind === 'unsupported' || detection.kind === 'unreadable'
      ? detection
      : headerOnly(detection.kind);
  }
}
