/**
 * A minimal EBML walk over WebM/Matroska: the DocType, the Segment's Info, the audio track's codec, sample
 * rate and channels, and the timestamps of the audio blocks that are really present. The length comes from
 * the blocks, not only the Info Duration element: browsers' MediaRecorder never writes one, writes its
 * Clusters with unknown sizes, and a cut-off upload's Duration overstates what plays.
 */

import { dataView, latin1 } from './bytes';

const ID = {
  ebml: 0x1a45dfa3,
  docType: 0x4282,
  segment: 0x18538067,
  seekHead: 0x114d9b74,
  info: 0x1549a966,
  timecodeScale: 0x2ad7b1,
  duration: 0x4489,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  trackNumber: 0xd7,
  trackType: 0x83,
  codecId: 0x86,
  codecPrivate: 0x63a2,
  flagEnabled: 0xb9,
  flagDefault: 0x88,
  audio: 0xe1,
  samplingFrequency: 0xb5,
  outputSamplingFrequency: 0x78b5,
  channels: 0x9f,
  defaultDuration: 0x23e383,
  cluster: 0x1f43b675,
  timecode: 0xe7,
  simpleBlock: 0xa3,
  blockGroup: 0xa0,
  block: 0xa1,
  blockDuration: 0x9b,
  cues: 0x1c53bb6b,
  tags: 0x1254c367,
  attachments: 0x1941a469,
  chapters: 0x1043a770,
} as const;

// Elements that can only sit directly in a Segment: meeting one ends a Cluster of unknown size.
const SEGMENT_LEVEL_IDS = new Set<number>([
  ID.ebml,
  ID.segment,
  ID.seekHead,
  ID.info,
  ID.tracks,
  ID.cluster,
  ID.cues,
  ID.tags,
  ID.attachments,
  ID.chapters,
]);
const AUDIO_TRACK_TYPE = 2;
const DEFAULT_TIMECODE_SCALE_NS = 1_000_000;

interface ElementHeader {
  readonly id: number;
  readonly dataStart: number;
  /** Where the element ends by its size field; undefined when the size is "unknown" (live streams). */
  readonly declaredEnd: number | undefined;
}

interface VariableInteger {
  readonly value: number;
  readonly length: number;
  readonly allOnes: boolean;
}

function readVariableInteger(
  bytes: Uint8Array,
  offset: number,
  keepMarker: boolean,
): VariableInteger | undefined {
  const first = bytes[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (offset + length > bytes.length) return undefined;
  const valueMask = 0xff >> length;
  let value = keepMarker ? first : first & valueMask;
  let allOnes = (first & valueMask) === valueMask;
  for (let index = 1; index < length; index++) {
    const byte = bytes[offset + index] ?? 0;
    value = value * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { value, length, allOnes };
}

function readElementHeader(bytes: Uint8Array, offset: number): ElementHeader | undefined {
  const id = readVariableInteger(bytes, offset, true);
  if (!id || id.length > 4) return undefined;
  const size = readVariableInteger(bytes, offset + id.length, false);
  if (!size) return undefined;
  const dataStart = offset + id.length + size.length;
  return { id: id.value, dataStart, declaredEnd: size.allOnes ? undefined : dataStart + size.value };
}

function readUnsigned(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < Math.min(end, bytes.length); index++)
    value = value * 256 + (bytes[index] ?? 0);
  return value;
}

function readFloat(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end > bytes.length) return undefined;
  if (end - start === 4) return dataView(bytes).getFloat32(start);
  if (end - start === 8) return dataView(bytes).getFloat64(start);
  return undefined;
}

/**
 * Calls `visit` for each child element of [start, end) whose bytes are all present. Returns false when it
 * stopped early: a child that is cut off, runs past its parent, or has no readable header.
 */
function forEachChild(
  bytes: Uint8Array,
  start: number,
  end: number,
  visit: (header: ElementHeader, end: number) => void,
): boolean {
  let offset = start;
  while (offset < end) {
    const header = readElementHeader(bytes, offset);
    if (!header?.declaredEnd || header.declaredEnd > Math.min(end, bytes.length)) return false;
    visit(header, header.declaredEnd);
    offset = header.declaredEnd;
  }
  return true;
}

