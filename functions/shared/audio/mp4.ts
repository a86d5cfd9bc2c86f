/**
 * A minimal ISO-BMFF (MP4/M4A) box walk: the audio track's codec, sample rate and channels, the length its
 * media header declares, and how much of it the file really holds. An upload cut off mid-transfer still
 * plays up to the last complete sample, and that is the length a provider hears, whatever the header says.
 * Fragmented files (moof + mdat, as MediaRecorder and Safari write them) are measured by their fragments.
 * The box primitives are in mp4-boxes.ts, what a sample entry says of its codec in mp4-codec.ts.
 */

import { dataView, latin1, uint16BigEndian, uint32BigEndian, uint64BigEndian } from './bytes';
import { type Box, boxes, child, entryCount, path, versionAndFlags } from './mp4-boxes';
import { codecName, findEsds, readDecoderConfig } from './mp4-codec';

interface AudioTrack {
  readonly id: number;
  readonly timescale: number;
  /** The media header's duration in media ticks; undefined when it states none (0 or all ones). */
  readonly mediaTicks: number | undefined;
  readonly codec: string | null;
  readonly sampleRate: number | undefined;
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

/** A positive whole number, or undefined for zero, negative, fractional noise or non-numbers. */
function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 1 ? Math.round(value) : undefined;
}

interface SampleEntryFacts {
  readonly codec: string | null;
  readonly sampleRate: number | undefined;
  readonly channels: number | undefined;
}

/**
 * Codec, sample rate and channels from an audio sample entry (ISO AudioSampleEntry, or QuickTime's
 * SoundDescription v1/v2). The AAC decoder configuration is preferred for channels: the entry's field is a
 * fixed "2" in ISO files.
 */
