import { latin1, uint16LittleEndian, uint32LittleEndian } from './bytes';
import type { AudioProbe } from './types';

/** Reads bytes [start, end) of the file; used only for chunk headers that lie beyond the first read. */
type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

// Recorders write a handful of chunks before the audio; more than this is not a recording worth the reads.
const MAXIMUM_CHUNKS = 64;
// The longest fmt chunk we interpret (WAVE_FORMAT_EXTENSIBLE is 40 bytes).
const FORMAT_CHUNK_BYTES = 40;
// A data size the writer could not fill in (streamed WAV): the audio runs to the end of the file.
const UNKNOWN_DATA_SIZES = new Set([0, 0xffffffff]);

const FORMAT_TAG_NAMES: Readonly<Record<number, string>> = {
  1: 'PCM',
  2: 'Microsoft ADPCM',
  3: 'IEEE float',
  6: 'A-law',
  7: 'mu-law',
  17: 'IMA ADPCM',
  80: 'MPEG',
  85: 'MPEG Layer 3',
};
// Uncompressed and companded formats: one block is one sample frame, so durations are exact.
const FRAME_PER_BLOCK_TAGS = new Set([0x0001, 0x0003, 0x0006, 0x0007]);
const EXTENSIBLE_TAG = 0xfffe;

export interface WaveFormat {
  readonly tag: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly byteRate: number;
  readonly blockAlign: number;
  readonly bitsPerSample: number;
  /** ADPCM formats: sample frames in one block (from the fmt extension). */
  readonly samplesPerBlock?: number;
}

const ADPCM_TAGS = new Set([0x0002, 0x0011]);

export function parseFormatChunk(body: Uint8Array): WaveFormat | undefined {
  const tag = uint16LittleEndian(body, 0);
  const channels = uint16LittleEndian(body, 2);
  const sampleRate = uint32LittleEndian(body, 4);
  const byteRate = uint32LittleEndian(body, 8);
  const blockAlign = uint16LittleEndian(body, 12);
  const bitsPerSample = uint16LittleEndian(body, 14) ?? 0;
  if (tag === undefined || channels === undefined || sampleRate === undefined) return undefined;
  if (byteRate === undefined || blockAlign === undefined) return undefined;
  // WAVE_FORMAT_EXTENSIBLE carries the real format in the first two bytes of its sub-format GUID.
  const subFormat = tag === EXTENSIBLE_TAG ? uint16LittleEndian(body, 24) : undefined;
  const samplesPerBlock = ADPCM_TAGS.has(tag) ? uint16LittleEndian(body, 18) : undefined;
  return {
    tag: subFormat ?? tag,
    channels,
    sampleRate,
    byteRate,
    blockAlign,
    bitsPerSample,
    samplesPerBlock,
  };
}

function codecName(format: WaveFormat): string {
  const name = FORMAT_TAG_NAMES[format.tag] ?? `WAV format 0x${format.tag.toString(16).padStart(4, '0')}`;
  return FRAME_PER_BLOCK_TAGS.has(format.tag) && format.bitsPerSample > 0
    ? `${name} ${format.bitsPerSample}-bit`
    : name;
}

/**
 * Facts of a RIFF/WAVE file from its header and its size alone: walks the chunks up to `data` (reading
 * beyond `prefix` only for chunk headers) and bounds the audio by the bytes the file really holds.
 */