/** The EBML header's DocType ("webm", "matroska"), from the first bytes of the file. */
export function readEbmlDocType(bytes: Uint8Array): string | undefined {
  const header = readElementHeader(bytes, 0);
  if (header?.id !== ID.ebml) return undefined;
  let docType: string | undefined;
  forEachChild(bytes, header.dataStart, header.declaredEnd ?? bytes.length, (child, end) => {
    if (child.id === ID.docType)
      docType = latin1(bytes, child.dataStart, end - child.dataStart).replace(/\0+$/, '');
  });
  return docType;
}

export interface WebmAudioTrack {
  readonly number: number;
  /** The CodecID without its "A_" ("OPUS", "VORBIS", "AAC", …); null when the track names none. */
  readonly codec: string | null;
  /** OutputSamplingFrequency, else SamplingFrequency (Matroska's default 8 kHz when neither is given). */
  readonly sampleRate: number | undefined;
  /** Channels (Matroska's default 1 when not given). */
  readonly channels: number | undefined;
  /** The CodecPrivate element's bytes (Opus: its OpusHead), when present. */
  readonly codecPrivate?: Uint8Array;
}

export interface WebmLayout {
  readonly declaredDurationSec: number | undefined;
  readonly audioTrack: WebmAudioTrack | undefined;
  /** Why the header (EBML, Info, Tracks) cannot be read, when it is cut off or corrupt. */
  readonly headerDamage: string | undefined;
  /** Audio blocks whose bytes are all present. */
  readonly audioBlocks: number;
  /** From the first present audio block's start to the last one's end; 0 without blocks. */
  readonly measuredDurationSec: number;
}

interface TrackEntry {
  number?: number;
  type?: number;
  defaultDurationNs?: number;
  codecId?: string;
  enabled?: boolean;
  isDefault?: boolean;
  samplingFrequency?: number;
  outputSamplingFrequency?: number;
  channels?: number;
  codecPrivate?: Uint8Array;
}

/**
 * The audio track a player picks: enabled, flagged default rather than not, then the lowest number.
 */
function pickAudioTrack(tracks: readonly TrackEntry[]): TrackEntry | undefined {
  let picked: TrackEntry | undefined;
  for (const track of tracks) {
    if (track.type !== AUDIO_TRACK_TYPE || track.enabled === false || track.number === undefined) continue;
    if (!picked) picked = track;
    else if ((track.isDefault ?? true) !== (picked.isDefault ?? true)) {
      if (track.isDefault ?? true) picked = track;
    } else if (track.number < (picked.number ?? 0)) picked = track;
  }
  return picked;
}

/** A sampling frequency (an EBML float) we can report, or undefined. */
function frequency(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 1 && value < 1e7 ? value : undefined;
}

/**
 * Walks a whole WebM/Matroska file (or what there is of it). Never throws; stops at the first cut.
 * `onAudioBlock` gets the body of each complete block of the audio track, in file order (decode.ts).
 */
export function walkWebm(bytes: Uint8Array, onAudioBlock?: (block: Uint8Array) => void): WebmLayout {
  return new WebmWalk(bytes, onAudioBlock).layout();
}

/** One walk's state: what the Info and Tracks said so far, and the timestamps of the audio blocks seen. */
class WebmWalk {
  private timecodeScale = DEFAULT_TIMECODE_SCALE_NS;
  private declaredDuration: number | undefined;
  private readonly tracks: TrackEntry[] = [];
  private headerDone = false;
  private headerDamage: string | undefined;
  private audioTrack: TrackEntry | undefined;

