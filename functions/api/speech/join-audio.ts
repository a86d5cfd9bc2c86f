/**
 * Joins the audio of several provider requests (one per text chunk) into one file. Only the container is
 * rewritten; samples and MPEG frames are copied as they are, so nothing is decoded or re-encoded.
 */

import { concatBytes, latin1, uint16LittleEndian, uint32LittleEndian } from '../../shared/audio/bytes';
import { findMpegStream, type MpegFrameHeader, parseMpegFrameHeader } from '../../shared/audio/mpeg';
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
// Placeholders a writer leaves in a size field when it streams and cannot seek back to fill it in.
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);
const MAXIMUM_RIFF_SIZE = 0xffffffff;

interface WavPart {
  /** The fmt chunk body as written, so extensible and float headers survive the join. */
  readonly formatBody: Uint8Array;
  /** The real format (the sub-format of WAVE_FORMAT_EXTENSIBLE). */
  readonly formatTag: number;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly blockAlign: number;
  /** Whole sample frames only. */
  readonly samples: Uint8Array;
}

function readWav(bytes: Uint8Array, label: string): WavPart {
  if (latin1(bytes, 0, 4) !== 'RIFF' || latin1(bytes, 8, 4) !== 'WAVE') {
    throw new AudioJoinError(`${label} is not a RIFF/WAVE file`);
  }
  const riffSize = uint32LittleEndian(bytes, 4) ?? 0;
  let formatBody: Uint8Array | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = latin1(bytes, offset, 4);
    const size = uint32LittleEndian(bytes, offset + 4) ?? 0;
    const bodyStart = offset + 8;
    if (id === 'fmt ') {
      formatBody = bytes.subarray(bodyStart, Math.min(bodyStart + size, bytes.length));
    } else if (id === 'data') {
      if (!formatBody) throw new AudioJoinError(`${label} has its audio data before its format (fmt) chunk`);
      const present = bytes.length - bodyStart;
      // Sizes beyond the file (the 0xFFFFFFFF placeholder of a streamed WAV, a cut-off file) are capped at
      // what it holds. A data size of 0 is a placeholder too, unless the RIFF size reaches past the data
      // header: then the writer knew the final layout and what follows is other chunks (LIST, say).
      const sizeIsPlaceholder = size === 0 && (UNKNOWN_SIZES.has(riffSize) || riffSize + 8 <= bodyStart);
      const available = sizeIsPlaceholder ? present : Math.min(size, present);
      return wavPart(formatBody, bytes.subarray(bodyStart, bodyStart + available), label);
    }
    // Chunks are padded to an even length.
    offset = bodyStart + size + (size % 2);
  }
  throw new AudioJoinError(
    formatBody ? `${label} holds no audio data (no data chunk)` : `${label} has no format (fmt) chunk`,
  );
}

function wavPart(formatBody: Uint8Array, data: Uint8Array, label: string): WavPart {
  const format = wavFormat(formatBody, label);
  // A stream cut off mid-frame would shift every later sample by a byte or a channel: noise, not a click.
  const samples = data.subarray(0, data.length - (data.length % format.blockAlign));
  return { ...format, samples };
}

/** What a WAV's `fmt ` chunk says; throws AudioJoinError for formats that cannot be joined. */
export function wavFormat(formatBody: Uint8Array, label: string): Omit<WavPart, 'samples'> {
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

export function describeWav(part: Omit<WavPart, 'samples'>): string {
  const channels = part.channels === 1 ? '1 channel' : `${part.channels} channels`;
  return `${part.sampleRate} Hz, ${channels}, ${part.bitsPerSample}-bit ${FORMAT_NAMES.get(part.formatTag)}`;
}

/**
 * One RIFF/WAVE file holding the samples of every part in order: a `RIFF` header, the first part's `fmt `
 * chunk as written and one `data` chunk (a canonical 44-byte header for plain PCM). Other chunks (LIST,
 * fact, …) are dropped. Streamed parts whose data size is a placeholder contribute everything up to their
 * end. Throws AudioJoinError when a part is not PCM-like WAV or its format differs from the first part's.
 */
export function joinWav(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) throw new AudioJoinError('No WAV parts to join');
  const wavs = parts.map((bytes, index) => readWav(bytes, `WAV part ${index + 1}`));
  const [first] = wavs;
  if (!first) throw new AudioJoinError('No WAV parts to join');
  wavs.forEach((part, index) => {
    const same =
      part.formatTag === first.formatTag &&
      part.channels === first.channels &&
      part.sampleRate === first.sampleRate &&
      part.bitsPerSample === first.bitsPerSample &&
      part.blockAlign === first.blockAlign;
    if (!same) {
      throw new AudioJoinError(
        `Cannot join WAV parts of different formats: part 1 is ${describeWav(first)}, part ${index + 1} is ${describeWav(part)}`,
      );
    }
  });

  const dataBytes = wavs.reduce((sum, part) => sum + part.samples.length, 0);
  const header = wavHeader(first.formatBody, dataBytes);
  // An odd-sized data chunk ends in a zero pad byte.
  return concatBytes([header, ...wavs.map((part) => part.samples), new Uint8Array(dataBytes % 2)]);
}

