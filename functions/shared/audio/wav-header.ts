/**
 * The one writer of a RIFF/WAVE header: the streamed speech header (speech-stream.ts), a joined speech
 * response (api/speech/join-audio.ts) and a trimmed sample (trim.ts) all start with these bytes.
 */

import { writeLatin1 } from './bytes';

/** The RIFF/WAVE size fields of a stream whose length is not known yet, as streamed WAV carries them. */
export const STREAMING_WAV_SIZE = 0xffff_ffff;

/** The largest RIFF size field: the whole file less its first 8 bytes must fit in 32 bits. */
export const MAXIMUM_RIFF_SIZE = 0xffff_ffff;

/** The RIFF size field of a file with this fmt chunk body, these extra chunks and `dataBytes` of samples. */
export function wavRiffSize(formatBytes: number, dataBytes: number, chunkBytes = 0): number {
  return wavHeaderLength(formatBytes, chunkBytes) + dataBytes + (dataBytes % 2) - 8;
}

/** The bytes before the samples: `RIFF`, `WAVE`, the fmt chunk (padded to even), the extra chunks, `data`. */
function wavHeaderLength(formatBytes: number, chunkBytes: number): number {
  return 12 + 8 + formatBytes + (formatBytes % 2) + chunkBytes + 8;
}

/** A 16-byte fmt chunk body for integer PCM. */
export function pcmFormatBody(sampleRate: number, channels: number, bitsPerSample: number): Uint8Array {
  const body = new Uint8Array(16);
  const view = new DataView(body.buffer);
  const blockAlign = channels * Math.ceil(bitsPerSample / 8);
  view.setUint16(0, 1, true); // PCM
  view.setUint16(2, channels, true);
  view.setUint32(4, sampleRate, true);
  view.setUint32(8, sampleRate * blockAlign, true);
  view.setUint16(12, blockAlign, true);
  view.setUint16(14, bitsPerSample, true);
  return body;
}

/**
 * The start of a RIFF/WAVE file up to its samples: `RIFF`, the `fmt ` chunk given, any `chunks` (whole,
 * even-sized chunks such as a fact chunk or the AI-generated LIST/INFO marking) and a `data` chunk header
 * for `dataBytes` of samples; the samples and their pad byte (odd `dataBytes`) follow, and are counted in
 * the RIFF size. Without `dataBytes` (a stream of unknown length) both sizes are the 0xFFFFFFFF
 * placeholder that streamed WAV carries. Throws a RangeError if the file would not fit the 32-bit RIFF size.
 */
export function wavHeader(formatBody: Uint8Array, dataBytes?: number, chunks?: Uint8Array): Uint8Array {
  const formatBytes = formatBody.length;
  const chunkBytes = chunks?.length ?? 0;
  const riffSize =
    dataBytes === undefined ? STREAMING_WAV_SIZE : wavRiffSize(formatBytes, dataBytes, chunkBytes);
  if (riffSize > MAXIMUM_RIFF_SIZE) throw new RangeError('WAV would exceed the 4 GiB RIFF limit');
  const header = new Uint8Array(wavHeaderLength(formatBytes, chunkBytes));
  const view = new DataView(header.buffer);
  const writeId = (offset: number, id: string) => writeLatin1(header, offset, id);
  writeId(0, 'RIFF');
  view.setUint32(4, riffSize, true);
  writeId(8, 'WAVE');
  writeId(12, 'fmt ');
  view.setUint32(16, formatBytes, true);
  header.set(formatBody, 20);
  let offset = 20 + formatBytes + (formatBytes % 2);
  if (chunks) {
    header.set(chunks, offset);
    offset += chunkBytes;
  }
  writeId(offset, 'data');
  view.setUint32(offset + 4, dataBytes ?? STREAMING_WAV_SIZE, true);
  return header;
}