export async function probeWav(prefix: Uint8Array, size: number, read: RangeReader): Promise<AudioProbe> {
  const bytesAt = async (start: number, length: number): Promise<Uint8Array> =>
    start + length <= prefix.length ? prefix.subarray(start, start + length) : read(start, start + length);

  let format: WaveFormat | undefined;
  // Compressed WAV (ADPCM, MP3 in WAV) states its length in sample frames in a `fact` chunk.
  let factFrames: number | undefined;
  let offset = 12;
  for (let chunk = 0; chunk < MAXIMUM_CHUNKS && offset + 8 <= size; chunk++) {
    const header = await bytesAt(offset, 8);
    const id = latin1(header, 0, 4);
    const chunkSize = uint32LittleEndian(header, 4);
    if (header.length < 8 || chunkSize === undefined) break;
    const bodyStart = offset + 8;
    if (id === 'fmt ') {
      format = parseFormatChunk(await bytesAt(bodyStart, Math.min(chunkSize, FORMAT_CHUNK_BYTES)));
      if (!format) return unreadable('WAV header is cut off inside its format (fmt) chunk');
    } else if (id === 'fact' && chunkSize >= 4) {
      factFrames = uint32LittleEndian(await bytesAt(bodyStart, 4), 0);
    } else if (id === 'data') {
      if (!format) return unreadable('WAV file has its audio data before any format (fmt) chunk');
      return wavAudio(format, chunkSize, Math.max(0, size - bodyStart), factFrames);
    }
    // Chunks are padded to an even length.
    offset = bodyStart + chunkSize + (chunkSize % 2);
  }
  if (!format) return unreadable('WAV header is incomplete: it has no format (fmt) chunk');
  return unreadable('WAV file holds no audio data (no data chunk)');
}

function wavAudio(
  format: WaveFormat,
  declaredBytes: number,
  presentBytes: number,
  factFrames: number | undefined,
): AudioProbe {
  if (format.channels === 0 || format.sampleRate === 0) {
    return unreadable(`WAV header is corrupt: ${format.channels} channels at ${format.sampleRate} Hz`);
  }
  const playableBytes = UNKNOWN_DATA_SIZES.has(declaredBytes)
    ? presentBytes
    : Math.min(declaredBytes, presentBytes);
  // What the bytes present can play: whole ADPCM blocks of a known number of frames, else (MPEG and
  // other compressed WAV) the header's average byte rate, the clock ffprobe uses for them.
  const blockSeconds =
    format.samplesPerBlock && format.blockAlign
      ? (Math.floor(playableBytes / format.blockAlign) * format.samplesPerBlock) / format.sampleRate
      : undefined;
  const presentSeconds =
    blockSeconds ?? (format.byteRate > 0 ? playableBytes / format.byteRate : Number.POSITIVE_INFINITY);
  let durationSec: number;
  if (FRAME_PER_BLOCK_TAGS.has(format.tag)) {
    const blockAlign = format.blockAlign || format.channels * Math.ceil(format.bitsPerSample / 8);
    if (blockAlign === 0) return unreadable('WAV header is corrupt: its sample frames have no size');
    durationSec = Math.floor(playableBytes / blockAlign) / format.sampleRate;
  } else if (factFrames && !UNKNOWN_DATA_SIZES.has(declaredBytes)) {
    // The fact chunk counts the frames of the whole data chunk; a cut-off file holds a share of them.
    // It is only a claim: a fact chunk that counts more frames than the blocks hold does not count.
    const claimedSeconds = (factFrames / format.sampleRate) * Math.min(1, playableBytes / declaredBytes);
    durationSec = Math.min(claimedSeconds, presentSeconds);
  } else if (blockSeconds !== undefined) {
    durationSec = blockSeconds;
  } else {
    // Compressed WAV without a frame count: the header's average byte rate is the only clock short of decoding.
    if (format.byteRate === 0)
      return unreadable('WAV header is corrupt: it gives neither a frame count nor a byte rate');
    durationSec = playableBytes / format.byteRate;
  }
  if (durationSec === 0) {
    return unreadable(
      presentBytes === 0 && declaredBytes > 0
        ? 'WAV file is cut off before its audio: the header promises samples that are not there'
        : 'WAV file holds no audio samples',
    );
  }
  return {
    kind: 'audio',
    format: 'wav',
    durationSec,
    sampleRate: format.sampleRate,
    channels: format.channels,
    codec: codecName(format),
  };
}

function unreadable(reason: string): AudioProbe {
  return { kind: 'unreadable', format: 'wav', reason };
}