function readSampleEntry(bytes: Uint8Array, entry: Box | undefined): SampleEntryFacts {
  if (!entry) return { codec: null, sampleRate: undefined, channels: undefined };
  const fields = entry.contentStart + 8;
  const version = uint16BigEndian(bytes, fields) ?? 0;
  // The esds box (and so the AAC configuration) belongs to MPEG-4 audio entries.
  const esds = entry.type === 'mp4a' ? findEsds(bytes, entry) : undefined;
  const config = esds && readDecoderConfig(bytes, esds);
  // v0/v1: 16-bit channel count and a 16.16 fixed-point rate; v2 moves both into a float64 and a uint32.
  const entryRate =
    version === 2 && fields + 32 <= entry.end
      ? dataView(bytes).getFloat64(fields + 24)
      : uint16BigEndian(bytes, fields + 16);
  const entryChannels =
    version === 2 ? uint32BigEndian(bytes, fields + 32) : uint16BigEndian(bytes, fields + 8);
  return {
    codec: codecName(entry.type, config),
    sampleRate: positive(entryRate) ?? positive(config?.sampleRate),
    channels: positive(config?.channels) ?? positive(entryChannels),
  };
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
  const longMediaHeader = versionAndFlags(bytes, mediaHeader).version === 1;
  const timescale = uint32BigEndian(bytes, mediaHeader.contentStart + (longMediaHeader ? 20 : 12));
  if (id === undefined || !timescale) return undefined;
  const mediaTicks = longMediaHeader
    ? uint64BigEndian(bytes, mediaHeader.contentStart + 24)
    : uint32BigEndian(bytes, mediaHeader.contentStart + 16);
  const sampleTable = path(bytes, trak, ['mdia', 'minf', 'stbl']);
  const descriptions = sampleTable && child(bytes, sampleTable, 'stsd');
  const entry = descriptions && boxes(bytes, descriptions.contentStart + 8, descriptions.end).next().value;
  return {
    id,
    timescale,
    // All ones is "unknown" (a live recording's header written before its end).
    mediaTicks:
      mediaTicks && mediaTicks !== 0xffff_ffff && mediaTicks < Number.MAX_SAFE_INTEGER
        ? mediaTicks
        : undefined,
    ...readSampleEntry(bytes, entry),
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

/** The sample duration and size a fragment's samples take when their run does not give them. */
interface SampleDefaults {
  readonly duration: number;
  readonly size: number;
}

/** The track's sample defaults from the movie's mvex/trex boxes (the last trex for the track wins). */
function readTrackDefaults(bytes: Uint8Array, movie: Box, trackId: number): SampleDefaults {
  let duration = 0;
  let size = 0;
  for (const movieExtends of boxes(bytes, movie.contentStart, movie.end)) {
    if (movieExtends.type !== 'mvex') continue;
    for (const defaults of boxes(bytes, movieExtends.contentStart, movieExtends.end)) {
      if (defaults.type === 'trex' && uint32BigEndian(bytes, defaults.contentStart + 4) === trackId) {
        duration = uint32BigEndian(bytes, defaults.contentStart + 12) ?? 0;
        size = uint32BigEndian(bytes, defaults.contentStart + 16) ?? 0;
      }
    }
  }
  return { duration, size };
}

/**
 * A track fragment header (tfhd): where its data offsets count from (the base data offset, else the moof's
 * start) and its sample defaults (its own, else the track's).
 */
function readFragmentHeader(
  bytes: Uint8Array,
  header: Box,
  fragmentStart: number,
  trackDefaults: SampleDefaults,
): { base: number; defaults: SampleDefaults } {
  const { flags } = versionAndFlags(bytes, header);
  let field = header.contentStart + 8;
  let base = fragmentStart;
  if (flags & 0x01) {
    base = uint64BigEndian(bytes, field) ?? base;
    field += 8;
  }
  if (flags & 0x02) field += 4;
  let duration = trackDefaults.duration;
  let size = trackDefaults.size;
  if (flags & 0x08) {
    duration = uint32BigEndian(bytes, field) ?? 0;
    field += 4;
  }
  if (flags & 0x10) size = uint32BigEndian(bytes, field) ?? 0;
  return { base, defaults: { duration, size } };
}

/** What one track run gave: the ticks of its present samples, where its data ended, and whether all were there. */
interface RunTicks {
  readonly ticks: number;
  readonly dataPosition: number;
  /** False when a sample (or the run's entries) is cut off: nothing after it is present. */
  readonly complete: boolean;
}

/** Ticks of the present samples of one track run (trun) whose data starts at `dataPosition` unless it says. */
function presentRunTicks(
  bytes: Uint8Array,
  run: Box,
  base: number,
  dataPosition: number,
  defaults: SampleDefaults,
): RunTicks {
  const runFlags = versionAndFlags(bytes, run).flags;
  const claimed = uint32BigEndian(bytes, run.contentStart + 4) ?? 0;
  let position = dataPosition;
  let entry = run.contentStart + 8;
  if (runFlags & 0x01) {
    if (entry + 4 > bytes.length) return { ticks: 0, dataPosition: position, complete: false };
    position = base + dataView(bytes).getInt32(entry);
    entry += 4;
  }
  if (runFlags & 0x04) entry += 4;
  const hasDuration = (runFlags & 0x100) !== 0;
  const hasSize = (runFlags & 0x200) !== 0;
  const entrySize = 4 * [0x100, 0x200, 0x400, 0x800].filter((bit) => runFlags & bit).length;
  if (entrySize === 0) {
    // Every sample uses the defaults: count the ones whose bytes are present without looping.
    const fitting =
      defaults.size > 0
        ? Math.max(0, Math.min(claimed, Math.floor((bytes.length - position) / defaults.size)))
        : claimed;
    const complete = !(fitting < claimed);
    return { ticks: fitting * defaults.duration, dataPosition: position + claimed * defaults.size, complete };
  }
  let ticks = 0;
  const samples = Math.min(claimed, Math.floor((run.end - entry) / entrySize));
  for (let index = 0; index < samples; index++, entry += entrySize) {
    const duration = hasDuration ? (uint32BigEndian(bytes, entry) ?? 0) : defaults.duration;
    const size = hasSize ? (uint32BigEndian(bytes, entry + (hasDuration ? 4 : 0)) ?? 0) : defaults.size;
    if (position + size > bytes.length) return { ticks, dataPosition: position, complete: false };
    position += size;
    ticks += duration;
  }
  return { ticks, dataPosition: position, complete: !(samples < claimed) };
}

/** Ticks of the audio samples in movie fragments (moof + mdat, as MediaRecorder writes) that are present. */
function presentFragmentTicks(
  bytes: Uint8Array,
  topLevel: readonly Box[],
  track: AudioTrack,
  movie: Box,
): number {
  const trackDefaults = readTrackDefaults(bytes, movie, track.id);
  let ticks = 0;
  for (const fragment of topLevel) {
    if (fragment.type !== 'moof') continue;
    for (const trackFragment of boxes(bytes, fragment.contentStart, fragment.end)) {
      if (trackFragment.type !== 'traf') continue;
      const header = child(bytes, trackFragment, 'tfhd');
      if (!header || uint32BigEndian(bytes, header.contentStart + 4) !== track.id) continue;
      const { base, defaults } = readFragmentHeader(bytes, header, fragment.start, trackDefaults);
      let dataPosition = base;
      for (const run of boxes(bytes, trackFragment.contentStart, trackFragment.end)) {
        if (run.type !== 'trun') continue;
        const outcome = presentRunTicks(bytes, run, base, dataPosition, defaults);
        ticks += outcome.ticks;
        if (!outcome.complete) return ticks;
        dataPosition = outcome.dataPosition;
      }
    }
  }
  return ticks;
}

export interface Mp4Layout {
  /** The movie box (the index without which nothing plays) is present and complete. */
  readonly hasMovieBox: boolean;
  /**
   * What is wrong with the index, when a box in it runs past the end of the box holding it or an audio
   * track lacks its headers; undefined when it reads cleanly. An audio track may still be read around it.
   */
  readonly damage: string | undefined;
  readonly audio:
    | {
        readonly trackId: number;
        /** "MPEG-4/AAC", "ALAC", … (the sample entry's type in angle brackets when we do not know it). */
        readonly codec: string | null;
        readonly sampleRate: number | undefined;
        readonly channels: number | undefined;
        /** What the media header declares; undefined when it declares nothing. */
        readonly declaredDurationSec: number | undefined;
        /** Length of the samples whose bytes are all in the file. */
        readonly presentDurationSec: number;
      }
    | undefined;
}

// Boxes in the movie box that hold only other boxes, down to the sample descriptions.
const INDEX_CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'mvex', 'dinf']);

