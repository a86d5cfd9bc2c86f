/**
 * Decides what a file is from its first bytes (never its name): one of the containers we parse, a
 * recognised format no provider here accepts, or something that is not audio at all.
 */

import { latin1, startsWith, uint16LittleEndian } from './bytes';
import { findMpegStream, parseMpegFrameHeader } from './mpeg';
import { readEbmlDocType } from './webm';

type RangeReader = (start: number, end: number) => Promise<Uint8Array>;

export type Detection =
  | { readonly kind: 'wav' }
  | { readonly kind: 'mp3'; readonly firstFrame: number }
  | { readonly kind: 'mp4' }
  | { readonly kind: 'webm' }
  | { readonly kind: 'unsupported'; readonly format: string; readonly description: string }
  | { readonly kind: 'unreadable'; readonly format: string | null; readonly reason: string };

// Consecutive frame headers that make a frame-sync pattern count as audio rather than chance.
const MINIMUM_FRAMES = 4;
// Bytes read after an ID3v2 tag that does not fit in the first read, to see what follows it.
const AFTER_TAG_BYTES = 16 * 1024;
// Files stacking more ID3v2 tags than this are not worth reading further.
const MAXIMUM_ID3_TAGS = 4;

const ASF_HEADER_GUID = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11];
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];

function unsupported(format: string, description: string): Detection {
  return { kind: 'unsupported', format, description };
}

function unreadable(reason: string, format: string | null = null): Detection {
  return { kind: 'unreadable', format, reason };
}

/** Raw AAC: ADTS frames (sync 0xFFF with layer 00) chained by their 13-bit frame lengths. */
function isAdtsStream(bytes: Uint8Array, offset: number): boolean {
  let position = offset;
  for (let frame = 0; frame < MINIMUM_FRAMES; frame++) {
    const b1 = bytes[position + 1] ?? 0;
    if (bytes[position] !== 0xff || (b1 & 0xf6) !== 0xf0) return false;
    if ((((bytes[position + 2] ?? 0) >> 2) & 0x0f) > 12) return false;
    const length =
      (((bytes[position + 3] ?? 0) & 0x03) << 11) |
      ((bytes[position + 4] ?? 0) << 3) |
      ((bytes[position + 5] ?? 0) >> 5);
    if (length < 7) return false;
    position += length;
    if (position >= bytes.length) return frame >= 1;
  }
  return true;
}

/** MPEG audio starting exactly at `offset`: layer III is MP3, layers I and II are not accepted anywhere. */
function mpegAt(bytes: Uint8Array, offset: number, absoluteOffset: number): Detection | undefined {
  if (findMpegStream(bytes, offset, offset, MINIMUM_FRAMES) !== offset) return undefined;
  return mpegDetection(bytes, offset, absoluteOffset);
}

function mpegDetection(bytes: Uint8Array, offset: number, absoluteOffset: number): Detection | undefined {
  const header = parseMpegFrameHeader(bytes, offset);
  if (!header) return undefined;
  if (header.layer === 3) return { kind: 'mp3', firstFrame: absoluteOffset };
  return unsupported(`mp${header.layer}`, `MPEG Layer ${header.layer === 2 ? 'II' : 'I'} audio`);
}

function oggDetection(bytes: Uint8Array): Detection {
  // The first page holds the codec's identification packet right after its segment table.
  const packet = 27 + (bytes[26] ?? 0);
  const signature = latin1(bytes, packet, 8);
  if (signature.startsWith('\x01vorbis')) return unsupported('ogg', 'Ogg Vorbis audio');
  if (signature === 'OpusHead') return unsupported('ogg', 'Ogg Opus audio');
  if (signature.startsWith('\x7fFLAC')) return unsupported('ogg', 'Ogg FLAC audio');
  if (signature === 'Speex   ') return unsupported('ogg', 'Ogg Speex audio');
  if (signature.startsWith('\x80theora')) return unsupported('ogg', 'Ogg Theora video');
  return unsupported('ogg', 'Ogg audio');
}