  private audioBlocks = 0;
  private firstTimestamp = Number.POSITIVE_INFINITY;
  private lastTimestamp = Number.NEGATIVE_INFINITY;
  private previousTimestamp: number | undefined;
  private lastBlockDuration: number | undefined;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly onAudioBlock: ((block: Uint8Array) => void) | undefined,
  ) {}

  layout(): WebmLayout {
    const segmentDamage = this.walkSegment();
    this.headerDamage ??= segmentDamage;
    this.audioTrack ??= pickAudioTrack(this.tracks);
    const audioTrack = this.audioTrack;
    const declaredDuration = this.declaredDuration;
    return {
      audioTrack: audioTrack?.number === undefined ? undefined : describeTrack(audioTrack, audioTrack.number),
      headerDamage: this.headerDamage,
      declaredDurationSec:
        declaredDuration !== undefined && Number.isFinite(declaredDuration) && declaredDuration > 0
          ? declaredDuration * this.secondsPerTick()
          : undefined,
      audioBlocks: this.audioBlocks,
      measuredDurationSec: this.measuredDurationSec(),
    };
  }

  private secondsPerTick(): number {
    return this.timecodeScale / 1e9;
  }

  private measuredDurationSec(): number {
    if (this.audioBlocks === 0) return 0;
    const defaultDurationNs = this.audioTrack?.defaultDurationNs;
    // The last block lasts as long as its BlockDuration, the track's DefaultDuration, or the gap before it.
    const lastDuration =
      this.lastBlockDuration ??
      (defaultDurationNs ? defaultDurationNs / this.timecodeScale : undefined) ??
      (this.previousTimestamp === undefined ? 0 : this.lastTimestamp - this.previousTimestamp);
    return (this.lastTimestamp + lastDuration - this.firstTimestamp) * this.secondsPerTick();
  }

  private walkSegment(): string | undefined {
    const bytes = this.bytes;
    const segment = findSegment(bytes);
    if (typeof segment === 'string') return segment;
    const segmentEnd = Math.min(segment.declaredEnd ?? bytes.length, bytes.length);
    let offset = segment.dataStart;
    while (offset < segmentEnd) {
      const header = readElementHeader(bytes, offset);
      if (!header) return this.headerDone ? undefined : 'an element before its first Cluster is corrupt';
      if (header.id === ID.cluster) {
        if (!this.headerDone) {
          this.headerDone = true;
          this.audioTrack = pickAudioTrack(this.tracks);
        }
        const next = this.walkCluster(header.dataStart, header.declaredEnd);
        if (next === undefined) return undefined;
        offset = next;
        continue;
      }
      // Only Clusters may have an unknown size; anything else like it cannot be skipped.
      if (header.declaredEnd === undefined)
        return this.headerDone ? undefined : 'an element before its first Cluster has no size';
      const end = Math.min(header.declaredEnd, bytes.length);
      if (header.id === ID.info) this.readInfo(header.dataStart, end);
      if (header.id === ID.tracks) this.readTracks(header.dataStart, end);
      offset = header.declaredEnd;
    }
    return undefined;
  }

  private readInfo(start: number, end: number): void {
    const bytes = this.bytes;
    const complete = forEachChild(bytes, start, end, (child, childEnd) => {
      // A zero scale (corrupt) would make every timestamp 0; fall back to the default like players do.
      if (child.id === ID.timecodeScale) {
        this.timecodeScale = readUnsigned(bytes, child.dataStart, childEnd) || DEFAULT_TIMECODE_SCALE_NS;
      }
      if (child.id === ID.duration) this.declaredDuration = readFloat(bytes, child.dataStart, childEnd);
    });
    if (!complete) this.headerDamage ??= 'its segment information is cut off or corrupt';
  }

  private readTracks(start: number, end: number): void {
    let entriesComplete = true;
    const complete = forEachChild(this.bytes, start, end, (entry, entryEnd) => {
      if (entry.id !== ID.trackEntry) return;
      const { track, complete: entryComplete } = readTrackEntry(this.bytes, entry.dataStart, entryEnd);
      this.tracks.push(track);
      entriesComplete = entryComplete && entriesComplete;
    });
    if (!complete || !entriesComplete) this.headerDamage ??= 'its track list is cut off or corrupt';
  }

  /** Walks one Cluster; returns where the next Segment child starts, or undefined when the file is cut. */
  private walkCluster(start: number, end: number | undefined): number | undefined {
    const bytes = this.bytes;
    const limit = end ?? bytes.length;
    let clusterTimecode = 0;
    let offset = start;
    while (offset < limit) {
      const header = readElementHeader(bytes, offset);
      if (!header) return undefined;
      if (end === undefined && SEGMENT_LEVEL_IDS.has(header.id)) return offset;
      if (header.declaredEnd === undefined || header.declaredEnd > bytes.length) return undefined;
      if (header.id === ID.timecode)
        clusterTimecode = readUnsigned(bytes, header.dataStart, header.declaredEnd);
      else if (header.id === ID.simpleBlock)
        this.onBlock(header.dataStart, header.declaredEnd, clusterTimecode);
      else if (header.id === ID.blockGroup)
        this.readBlockGroup(header.dataStart, header.declaredEnd, clusterTimecode);
      offset = header.declaredEnd;
    }
    return end === undefined || end <= bytes.length ? limit : undefined;
  }

  private readBlockGroup(start: number, end: number, clusterTimecode: number): void {
    let block: ElementHeader | undefined;
    let blockDuration: number | undefined;
    forEachChild(this.bytes, start, end, (child, childEnd) => {
      if (child.id === ID.block) block = child;
      if (child.id === ID.blockDuration) blockDuration = readUnsigned(this.bytes, child.dataStart, childEnd);
    });
    if (block?.declaredEnd !== undefined) {
      this.onBlock(block.dataStart, block.declaredEnd, clusterTimecode, blockDuration);
    }
  }

  private onBlock(start: number, end: number, clusterTimecode: number, blockDuration?: number): void {
    const bytes = this.bytes;
    const track = readVariableInteger(bytes, start, false);
    if (!track || start + track.length + 2 > end || track.value !== this.audioTrack?.number) return;
    const relative = dataView(bytes).getInt16(start + track.length);
    const timestamp = clusterTimecode + relative;
    this.audioBlocks++;
    this.onAudioBlock?.(bytes.subarray(start, end));
    this.firstTimestamp = Math.min(this.firstTimestamp, timestamp);
    if (timestamp >= this.lastTimestamp) {
      this.previousTimestamp = Number.isFinite(this.lastTimestamp) ? this.lastTimestamp : undefined;
      this.lastTimestamp = timestamp;
      this.lastBlockDuration = blockDuration;
    }
  }
}