/** "its stsd box"; a damaged type (control or non-ASCII characters) is not quoted to a person. */
function boxName(type: string): string {
  return /^[\x21-\x7e][\x20-\x7e]{3}$/.test(type) ? `its ${type.trim()} box` : 'a box with a corrupt type';
}

/** The first box in the index whose size runs past its parent, or that is too small for a header. */
function indexDamage(bytes: Uint8Array, box: Box, depth = 0): string | undefined {
  let offset = box.contentStart;
  for (const inner of boxes(bytes, box.contentStart, box.end)) {
    if (inner.declaredEnd > box.end) return `${boxName(inner.type)} runs past the end of its ${box.type} box`;
    if (depth < 8 && INDEX_CONTAINERS.has(inner.type)) {
      const damage = indexDamage(bytes, inner, depth + 1);
      if (damage) return damage;
    }
    offset = inner.declaredEnd;
  }
  // Leftover bytes too few for a box header are tolerated (some muxers pad); a bad size field is not.
  if (box.end - offset >= 8) return `its ${box.type} box holds a box with an impossible size`;
  return undefined;
}

/** Walks an MP4 file held in memory. Never throws; a damaged index yields no audio track. */
export function walkMp4(bytes: Uint8Array): Mp4Layout {
  const topLevel = [...boxes(bytes, 0, bytes.length)];
  const movie = topLevel.find((box) => box.type === 'moov');
  if (!movie || movie.declaredEnd > bytes.length)
    return { hasMovieBox: false, damage: undefined, audio: undefined };

  let track: AudioTrack | undefined;
  let soundTracks = 0;
  for (const trak of boxes(bytes, movie.contentStart, movie.end)) {
    if (trak.type !== 'trak') continue;
    const handler = path(bytes, trak, ['mdia', 'hdlr']);
    if (handler && latin1(bytes, handler.contentStart + 8, 4) === 'soun') soundTracks++;
    track ??= readAudioTrack(bytes, trak);
  }
  const damage = indexDamage(bytes, movie);
  if (!track) {
    return {
      hasMovieBox: true,
      damage: damage ?? (soundTracks > 0 ? 'its audio track lacks its track or media header' : undefined),
      audio: undefined,
    };
  }
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
    damage,
    audio: {
      trackId: track.id,
      codec: track.codec,
      sampleRate: track.sampleRate,
      channels: track.channels,
      declaredDurationSec: track.mediaTicks === undefined ? undefined : track.mediaTicks / track.timescale,
      presentDurationSec,
    },
  };
}