function mp4Detection(bytes: Uint8Array): Detection {
  const brand = latin1(bytes, 8, 4);
  if (brand === 'qt  ') return unsupported('mov', 'QuickTime (MOV) video');
  if (brand.startsWith('3g')) return unsupported('3gp', '3GPP (3GP) audio');
  if (['heic', 'heix', 'hevc', 'mif1', 'msf1', 'avif', 'avis'].includes(brand)) {
    return unreadable('looks like a HEIF/AVIF image, not audio');
  }
  return { kind: 'mp4' };
}

function riffDetection(bytes: Uint8Array): Detection {
  const form = latin1(bytes, 8, 4);
  if (form === 'WAVE') return { kind: 'wav' };
  if (bytes.length < 12) return unreadable('WAV header is cut off', 'wav');
  if (form === 'AVI ') return unsupported('avi', 'AVI video');
  if (form === 'WEBP') return unreadable('looks like a WebP image, not audio');
  return unreadable(`is a RIFF file of type "${form.trim()}", not WAV audio`);
}

/** Containers recognised from their magic numbers at the start of the file. */
function detectByMagic(bytes: Uint8Array): Detection | undefined {
  const magic = latin1(bytes, 0, 4);
  if (magic === 'RIFF') return riffDetection(bytes);
  // RF64/BW64 are WAV with 64-bit sizes (broadcast recorders write them); the data chunk's 32-bit size
  // is then 0xFFFFFFFF, which the WAV walk reads as "to the end of the file".
  if ((magic === 'RF64' || magic === 'BW64') && latin1(bytes, 8, 4) === 'WAVE') return { kind: 'wav' };
  if (magic === 'riff' && bytes[4] === 0x2e && bytes[5] === 0x91 && bytes[6] === 0xcf && bytes[7] === 0x11) {
    return unsupported('w64', 'Sony Wave64 (W64) audio');
  }
  if (magic === 'RIFX') return unsupported('rifx', 'big-endian WAV (RIFX) audio');
  if (latin1(bytes, 4, 4) === 'ftyp') return mp4Detection(bytes);
  if (startsWith(bytes, EBML_MAGIC)) {
    const docType = readEbmlDocType(bytes);
    if (docType === 'webm') return { kind: 'webm' };
    if (docType === 'matroska') return unsupported('matroska', 'Matroska (MKV/MKA) audio');
    // A damaged DocType's bytes (control characters, stray Latin-1) are not quoted to a person.
    const named = docType !== undefined && /^[\x20-\x7e]+$/.test(docType) ? docType : 'unknown';
    return unreadable(`is a Matroska-family (EBML) file of type "${named}", not WebM audio`);
  }
  if (magic === 'OggS') return oggDetection(bytes);
  if (magic === 'fLaC') return unsupported('flac', 'FLAC audio');
  if (magic === 'FORM' && ['AIFF', 'AIFC'].includes(latin1(bytes, 8, 4))) {
    return unsupported('aiff', 'AIFF audio');
  }
  if (magic === 'caff') return unsupported('caf', 'Core Audio (CAF) audio');
  if (startsWith(bytes, ASF_HEADER_GUID)) return unsupported('asf', 'Windows Media (WMA/ASF) audio');
  if (latin1(bytes, 0, 5) === '#!AMR') return unsupported('amr', 'AMR speech audio');
  if (magic === '.snd') return unsupported('au', 'Sun AU audio');
  return undefined;
}

/** "a PNG image", "an EXE file": the article follows how the letters are spoken. */
function withArticle(label: string): string {
  return `${/^[AEFHILMNORSX]/.test(label) ? 'an' : 'a'} ${label}`;
}

type Kind = 'audio' | 'video' | 'image' | 'file';

/**
 * Formats no provider takes, by their signatures: [extension, kind, magic (Latin-1), offset]. The names
 * and kinds follow file-type (which did this before), so the messages are the same.
 */