/**
 * The start of a RIFF/WAVE file up to its samples: `RIFF`, the `fmt ` chunk given, any `chunks` (whole,
 * even-sized chunks such as the AI-generated LIST/INFO marking) and a `data` chunk header for `dataBytes` of
 * samples; without them (a stream of unknown length) both sizes are the 0xFFFFFFFF placeholder that
 * streamed WAV carries.
 */
export function wavHeader(formatBody: Uint8Array, dataBytes?: number, chunks?: Uint8Array): Uint8Array {
  const formatBytes = formatBody.length;
  const extraBytes = chunks?.length ?? 0;
  const headerBytes = 12 + 8 + formatBytes + (formatBytes % 2) + extraBytes + 8;
  const total = dataBytes === undefined ? undefined : headerBytes + dataBytes + (dataBytes % 2);
  if (total !== undefined && total - 8 > MAXIMUM_RIFF_SIZE) {
    throw new AudioJoinError('Joined WAV would exceed the 4 GiB RIFF limit');
  }
  const output = new Uint8Array(headerBytes);
  const view = new DataView(output.buffer);
  const writeId = (offset: number, id: string) => {
    for (let index = 0; index < 4; index++) output[offset + index] = id.charCodeAt(index);
  };
  writeId(0, 'RIFF');
  view.setUint32(4, total === undefined ? 0xffffffff : total - 8, true);
  writeId(8, 'WAVE');
  writeId(12, 'fmt ');
  view.setUint32(16, formatBytes, true);
  output.set(formatBody, 20);
  let offset = 20 + formatBytes + (formatBytes % 2);
  if (chunks) {
    output.set(chunks, offset);
    offset += extraBytes;
  }
  writeId(offset, 'data');
  view.setUint32(offset + 4, dataBytes ?? 0xffffffff, true);
  return output;
}

/** Seconds of audio in a PCM-like WAV file (whole sample frames only; streamed files count to their end). */
export function wavDurationSec(bytes: Uint8Array): number {
  const part = readWav(bytes, 'WAV file');
  return part.samples.length / part.blockAlign / part.sampleRate;
}

const ID3V2_HEADER_BYTES = 10;
const ID3V1_BYTES = 128;
const APE_FOOTER_BYTES = 32;
const APE_HAS_HEADER = 0x8000_0000;
// Frames that must chain before a position after junk counts as audio again (one sync word proves little).
const CHAINED_FRAMES = 3;

/** [start, end) of `bytes` without ID3v2 tags in front and APE or ID3v1 tags behind. */
function withoutTags(bytes: Uint8Array): { start: number; end: number } {
  let start = 0;
  // Some taggers stack several ID3v2 tags.
  while (latin1(bytes, start, 3) === 'ID3' && start + ID3V2_HEADER_BYTES <= bytes.length) {
    const hasFooter = ((bytes[start + 5] ?? 0) & 0x10) !== 0;
    let size = 0;
    // Syncsafe: seven bits per byte, so the size can never look like a frame sync.
    for (let index = 6; index < 10; index++) size = size * 128 + ((bytes[start + index] ?? 0) & 0x7f);
    start += ID3V2_HEADER_BYTES + size + (hasFooter ? ID3V2_HEADER_BYTES : 0);
  }
  let end = bytes.length;
  for (let stripped = true; stripped; ) {
    stripped = false;
    if (end - start >= ID3V1_BYTES && latin1(bytes, end - ID3V1_BYTES, 3) === 'TAG') {
      end -= ID3V1_BYTES;
      stripped = true;
    }
    const footer = end - APE_FOOTER_BYTES;
    if (footer >= start && latin1(bytes, footer, 8) === 'APETAGEX') {
      // The size counts the items and the footer; the optional header comes on top.
      const size = uint32LittleEndian(bytes, footer + 12) ?? 0;
      const flags = uint32LittleEndian(bytes, footer + 20) ?? 0;
      const tagBytes = size + ((flags & APE_HAS_HEADER) !== 0 ? APE_FOOTER_BYTES : 0);
      if (tagBytes >= APE_FOOTER_BYTES && tagBytes <= end - start) {
        end -= tagBytes;
        stripped = true;
      }
    }
  }
  return { start, end: Math.max(start, end) };
}

