/**
 * A minimal ISO-BMFF (MP4/M4A) box walk that measures how much of the audio track the file really holds.
 * music-metadata reports the length the movie header declares and refuses a file whose media data box is
 * cut short; an upload cut off mid-transfer still plays up to the last complete sample, and that is the
 * length a provider hears. It also reads the channel count from the AAC decoder configuration, because
 * the sample entry's channel field is a fixed "2" in ISO files.
 */

import { dataView, latin1, uint16BigEndian, uint32BigEndian, uint64BigEndian } from './bytes';

interface Box {
  readonly type: string;
  readonly start: number;
  readonly contentStart: number;
  /** Where the box ends, clamped to its parent (and so to the bytes present). */
  readonly end: number;
  /** Where the box ends by its size field. */
  readonly declaredEnd: number;
}

function* boxes(bytes: Uint8Array, start: number, end: number): Generator<Box> {
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

function child(bytes: Uint8Array, parent: Box, type: string): Box | undefined {
  for (const box of boxes(bytes, parent.contentStart, parent.end)) if (box.type === type) return box;
  return undefined;
}

function path(bytes: Uint8Array, parent: Box, types: readonly string[]): Box | undefined {
  let box: Box | undefined = parent;
  for (const type of types) box = box && child(bytes, box, type);
  return box;
}

/** Full boxes carry a version byte and 24 bits of flags before their fields. */
function versionAndFlags(bytes: Uint8Array, box: Box): { version: number; flags: number } {
  const word = uint32BigEndian(bytes, box.contentStart) ?? 0;
  return { version: word >>> 24, flags: word & 0xffffff };
}

/** How many fixed-size entries a table box really holds, whatever its count field claims. */
function entryCount(bytes: Uint8Array, box: Box, countOffset: number, entrySize: number): number {
  const claimed = uint32BigEndian(bytes, box.contentStart + countOffset) ?? 0;
  const room = Math.floor((box.end - (box.contentStart + countOffset + 4)) / entrySize);
  return Math.max(0, Math.min(claimed, room));
}

/** Reads an MPEG-4 descriptor header (tag, then a size in up to four 7-bit groups). */
function descriptor(
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

/** Channel count from the AudioSpecificConfig inside an esds box, when it states one. */
function aacChannels(bytes: Uint8Array, esds: Box): number | undefined {
  const elementary = descriptor(bytes, esds.contentStart + 4);
  if (elementary?.tag !== 0x03) return undefined;
  const flags = bytes[elementary.start + 2] ?? 0;
  let offset = elementary.start + 3;
  if (flags & 0x80) offset += 2;
  if (flags & 0x40) offset += 1 + (bytes[offset] ?? 0);
  if (flags & 0x20) offset += 2;
  const decoderConfig = descriptor(bytes, offset);
  // 0x40: MPEG-4 audio (AAC); other object types do not use an AudioSpecificConfig.
  if (decoderConfig?.tag !== 0x04 || bytes[decoderConfig.start] !== 0x40) return undefined;
  const specific = descriptor(bytes, decoderConfig.start + 13);
  if (specific?.tag !== 0x05 || specific.end > bytes.length) return undefined;
  // Bit layout: object type (5 bits, or 5+6 when 31), frequency index (4, or 4+24 when 15), channels (4).
  let bit = 0;
  const bits = (count: number): number => {
    let value = 0;
    for (let index = 0; index < count; index++, bit++) {
      const byte = bytes[specific.start + (bit >> 3)] ?? 0;
      value = (value << 1) | ((byte >> (7 - (bit & 7))) & 1);
    }
    return value;
  };
  if (bits(5) === 31) bits(6);
  if (bits(4) === 15) bits(24);
  const configuration = bits(4);
  if (configuration >= 1 && configuration <= 6) return configuration;
  if (configuration === 7) return 8;
  return undefined;
}

/** The esds box of an audio sample entry (directly inside it, or in QuickTime's `wave` wrapper). */
function findEsds(bytes: Uint8Array, entry: Box): Box | undefined {
  const version = uint16BigEndian(bytes, entry.contentStart + 8) ?? 0;
  // SoundDescription v0 is 28 bytes; QuickTime v1 adds 16 and v2 adds 36.
  const childrenStart = entry.contentStart + (version === 1 ? 44 : version === 2 ? 64 : 28);
  for (const box of boxes(bytes, childrenStart, entry.end)) {
    if (box.type === 'esds') return box;
    if (box.type === 'wave') return child(bytes, box, 'esds');
  }
  return undefined;
}

interface AudioTrack {
  readonly id: number;
  readonly timescale: number;
  readonly channels: number | undefined;
  readonly sampleTable: Box | undefined;
  readonly edit: Edit | undefined;
}

/**
 * The part of the media an edit list plays: AAC tracks start with encoder priming samples that the edit
 * list skips, and the movie's length (what ffprobe reports) ends where the edit ends.
 */
interface Edit {
  /** Media ticks skipped at the start. */
  readonly mediaStart: number;
  /** Length in movie-timescale ticks; 0 means "to the end of the media" (fragmented files). */
  readonly movieTicks: number;
}

function readEdit(bytes: Uint8Array, trak: Box): Edit | undefined {
  const list = path(bytes, trak, ['edts', 'elst']);
  if (!list) return undefined;
  const { version } = versionAndFlags(bytes, list);
  const entrySize = version === 1 ? 20 : 12;
  const entries = entryCount(bytes, list, 4, entrySize);
  const read = version === 1 ? uint64BigEndian : uint32BigEndian;
  let edit: Edit | undefined;
  for (let index = 0; index < entries; index++) {
    const entry = list.contentStart + 8 + index * entrySize;
    const movieTicks = read(bytes, entry) ?? 0;
    const mediaStart =
      version === 1 ? dataView(bytes).getBigInt64(entry + 8) : dataView(bytes).getInt32(entry + 4);
    // -1 marks an empty edit (a pause before the media starts), which adds nothing we can hear.
    if (Number(mediaStart) === -1) continue;
    // Several media edits (rare in uploads) are not modelled: the whole media then counts.
    if (edit) return undefined;
    edit = { mediaStart: Number(mediaStart), movieTicks };
  }
  return edit;
}

function readAudioTrack(bytes: Uint8Array, trak: Box): AudioTrack | undefined {
  const handler = path(bytes, trak, ['mdia', 'hdlr']);
  if (!handler || latin1(bytes, handler.contentStart + 8, 4) !== 'soun') return undefined;
  const trackHeader = child(bytes, trak, 'tkhd');
  const mediaHeader = path(bytes, trak, ['mdia', 'mdhd']);
  if (!trackHeader || !mediaHeader) return undefined;
  const id = uint32BigEndian(
    bytes,
    trackHeader.contentStart + (versionAndFlags(bytes, trackHeader).version === 1 ? 20 : 12),
  );
  const timescale = uint32BigEndian(
    bytes,
    mediaHeader.contentStart + (versionAndFlags(bytes, mediaHeader).version === 1 ? 20 : 12),
  );
  if (id === undefined || !timescale) return undefined;
  const sampleTable = path(bytes, trak, ['mdia', 'minf', 'stbl']);
  const descriptions = sampleTable && child(bytes, sampleTable, 'stsd');
  const entry = descriptions && boxes(bytes, descriptions.contentStart + 8, descriptions.end).next().value;
  const esds = entry ? findEsds(bytes, entry) : undefined;
  return {
    id,
    timescale,
    channels: esds && aacChannels(bytes, esds),
    sampleTable,
    edit: readEdit(bytes, trak),
  };
}

/** Ticks of the first `samples` samples, from the time-to-sample (stts) runs. */
function ticksOfFirstSamples(bytes: Uint8Array, timeToSample: Box, samples: number): number {
  let ticks = 0;
  let left = samples;
  const entries = entryCount(bytes, timeToSample, 4, 8);
  for (let index = 0; index < entries && left > 0; index++) {
    const entryStart = timeToSample.contentStart + 8 + index * 8;
    const count = Math.min(uint32BigEndian(bytes, entryStart) ?? 0, left);
    ticks += count * (uint32BigEndian(bytes, entryStart + 4) ?? 0);
    left -= count;
  }
  return ticks;
}

/** Ticks of the samples of a classic (non-fragmented) sample table whose bytes are all in the file. */
function presentTableTicks(bytes: Uint8Array, table: Box): number {
  const timeToSample = child(bytes, table, 'stts');
  const sizes = child(bytes, table, 'stsz');
  const sampleToChunk = child(bytes, table, 'stsc');
  const offsets32 = child(bytes, table, 'stco');
  const offsets64 = offsets32 ? undefined : child(bytes, table, 'co64');
  const chunkOffsets = offsets32 ?? offsets64;
  if (!timeToSample || !sizes || !sampleToChunk || !chunkOffsets) return 0;

  const uniformSize = uint32BigEndian(bytes, sizes.contentStart + 4) ?? 0;
  const totalSamples =
    uniformSize > 0 ? (uint32BigEndian(bytes, sizes.contentStart + 8) ?? 0) : entryCount(bytes, sizes, 8, 4);
  const runs = entryCount(bytes, sampleToChunk, 4, 12);
  const chunks = entryCount(bytes, chunkOffsets, 4, offsets64 ? 8 : 4);

  let sample = 0;
  let present = 0;
  let run = 0;
  let samplesPerChunk = 0;
  let complete = true;
  for (let chunk = 0; chunk < chunks && sample < totalSamples && complete; chunk++) {
    // Sample-to-chunk runs are keyed by 1-based first chunk numbers.
    while (run < runs) {
      const runStart = sampleToChunk.contentStart + 8 + run * 12;
      if ((uint32BigEndian(bytes, runStart) ?? 0) > chunk + 1) break;
      samplesPerChunk = uint32BigEndian(bytes, runStart + 4) ?? 0;
      run++;
    }
    let offset = offsets64
      ? (uint64BigEndian(bytes, chunkOffsets.contentStart + 8 + chunk * 8) ?? 0)
      : (uint32BigEndian(bytes, chunkOffsets.contentStart + 8 + chunk * 4) ?? 0);
    const inChunk = Math.min(samplesPerChunk, totalSamples - sample);
    if (uniformSize > 0) {
      const fitting = Math.max(0, Math.min(inChunk, Math.floor((bytes.length - offset) / uniformSize)));
      present += fitting;
      sample += inChunk;
      complete = fitting === inChunk;
      continue;
    }
    for (let index = 0; index < inChunk && complete; index++, sample++) {
      const size = uint32BigEndian(bytes, sizes.contentStart + 12 + sample * 4) ?? 0;
      complete = offset + size <= bytes.length;
      if (complete) {
        offset += size;
        present++;
      }
    }
  }
  return ticksOfFirstSamples(bytes, timeToSample, present);
}

/** Ticks of the audio samples in movie fragments (moof + mdat, as MediaRecorder writes) that are present. */
function presentFragmentTicks(
  bytes: Uint8Array,
  topLevel: readonly Box[],
  track: AudioTrack,
  movie: Box,
): number {
  let defaultDuration = 0;
  let defaultSize = 0;
  for (const movieExtends of boxes(bytes, movie.contentStart, movie.end)) {
    if (movieExtends.type !== 'mvex') continue;
    for (const defaults of boxes(bytes, movieExtends.contentStart, movieExtends.end)) {
      if (defaults.type === 'trex' && uint32BigEndian(bytes, defaults.contentStart + 4) === track.id) {
        defaultDuration = uint32BigEndian(bytes, defaults.contentStart + 12) ?? 0;
        defaultSize = uint32BigEndian(bytes, defaults.contentStart + 16) ?? 0;
      }
    }
  }
  const view = dataView(bytes);
  let ticks = 0;
  for (const fragment of topLevel) {
    if (fragment.type !== 'moof') continue;
    for (const trackFragment of boxes(bytes, fragment.contentStart, fragment.end)) {
      if (trackFragment.type !== 'traf') continue;
      const header = child(bytes, trackFragment, 'tfhd');
      if (!header || uint32BigEndian(bytes, header.contentStart + 4) !== track.id) continue;
      const { flags } = versionAndFlags(bytes, header);
      let field = header.contentStart + 8;
      let base = fragment.start;
      if (flags & 0x01) {
        base = uint64BigEndian(bytes, field) ?? base;
        field += 8;
      }
      if (flags & 0x02) field += 4;
      let sampleDuration = defaultDuration;
      let sampleSize = defaultSize;
      if (flags & 0x08) {
        sampleDuration = uint32BigEndian(bytes, field) ?? 0;
        field += 4;
      }
      if (flags & 0x10) sampleSize = uint32BigEndian(bytes, field) ?? 0;

      let dataPosition = base;
      for (const run of boxes(bytes, trackFragment.contentStart, trackFragment.end)) {
        if (run.type !== 'trun') continue;
        const runFlags = versionAndFlags(bytes, run).flags;
        const claimed = uint32BigEndian(bytes, run.contentStart + 4) ?? 0;
        let entry = run.contentStart + 8;
        if (runFlags & 0x01) {
          if (entry + 4 > bytes.length) return ticks;
          dataPosition = base + view.getInt32(entry);
          entry += 4;
        }
        if (runFlags & 0x04) entry += 4;
        const hasDuration = (runFlags & 0x100) !== 0;
        const hasSize = (runFlags & 0x200) !== 0;
        const entrySize = 4 * [0x100, 0x200, 0x400, 0x800].filter((bit) => runFlags & bit).length;
        if (entrySize === 0) {
          // Every sample uses the defaults: count the ones whose bytes are present without looping.
          const fitting =
            sampleSize > 0
              ? Math.max(0, Math.min(claimed, Math.floor((bytes.length - dataPosition) / sampleSize)))
              : claimed;
          ticks += fitting * sampleDuration;
          if (fitting < claimed) return ticks;
          dataPosition += claimed * sampleSize;
          continue;
        }
        const samples = Math.min(claimed, Math.floor((run.end - entry) / entrySize));
        for (let index = 0; index < samples; index++, entry += entrySize) {
          const duration = hasDuration ? (uint32BigEndian(bytes, entry) ?? 0) : sampleDuration;
          const size = hasSize ? (uint32BigEndian(bytes, entry + (hasDuration ? 4 : 0)) ?? 0) : sampleSize;
          if (dataPosition + size > bytes.length) return ticks;
          dataPosition += size;
          ticks += duration;
        }
        if (samples < claimed) return ticks;
      }
    }
  }
  return ticks;
}

export interface Mp4Layout {
  /** The movie box (the index without which nothing plays) is present and complete. */
  readonly hasMovieBox: boolean;
  /** A top-level box (typically mdat) whose size field runs past the end of the file. */
  readonly overflowingBox: { readonly start: number; readonly headerSize: number } | undefined;
  readonly audio:
    | {
        readonly trackId: number;
        /** From the AAC decoder configuration; undefined for other codecs. */
        readonly channels: number | undefined;
        /** Length of the samples whose bytes are all in the file. */
        readonly presentDurationSec: number;
      }
    | undefined;
}

/** Walks an MP4 file held in memory. Never throws; a damaged index yields no audio track. */
export function walkMp4(bytes: Uint8Array): Mp4Layout {
  const topLevel = [...boxes(bytes, 0, bytes.length)];
  const last = topLevel.at(-1);
  const overflowingBox =
    last && last.declaredEnd > bytes.length
      ? { start: last.start, headerSize: last.contentStart - last.start }
      : undefined;
  const movie = topLevel.find((box) => box.type === 'moov');
  if (!movie || movie.declaredEnd > bytes.length)
    return { hasMovieBox: false, overflowingBox, audio: undefined };

  let track: AudioTrack | undefined;
  for (const trak of boxes(bytes, movie.contentStart, movie.end)) {
    if (trak.type === 'trak') track ??= readAudioTrack(bytes, trak);
  }
  if (!track) return { hasMovieBox: true, overflowingBox, audio: undefined };
  const ticks =
    (track.sampleTable ? presentTableTicks(bytes, track.sampleTable) : 0) +
    presentFragmentTicks(bytes, topLevel, track, movie);
  let presentDurationSec = Math.max(0, ticks - (track.edit?.mediaStart ?? 0)) / track.timescale;
  const movieHeader = child(bytes, movie, 'mvhd');
  const movieTimescale =
    movieHeader &&
    uint32BigEndian(
      bytes,
      movieHeader.contentStart + (versionAndFlags(bytes, movieHeader).version === 1 ? 20 : 12),
    );
  if (track.edit?.movieTicks && movieTimescale) {
    presentDurationSec = Math.min(presentDurationSec, track.edit.movieTicks / movieTimescale);
  }
  return {
    hasMovieBox: true,
    overflowingBox,
    audio: { trackId: track.id, channels: track.channels, presentDurationSec },
  };
}

/**
 * A copy of the file whose cut-off last top-level box claims only the bytes present, so that
 * music-metadata reads the (complete) index instead of rejecting the file.
 */
export function withTopLevelSizeRepaired(bytes: Uint8Array, layout: Mp4Layout): Uint8Array {
  const box = layout.overflowingBox;
  if (!box) return bytes;
  const repaired = bytes.slice();
  const view = dataView(repaired);
  const size = bytes.length - box.start;
  if (box.headerSize === 16) view.setBigUint64(box.start + 8, BigInt(size));
  else view.setUint32(box.start, size);
  return repaired;
}