const SIGNATURES: readonly (readonly [string, Kind, string, number?])[] = [
  ['png', 'image', '\x89PNG\r\n\x1a\n'],
  ['bmp', 'image', 'BM'],
  ['ac3', 'audio', '\x0b\x77'],
  ['exe', 'file', 'MZ'],
  ['ps', 'file', '%!'],
  ['gif', 'image', 'GIF'],
  ['jxr', 'image', 'II\xbc'],
  ['gz', 'file', '\x1f\x8b\x08'],
  ['bz2', 'file', 'BZh'],
  ['mpc', 'audio', 'MP+'],
  ['swf', 'file', 'FWS'],
  ['swf', 'file', 'CWS'],
  ['jpg', 'image', '\xff\xd8\xff'],
  ['flif', 'image', 'FLIF'],
  ['psd', 'image', '8BPS'],
  ['mpc', 'audio', 'MPCK'],
  ['icns', 'image', 'icns'],
  ['zip', 'file', 'PK\x03\x04'],
  ['zip', 'file', 'PK\x05\x06'],
  ['zip', 'file', 'PK\x07\x08'],
  ['mid', 'audio', 'MThd'],
  ['woff', 'file', 'wOFF'],
  ['woff2', 'file', 'wOF2'],
  ['pcap', 'file', '\xd4\xc3\xb2\xa1'],
  ['pcap', 'file', '\xa1\xb2\xc3\xd4'],
  ['dsf', 'audio', 'DSD '],
  ['lz', 'file', 'LZIP'],
  ['bpg', 'image', 'BPG\xfb'],
  ['wv', 'audio', 'wvpk'],
  ['pdf', 'file', '%PDF'],
  ['wasm', 'file', '\x00asm'],
  ['tif', 'image', 'II*\x00'],
  ['tif', 'image', 'MM\x00*'],
  ['tif', 'image', 'II+\x00'],
  ['tif', 'image', 'MM\x00+'],
  ['ape', 'audio', 'MAC '],
  ['sqlite', 'file', 'SQLi'],
  ['crx', 'file', 'Cr24'],
  ['cab', 'file', 'MSCF'],
  ['rpm', 'file', '\xed\xab\xee\xdb'],
  ['zst', 'file', '\x28\xb5\x2f\xfd'],
  ['elf', 'file', '\x7fELF'],
  ['parquet', 'file', 'PAR1'],
  ['ttc', 'file', 'ttcf'],
  ['macho', 'file', '\xfe\xed\xfa\xce'],
  ['macho', 'file', '\xfe\xed\xfa\xcf'],
  ['macho', 'file', '\xce\xfa\xed\xfe'],
  ['macho', 'file', '\xcf\xfa\xed\xfe'],
  ['lz4', 'file', '\x04\x22\x4d\x18'],
  ['otf', 'file', 'OTTO\x00'],
  ['rtf', 'file', '{\\rtf'],
  ['flv', 'video', 'FLV\x01'],
  ['it', 'audio', 'IMPM'],
  ['mpg', 'video', '\x00\x00\x01\xba'],
  ['mpg', 'video', '\x00\x00\x01\xb3'],
  ['chm', 'file', 'ITSF'],
  ['rm', 'file', '.RMF'],
  ['xz', 'file', '\xfd7zXZ\x00'],
  ['xml', 'file', '<?xml '],
  ['7z', 'file', '7z\xbc\xaf\x27\x1c'],
  ['rar', 'file', 'Rar!\x1a\x07'],
  ['blend', 'file', 'BLENDER'],
  ['deb', 'file', '!<arch>\ndebian-binary'],
  ['ar', 'file', '!<arch>'],
  ['mov', 'video', 'free', 4],
  ['mov', 'video', 'mdat', 4],
  ['mov', 'video', 'moov', 4],
  ['mov', 'video', 'wide', 4],
  ['xcf', 'image', 'gimp xcf '],
  ['qcp', 'audio', 'QLCM', 8],
  ['j2c', 'image', '\xff\x4f\xff\x51'],
  ['jp2', 'image', '\x00\x00\x00\x0cjP  \x0d\x0a\x87\x0a'],
  ['jxl', 'image', '\xff\x0a'],
  ['jxl', 'image', '\x00\x00\x00\x0cJXL \x0d\x0a\x87\x0a'],
  ['cfb', 'file', '\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'],
  ['dff', 'audio', 'FRM8'],
  ['vcf', 'file', 'BEGIN:VCARD'],
  ['ics', 'file', 'BEGIN:VCALENDAR'],
  ['xm', 'audio', 'Extended Module:'],
  ['voc', 'audio', 'Creative Voice File'],
  ['s3m', 'audio', 'SCRM', 44],
  ['mobi', 'file', 'BOOKMOBI', 60],
  ['dcm', 'file', 'DICM', 128],
  ['tar', 'file', 'ustar', 257],
  ['pgp', 'file', '-----BEGIN PGP MESSAGE-----'],
  ['ttf', 'file', '\x00\x01\x00\x00\x00'],
  ['ico', 'image', '\x00\x00\x01\x00'],
  ['cur', 'image', '\x00\x00\x02\x00'],
];

