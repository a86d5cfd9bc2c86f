/**
 * Reads one piece of speech (one provider request's audio file, or a cached one) as its bytes arrive and
 * hands on only what a joined stream needs of it: a WAV's whole sample frames, an MP3's audio frames.
 * Headers, tags and Xing/Info frames stay behind, so pieces can follow each other in one response while
 * they are still arriving. Nothing is decoded or re-encoded.
 */
import { concatBytes, latin1, uint32LittleEndian } from '../../shared/audio/bytes';
import { parseMpegFrameHeader } from '../../shared/audio/mpeg';
import { AudioJoinError, describeMp3, describeWav, isInformationFrame, wavFormat } from './join-audio';

/** What every piece of one response must share; the first piece sets it. */
export type PieceLayout =
  | { readonly format: 'wav'; readonly formatBody: Uint8Array; readonly description: string }
  | { readonly format: 'mp3'; readonly streamKey: number; readonly description: string };

// Placeholders a writer leaves in a size field when it streams and cannot seek back to fill it in.
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);
const ID3V2_HEADER_BYTES = 10;
const APE_MAGIC = 'APETAGEX';
const APE_HEADER_BYTES = 32;
const APE_IS_HEADER = 0x2000_0000;
// A header this far in without a data chunk or a frame is not a piece of speech.
const MAX_HEADER_BYTES = 64 * 1024;

export class PieceReader {
  private pending: Uint8Array = new Uint8Array(0);
  private started = false;
  /** WAV: sample bytes still to come per the data chunk's size (Infinity for a placeholder). */
  private dataLeft = Number.POSITIVE_INFINITY;
  private blockAlign = 1;
  private skip = 0;
  private firstFrame = true;
  private layoutFound: PieceLayout | undefined;
  /** Bytes handed on so far. */
  payloadBytes = 0;

  constructor(
    private readonly format: 'wav' | 'mp3',
    private readonly label: string,
    /** The layout the response already has (from its first piece); this piece must match it. */
    private readonly expected?: PieceLayout,
  ) {}

  /** This piece's layout, once its header has arrived. */
  get layout(): PieceLayout | undefined {
    return this.layoutFound;
  }

  /** The payload the bytes so far complete (possibly none yet). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.pending = this.pending.length === 0 ? chunk : concatBytes([this.pending, chunk]);
    const out = this.format === 'wav' ? this.wav() : this.mp3();
    for (const part of out) this.payloadBytes += part.length;
    return out;
  }

  /** Called when the piece has ended: throws when it never got past its header. */
  end(): void {
    if (!this.started) {
      throw new AudioJoinError(
        this.format === 'wav'
          ? `${this.label} is not a complete WAV file (no data chunk)`
          : `${this.label} holds no MPEG audio frames`,
      );
    }
  }

  private wav(): Uint8Array[] {
    if (!this.started && !this.readWavHeader()) return [];
    const whole = Math.min(this.pending.length - (this.pending.length % this.blockAlign), this.dataLeft);
    if (whole <= 0) return [];
    const samples = this.pending.subarray(0, whole);
    this.pending = this.pending.subarray(whole);
    this.dataLeft -= whole;
    // What follows the data chunk (LIST, say) is no audio: drop it.
    if (this.dataLeft === 0) this.pending = new Uint8Array(0);
    return [samples];
  }

  /** Walks the chunks before `data`; true once the samples start at `pending[0]`. */
  private readWavHeader(): boolean {
    const bytes = this.pending;
    if (bytes.length < 12) return this.notTooLong();
    if (latin1(bytes, 0, 4) !== 'RIFF' || latin1(bytes, 8, 4) !== 'WAVE') {
      throw new AudioJoinError(`${this.label} is not a RIFF/WAVE file`);
    }
    let formatBody: Uint8Array | undefined;
    let offset = 12;
    while (offset + 8 <= bytes.length) {
      const id = latin1(bytes, offset, 4);
      const size = uint32LittleEndian(bytes, offset + 4) ?? 0;
      const body = offset + 8;
      if (id === 'data') {
        if (!formatBody) throw new AudioJoinError(`${this.label} has its audio data before its format chunk`);
        const format = wavFormat(formatBody, this.label);
        const layout: PieceLayout = { format: 'wav', formatBody, description: describeWav(format) };
        this.check(layout);
        this.blockAlign = format.blockAlign;
        // 0xFFFFFFFF is a streaming placeholder; so is 0, unless the RIFF size reaches past the data header
        // (then the writer knew the layout, and what follows is other chunks: LIST, say).
        const riffSize = uint32LittleEndian(bytes, 4) ?? 0;
        const placeholder =
          size === 0xffffffff || (size === 0 && (UNKNOWN_SIZES.has(riffSize) || riffSize + 8 <= body));
        this.dataLeft = placeholder ? Number.POSITIVE_INFINITY : size;
        this.pending = bytes.subarray(body);
        this.started = true;
        return true;
      }
      if (body + size > bytes.length) break;
      if (id === 'fmt ') formatBody = bytes.slice(body, body + size);
      offset = body + size + (size % 2);
    }
    return this.notTooLong();
  }