/** The Segment after the EBML header, or why there is none. */
function findSegment(bytes: Uint8Array): ElementHeader | string {
  const ebml = readElementHeader(bytes, 0);
  if (ebml?.id !== ID.ebml || ebml.declaredEnd === undefined) return 'its EBML header is corrupt';
  let offset = ebml.declaredEnd;
  let segment = readElementHeader(bytes, offset);
  // Void or other elements may sit between the EBML header and the Segment.
  while (segment && segment.id !== ID.segment && segment.declaredEnd !== undefined) {
    offset = segment.declaredEnd;
    segment = readElementHeader(bytes, offset);
  }
  return segment?.id === ID.segment ? segment : 'it has no Segment';
}

/** One TrackEntry, and whether it and its Audio element were whole. */
function readTrackEntry(
  bytes: Uint8Array,
  start: number,
  end: number,
): { track: TrackEntry; complete: boolean } {
  const track: TrackEntry = {};
  let audioComplete = true;
  const complete = forEachChild(bytes, start, end, (child, childEnd) => {
    const value = () => readUnsigned(bytes, child.dataStart, childEnd);
    if (child.id === ID.trackNumber) track.number = value();
    if (child.id === ID.trackType) track.type = value();
    if (child.id === ID.defaultDuration) track.defaultDurationNs = value();
    if (child.id === ID.flagEnabled) track.enabled = value() !== 0;
    if (child.id === ID.flagDefault) track.isDefault = value() !== 0;
    if (child.id === ID.codecId)
      track.codecId = latin1(bytes, child.dataStart, childEnd - child.dataStart).replace(/\0+$/, '');
    if (child.id === ID.codecPrivate) track.codecPrivate = bytes.subarray(child.dataStart, childEnd);
    if (child.id === ID.audio)
      audioComplete = readAudio(bytes, child.dataStart, childEnd, track) && audioComplete;
  });
  return { track, complete: complete && audioComplete };
}

/** The Audio element of a TrackEntry into `track`; false when it is cut off or corrupt. */
function readAudio(bytes: Uint8Array, start: number, end: number, track: TrackEntry): boolean {
  return forEachChild(bytes, start, end, (child, childEnd) => {
    if (child.id === ID.samplingFrequency)
      track.samplingFrequency = readFloat(bytes, child.dataStart, childEnd);
    if (child.id === ID.outputSamplingFrequency)
      track.outputSamplingFrequency = readFloat(bytes, child.dataStart, childEnd);
    if (child.id === ID.channels) track.channels = readUnsigned(bytes, child.dataStart, childEnd);
  });
}

function describeTrack(track: TrackEntry, number: number): WebmAudioTrack {
  const codec = track.codecId?.replace(/^A_/, '');
  return {
    number,
    codec: codec ? codec : null,
    // Matroska's defaults when the Audio element leaves them out.
    sampleRate:
      track.samplingFrequency === undefined && track.outputSamplingFrequency === undefined
        ? 8000
        : (frequency(track.outputSamplingFrequency) ?? frequency(track.samplingFrequency)),
    channels:
      track.channels === undefined
        ? 1
        : track.channels >= 1 && track.channels <= 255
          ? track.channels
          : undefined,
    ...(track.codecPrivate ? { codecPrivate: track.codecPrivate } : {}),
  };
}