/** What a ZIP archive holds, from its first entry's name (Office documents and EPUB books are ZIPs). */
function zipExtension(bytes: Uint8Array): string {
  const name = latin1(bytes, 30, Math.min(uint16LittleEndian(bytes, 26) ?? 0, 64));
  if (name === 'mimetype') {
    const mimeType = latin1(bytes, 30 + name.length + (uint16LittleEndian(bytes, 28) ?? 0), 40);
    if (mimeType.startsWith('application/epub+zip')) return 'epub';
    if (mimeType.startsWith('application/vnd.oasis.opendocument.text')) return 'odt';
    if (mimeType.startsWith('application/vnd.oasis.opendocument.spreadsheet')) return 'ods';
    if (mimeType.startsWith('application/vnd.oasis.opendocument.presentation')) return 'odp';
  }
  if (name.startsWith('word/')) return 'docx';
  if (name.startsWith('xl/')) return 'xlsx';
  if (name.startsWith('ppt/')) return 'pptx';
  if (name.startsWith('META-INF/')) return 'jar';
  return 'zip';
}

/** A format we do not parse (not audio, or media no provider takes), named for the rejection message. */
function detectBySignature(bytes: Uint8Array): Detection | undefined {
  // A UTF-8 byte order mark may precede a text format (XML, vCard, …).
  const start = latin1(bytes, 0, 3) === '\xef\xbb\xbf' ? 3 : 0;
  // MPEG transport streams (camcorders' .mts/.m2ts): a sync byte every 188 bytes (192 with a timecode).
  if ((bytes[0] === 0x47 && bytes[188] === 0x47) || (bytes[4] === 0x47 && bytes[196] === 0x47)) {
    return unsupported('mts', 'MTS video');
  }
  const found = SIGNATURES.find(
    ([, , magic, offset]) => latin1(bytes, (offset ?? 0) + start, magic.length) === magic,
  );
  if (!found) return undefined;
  const [signatureExtension, kind] = found;
  let extension = signatureExtension;
  if (extension === 'zip') extension = zipExtension(bytes);
  if (extension === 'png') {
    // An animated PNG announces itself (acTL) before its first image data.
    const chunks = latin1(bytes, 8, 4096);
    const animation = chunks.indexOf('acTL');
    const imageData = chunks.indexOf('IDAT');
    if (animation >= 0 && (imageData < 0 || animation < imageData)) extension = 'apng';
  }
  const label = extension.toUpperCase();
  if (kind === 'audio') return unsupported(extension, `${label} audio`);
  if (kind === 'video') return unsupported(extension, `${label} video`);
  if (kind === 'image') return unreadable(`looks like ${withArticle(label)} image, not audio`);
  if (extension === 'pdf') return unreadable('looks like a PDF document, not audio');
  return unreadable(`looks like ${withArticle(label)} file, not audio`);
}

/** Control characters other than tab, line breaks, form feed and escape: a sign of binary data. */
function hasBinaryControlCharacters(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 && !(code >= 0x09 && code <= 0x0d) && code !== 0x1b) return true;
  }
  return false;
}

