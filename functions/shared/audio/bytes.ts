/** Little helpers for reading binary headers; every reader returns undefined instead of throwing past the end. */

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes as Latin-1 text (four-character codes, magic numbers); stops at the end of the buffer. */
export function latin1(bytes: Uint8Array, start: number, length: number): string {
  let text = '';
  const end = Math.min(bytes.length, start + length);
  for (let index = Math.max(0, start); index < end; index++) text += String.fromCharCode(bytes[index] ?? 0);
  return text;
}

/** Writes `text` (four-character codes, tags: Latin-1 only) into `bytes` at `offset`. */
export function writeLatin1(bytes: Uint8Array, offset: number, text: string): void {
  for (let index = 0; index < text.length; index++) bytes[offset + index] = text.charCodeAt(index) & 0xff;
}

export function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (offset < 0 || offset + signature.length > bytes.length) return false;
  return signature.every((value, index) => bytes[offset + index] === value);
}

export function uint16BigEndian(bytes: Uint8Array, offset: number): number | undefined {
  return offset >= 0 && offset + 2 <= bytes.length ? dataView(bytes).getUint16(offset) : undefined;
}

export function uint32BigEndian(bytes: Uint8Array, offset: number): number | undefined {
  return offset >= 0 && offset + 4 <= bytes.length ? dataView(bytes).getUint32(offset) : undefined;
}

export function uint64BigEndian(bytes: Uint8Array, offset: number): number | undefined {
  if (offset < 0 || offset + 8 > bytes.length) return undefined;
  // Sizes beyond 2^53 cannot describe a file we hold in memory; Number loses nothing that matters.
  return Number(dataView(bytes).getBigUint64(offset));
}

export function uint16LittleEndian(bytes: Uint8Array, offset: number): number | undefined {
  return offset >= 0 && offset + 2 <= bytes.length ? dataView(bytes).getUint16(offset, true) : undefined;
}

export function uint32LittleEndian(bytes: Uint8Array, offset: number): number | undefined {
  return offset >= 0 && offset + 4 <= bytes.length ? dataView(bytes).getUint32(offset, true) : undefined;
}

/** The parts one after another, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