/** Xing/Info (LAME) or VBRI frame: the encoder's frame count and seek table, silent as audio. */
export function isInformationFrame(bytes: Uint8Array, offset: number, header: MpegFrameHeader): boolean {
  const sideInformation =
    header.version === 1 ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  const checksum = ((bytes[offset + 1] ?? 0) & 1) === 0 ? 2 : 0;
  const tag = latin1(bytes, offset + 4 + checksum + sideInformation, 4);
  return tag === 'Xing' || tag === 'Info' || latin1(bytes, offset + 36, 4) === 'VBRI';
}

interface Mp3Part {
  readonly first: MpegFrameHeader;
  /** The complete audio frames, in order (runs of adjacent frames as one view). */
  readonly runs: readonly Uint8Array[];
}

function readMp3(bytes: Uint8Array, label: string): Mp3Part {
  const { start, end } = withoutTags(bytes);
  const audio = bytes.subarray(start, end);
  // Providers answer with frames right after any ID3v2 tag. Searching further would be guessing: a few
  // chained frame headers turn up by chance in quiet PCM, so a WAV (or a JSON error) could pass for MP3.
  let offset: number | undefined = parseMpegFrameHeader(audio, 0) ? 0 : undefined;
  let first: MpegFrameHeader | undefined;
  const runs: Uint8Array[] = [];
  let runStart = offset ?? 0;
  while (offset !== undefined && offset + 4 <= audio.length) {
    const header = parseMpegFrameHeader(audio, offset);
    if (header && (!first || header.streamKey === first.streamKey)) {
      // A frame cut off by the end of the part would swallow the first frame of the next part.
      if (offset + header.frameLength > audio.length) break;
      if (!first && isInformationFrame(audio, offset, header)) {
        // A stale frame count would tell players the joined file is as long as this part.
        runStart = offset + header.frameLength;
      }
      first ??= header;
      offset += header.frameLength;
      continue;
    }
    // Not a frame of this stream (junk, an unknown tag): keep what came before and look for the next frame.
    if (offset > runStart) runs.push(audio.subarray(runStart, offset));
    offset = findMpegStream(audio, offset + 1, audio.length, CHAINED_FRAMES, first?.streamKey);
    runStart = offset ?? audio.length;
  }
  if (offset !== undefined && offset > runStart) runs.push(audio.subarray(runStart, offset));
  if (!first || runs.length === 0) {
    throw new AudioJoinError(
      `${label} holds no MPEG audio frames (it must start with one, after any ID3v2 tag)`,
    );
  }
  return { first, runs };
}

export function describeMp3(header: MpegFrameHeader): string {
  const channels = header.channels === 1 ? 'mono' : 'stereo';
  return `MPEG ${header.version} Layer ${header.layer}, ${header.sampleRate} Hz, ${channels}`;
}

/**
 * One MP3 stream holding the audio frames of every part in order. Tags (ID3v2 in front, APE and ID3v1
 * behind) and every part's Xing/Info/VBRI frame are dropped: their frame counts describe one part, not the
 * join, so players now count frames. The encoder delay those frames recorded is lost with them, which adds
 * at most a frame or two of silence at each seam. Throws AudioJoinError when a part holds no MPEG audio or
 * its version, layer, sample rate or channel count differs from the first part's.
 */
export function joinMp3(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) throw new AudioJoinError('No MP3 parts to join');
  const mp3s = parts.map((bytes, index) => readMp3(bytes, `MP3 part ${index + 1}`));
  const [reference] = mp3s;
  if (!reference) throw new AudioJoinError('No MP3 parts to join');
  mp3s.forEach((part, index) => {
    if (
      part.first.streamKey !== reference.first.streamKey ||
      part.first.channels !== reference.first.channels
    ) {
      throw new AudioJoinError(
        `Cannot join MP3 parts of different formats: part 1 is ${describeMp3(reference.first)}, part ${index + 1} is ${describeMp3(part.first)}`,
      );
    }
  });
  return concatBytes(mp3s.flatMap((part) => part.runs));
}