  private mp3(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.skip > 0) {
        const skipped = Math.min(this.skip, this.pending.length);
        this.pending = this.pending.subarray(skipped);
        this.skip -= skipped;
        if (this.skip > 0) return out;
      }
      const bytes = this.pending;
      if (!this.started && latin1(bytes, 0, 3) === 'ID3') {
        if (bytes.length < ID3V2_HEADER_BYTES) return out;
        let size = 0;
        for (let index = 6; index < 10; index++) size = size * 128 + ((bytes[index] ?? 0) & 0x7f);
        const footer = ((bytes[5] ?? 0) & 0x10) !== 0 ? ID3V2_HEADER_BYTES : 0;
        this.skip = ID3V2_HEADER_BYTES + size + footer;
        continue;
      }
      if (bytes.length < 4) return out;
      const header = parseMpegFrameHeader(bytes, 0);
      if (
        !header ||
        (this.layoutFound?.format === 'mp3' && header.streamKey !== this.layoutFound.streamKey)
      ) {
        if (!this.started) {
          // Providers answer with frames right after any tag; anything else is not MP3 (a JSON error, a WAV).
          throw new AudioJoinError(`${this.label} holds no MPEG audio frames (it must start with one)`);
        }
        // An APE tag behind the audio is skipped by its size: its cover art may itself be MP3 of this format.
        const ape = apeTagBytes(bytes);
        if (ape === undefined) return out;
        if (ape > 0) {
          this.skip = ape;
          continue;
        }
        // Junk between frames, or a trailing tag: skip a byte and look again.
        this.pending = bytes.subarray(1);
        continue;
      }
      if (bytes.length < header.frameLength) return out;
      const frame = bytes.subarray(0, header.frameLength);
      this.pending = bytes.subarray(header.frameLength);
      if (this.firstFrame) {
        this.firstFrame = false;
        const layout: PieceLayout = {
          format: 'mp3',
          streamKey: header.streamKey,
          description: describeMp3(header),
        };
        this.check(layout);
        this.started = true;
        // Its frame count describes this piece, not the joined stream.
        if (isInformationFrame(frame, 0, header)) continue;
      }
      out.push(frame);
    }
  }

  private check(layout: PieceLayout): void {
    this.layoutFound = layout;
    const expected = this.expected;
    if (!expected) return;
    // Compared by what they mean (rate, channels, sample format), not by bytes: headers differ in padding.
    const same = layout.format === expected.format && layout.description === expected.description;
    if (!same) {
      throw new AudioJoinError(
        `Cannot join speech of different formats: the first piece is ${expected.description}, ${this.label} is ${layout.description}`,
      );
    }
  }

  private notTooLong(): false {
    if (this.pending.length > MAX_HEADER_BYTES) {
      throw new AudioJoinError(`${this.label} has no audio within its first ${MAX_HEADER_BYTES} bytes`);
    }
    return false;
  }
}

/**
 * The length of the APEv2 tag starting at `bytes[0]` (header, items and footer), 0 when none starts there,
 * undefined until enough has arrived to tell. A tag written without a header (footer only) is not known
 * until its end: its items are passed over as junk.
 */
function apeTagBytes(bytes: Uint8Array): number | undefined {
  const magic = latin1(bytes, 0, APE_MAGIC.length);
  if (!APE_MAGIC.startsWith(magic)) return 0;
  if (bytes.length < APE_HEADER_BYTES) return undefined;
  const flags = uint32LittleEndian(bytes, 20) ?? 0;
  // The size counts the items and the footer, not the header.
  const size = uint32LittleEndian(bytes, 12) ?? 0;
  return (flags & APE_IS_HEADER) !== 0 ? APE_HEADER_BYTES + size : APE_HEADER_BYTES;
}