/** Text, HTML or XML: common when a web page or an error response was saved in place of a recording. */
function detectText(bytes: Uint8Array): Detection | undefined {
  // A multi-byte character may be cut by the end of the first read.
  const sample = bytes.subarray(0, Math.max(0, bytes.length - 3));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sample.length > 0 ? sample : bytes);
  } catch {
    return undefined;
  }
  if (hasBinaryControlCharacters(text)) return undefined;
  const start = text.trimStart().slice(0, 1024).toLowerCase();
  if (start.startsWith('<!doctype html') || start.includes('<html')) {
    return unreadable('looks like an HTML page, not audio');
  }
  if (start.startsWith('<?xml')) return unreadable('looks like an XML document, not audio');
  return unreadable('looks like text, not audio');
}

/** What follows one or more ID3v2 tags (an MP3 normally; some FLAC and AAC files carry them too). */
async function detectAfterId3(prefix: Uint8Array, size: number, read: RangeReader): Promise<Detection> {
  let windowStart = 0;
  let window = prefix;
  let offset = 0;
  for (let tag = 0; tag < MAXIMUM_ID3_TAGS && latin1(window, offset - windowStart, 3) === 'ID3'; tag++) {
    const header = window.subarray(offset - windowStart, offset - windowStart + 10);
    const sizeBytes = [...header.subarray(6, 10)];
    if (header.length < 10 || sizeBytes.some((byte) => byte >= 0x80)) {
      return unreadable('ID3 tag header is corrupt', 'mp3');
    }
    // Sync-safe integer (7 bits per byte); a footer adds another 10 bytes.
    const tagSize = sizeBytes.reduce((total, byte) => total * 128 + byte, 0);
    offset += 10 + tagSize + ((header[5] ?? 0) & 0x10 ? 10 : 0);
    if (offset >= size) {
      return unreadable('holds only an ID3 tag (title, artist, cover art) and no audio', 'mp3');
    }
    if (offset + AFTER_TAG_BYTES > windowStart + window.length && windowStart + window.length < size) {
      window = await read(offset, offset + AFTER_TAG_BYTES);
      windowStart = offset;
    }
  }
  const start = offset - windowStart;
  const direct = mpegAt(window, start, offset);
  if (direct) return direct;
  if (latin1(window, start, 4) === 'fLaC') return unsupported('flac', 'FLAC audio');
  if (isAdtsStream(window, start)) return unsupported('aac', 'raw AAC (ADTS) audio');
  // Some taggers leave padding or junk between the tag and the first frame.
  const later = findMpegStream(window, start, window.length, MINIMUM_FRAMES);
  const afterJunk = later === undefined ? undefined : mpegDetection(window, later, windowStart + later);
  return afterJunk ?? unreadable('has an ID3 tag but no MP3 audio after it', 'mp3');
}

/**
 * Detects the container from `prefix` (the first read, at most 64 KiB). Only a file that starts with an
 * ID3v2 tag larger than the prefix costs one more small read, just past the tag.
 */
export async function detectContainer(
  prefix: Uint8Array,
  size: number,
  read: RangeReader,
): Promise<Detection> {
  if (latin1(prefix, 0, 3) === 'ID3') return detectAfterId3(prefix, size, read);
  const byMagic = detectByMagic(prefix);
  if (byMagic) return byMagic;
  const mpeg = mpegAt(prefix, 0, 0);
  if (mpeg) return mpeg;
  if (isAdtsStream(prefix, 0)) return unsupported('aac', 'raw AAC (ADTS) audio');
  const bySignature = detectBySignature(prefix);
  if (bySignature) return bySignature;
  // MP3 after leading junk (a damaged start, or bytes a tool prepended).
  const later = findMpegStream(prefix, 0, prefix.length, MINIMUM_FRAMES);
  const afterJunk = later === undefined ? undefined : mpegDetection(prefix, later, later);
  return afterJunk ?? detectText(prefix) ?? unreadable('is not in any audio format we recognise');
}
