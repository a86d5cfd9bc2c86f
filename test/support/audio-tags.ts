/**
 * Reads the metadata tags of a WAV (RIFF LIST/INFO) or an MP3 (ID3v2.3/2.4 text frames) file: an
 * independent reader for the tests of the AI-generated marking (no ffprobe needed).
 */

export interface WavTags {
  /** INFO entries by id (ICMT, ISFT, …). */
  readonly info: Record<string, string>;
  /** Chunk ids in file order. */
  readonly chunks: readonly string[];
}

export function wavTags(bytes: Uint8Array): WavTags {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const id = (offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (id(0) !== 'RIFF' || id(8) !== 'WAVE') throw new Error('not a WAV file');
  const info: Record<string, string> = {};
  const chunks: string[] = [];
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const chunk = id(offset);
    const size = view.getUint32(offset + 4, true);
    chunks.push(chunk);
    if (chunk === 'data') break;
    if (chunk === 'LIST' && id(offset + 8) === 'INFO') {
      let entry = offset + 12;
      while (entry + 8 <= offset + 8 + size) {
        const entrySize = view.getUint32(entry + 4, true);
        info[id(entry)] = latin1(bytes.subarray(entry + 8, entry + 8 + entrySize)).replace(/\0+$/, '');
        entry += 8 + entrySize + (entrySize % 2);
      }
    }
    offset += 8 + size + (size % 2);
  }
  return { info, chunks };
}

/** ID3v2 text frames at the start of `bytes`: TXXX by description (`TXXX:NAME`), COMM, T*** by id. */
export function id3Tags(bytes: Uint8Array): Record<string, string> {
  if (latin1(bytes.subarray(0, 3)) !== 'ID3') throw new Error('no ID3v2 tag at the start');
  const version = bytes[3] ?? 0;
  let size = 0;
  for (let index = 6; index < 10; index++) size = size * 128 + ((bytes[index] ?? 0) & 0x7f);
  const tags: Record<string, string> = {};
  let offset = 10;
  while (offset + 10 <= 10 + size) {
    const frameId = latin1(bytes.subarray(offset, offset + 4));
    if (!/^[A-Z0-9]{4}$/.test(frameId)) break;
    let frameSize = 0;
    for (let index = 4; index < 8; index++) {
      const byte = bytes[offset + index] ?? 0;
      frameSize = version === 4 ? frameSize * 128 + (byte & 0x7f) : frameSize * 256 + byte;
    }
    const data = bytes.subarray(offset + 10, offset + 10 + frameSize);
    const text = latin1(data.subarray(1));
    if (frameId === 'TXXX') {
      const [description = '', value = ''] = text.split('\0');
      tags[`TXXX:${description}`] = value;
    } else if (frameId === 'COMM') {
      tags.COMM = text.slice(3).split('\0').slice(1).join('');
    } else if (frameId.startsWith('T')) tags[frameId] = text.replace(/\0+$/, '');
    offset += 10 + frameSize;
  }
  return tags;
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}
