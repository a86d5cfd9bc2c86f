/**
 * The ISO-BMFF (MP4/M4A) box primitives mp4.ts walks with: boxes and their children, full-box headers,
 * table entry counts and MPEG-4 descriptors, every size clamped to the bytes present.
 */

import { latin1, uint32BigEndian, uint64BigEndian } from './bytes';

export interface Box {
  readonly type: string;
  readonly start: number;
  readonly contentStart: number;
  /** Where the box ends, clamped to its parent (and so to the bytes present). */
  readonly end: number;
  /** Where the box ends by its size field. */
  readonly declaredEnd: number;
}

export function* boxes(bytes: Uint8Array, start: number, end: number): Generator<Box> {
  let offset = start;
  while (offset + 8 <= end) {
    const size32 = uint32BigEndian(bytes, offset) ?? 0;
    const type = latin1(bytes, offset + 4, 4);
    let headerSize = 8;
    let size = size32;
    if (size32 === 1) {
      const large = uint64BigEndian(bytes, offset + 8);
      if (large === undefined) return;
      size = large;
      headerSize = 16;
    } else if (size32 === 0) {
      // Size 0: the box runs to the end of its parent (a streamed mdat).
      size = end - offset;
    }
    if (size < headerSize) return;
    const declaredEnd = offset + size;
    yield {
      type,
      start: offset,
      contentStart: offset + headerSize,
      end: Math.min(declaredEnd, end),
      declaredEnd,
    };
    offset = declaredEnd;
  }
}

export function child(bytes: Uint8Array, parent: Box, type: string): Box | undefined {
  for (const box of boxes(bytes, parent.contentStart, parent.end)) if (box.type === type) return box;
  return undefined;
}

export function path(bytes: Uint8Array, parent: Box, types: readonly string[]): Box | undefined {
  let box: Box | undefined = parent;
  for (const type of types) box = box && child(bytes, box, type);
  return box;
}

/** Full boxes carry a version byte and 24 bits of flags before their fields. */
export function versionAndFlags(bytes: Uint8Array, box: Box): { version: number; flags: number } {
  const word = uint32BigEndian(bytes, box.contentStart) ?? 0;
  return { version: word >>> 24, flags: word & 0xffffff };
}

/** How many fixed-size entries a table box really holds, whatever its count field claims. */
export function entryCount(bytes: Uint8Array, box: Box, countOffset: number, entrySize: number): number {
  const claimed = uint32BigEndian(bytes, box.contentStart + countOffset) ?? 0;
  const room = Math.floor((box.end - (box.contentStart + countOffset + 4)) / entrySize);
  return Math.max(0, Math.min(claimed, room));
}

/** Reads an MPEG-4 descriptor header (tag, then a size in up to four 7-bit groups). */
export function descriptor(
  bytes: Uint8Array,
  offset: number,
): { tag: number; start: number; end: number } | undefined {
  const tag = bytes[offset];
  if (tag === undefined) return undefined;
  let size = 0;
  let position = offset + 1;
  for (let index = 0; index < 4; index++) {
    const byte = bytes[position++];
    if (byte === undefined) return undefined;
    size = (size << 7) | (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  return { tag, start: position, end: position + size };
}
