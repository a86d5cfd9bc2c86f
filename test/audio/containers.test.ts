import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import type { AudioProbe } from '../../functions/shared/audio/types';
import { concat, fixture, MANIFEST, randomBytes } from './helpers';

/**
 * The MP4 and WebM facts and the "what is this file" names come from our own parsers (no third-party
 * parser): these pin the facts ffprobe gives no fixture for (codec names, damage in words, signatures).
 */

const AUDIO_SOURCES = join(import.meta.dirname, '..', '..', 'functions', 'shared', 'audio');

async function probeBytes(bytes: Uint8Array): Promise<AudioProbe> {
  return probeAudio(bufferByteSource(bytes));
}

function expectAudio(probe: AudioProbe): Extract<AudioProbe, { kind: 'audio' }> {
  if (probe.kind !== 'audio') throw new Error(`expected audio, got ${JSON.stringify(probe)}`);
  return probe;
}

const ascii = (text: string) => [...text].map((character) => character.charCodeAt(0));

function find(bytes: Uint8Array, pattern: readonly number[], from = 0): number {
  for (let index = from; index + pattern.length <= bytes.length; index++) {
    if (pattern.every((value, offset) => bytes[index + offset] === value)) return index;
  }
  throw new Error(`pattern ${pattern.join(',')} not found`);
}

/** A copy of a fixture with `replacement` written over the first `pattern` at or after `after`'s. */
function patched(name: string, pattern: readonly number[], replacement: readonly number[], after?: string) {
  const bytes = fixture(name).slice();
  const from = after === undefined ? 0 : find(bytes, ascii(after));
  bytes.set(replacement, find(bytes, pattern, from));
  return bytes;
}

function setUint32At(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offset, value);
  return bytes;
}

describe('MP4: facts from our own box walk', () => {
  it('names AAC by its decoder configuration: plain AAC LC, HE-AAC, and MP3 carried in MP4', async () => {
    // speech.m4a's AudioSpecificConfig is 0x13 0x88: object type 2 (LC), 22,050 Hz, mono.
    const heAac = patched('speech.m4a', [0x13, 0x88], [0x2b, 0x88], 'esds');
    // objectTypeIndication 0x40 (MPEG-4 audio) followed by stream type 0x15 (audio); 0x6B is MPEG-1 audio.
    const mp3InMp4 = patched('speech.m4a', [0x40, 0x15], [0x6b, 0x15], 'esds');

    expect(expectAudio(await probeBytes(fixture('speech.m4a'))).codec).toBe('MPEG-4/AAC');
    expect(expectAudio(await probeBytes(heAac)).codec).toBe('MPEG-4/HE-AAC');
    expect(expectAudio(await probeBytes(mp3InMp4)).codec).toBe('MPEG-1 layer 3');
  });

  it('names other codecs by their sample entry, keeping rate and channels', async () => {
    const alac = patched('speech.m4a', ascii('mp4a'), ascii('alac'), 'stsd');
    const unknown = patched('speech.m4a', ascii('mp4a'), ascii('zzzz'), 'stsd');

    expect(await probeBytes(alac)).toMatchObject({ kind: 'audio', codec: 'ALAC', sampleRate: 22050 });
    expect(await probeBytes(unknown)).toMatchObject({ kind: 'audio', codec: '<zzzz>', channels: 2 });
  });

  it('takes the shorter of the media header length and the samples present (as before)', async () => {
    const bytes = fixture('speech.m4a').slice();
    const mediaHeader = find(bytes, ascii('mdhd'));
    const timescale = new DataView(bytes.buffer).getUint32(mediaHeader + 16);
    // Version 0 mdhd: version/flags, creation, modification, timescale, duration.
    setUint32At(bytes, mediaHeader + 20, timescale * 3);

    const probe = expectAudio(await probeBytes(bytes));

    expect(probe.durationSec).toBeCloseTo(3, 6);
  });

  it('measures a fragmented MP4 cut off mid-way by the fragments whose samples are present', async () => {
    const whole = fixture('speech-fragmented.m4a');
    const full = MANIFEST['speech-fragmented.m4a']?.ffprobe?.durationSec ?? 0;

    const probe = expectAudio(await probeBytes(whole.subarray(0, Math.floor(whole.length * 0.6))));

    expect(probe.durationSec).toBeGreaterThan(full * 0.4);
    expect(probe.durationSec).toBeLessThan(full * 0.75);
    expect(probe).toMatchObject({ sampleRate: 22050, channels: 1, codec: 'MPEG-4/AAC' });
  });

  it('says in words which box of a damaged index is broken, never quoting control characters', async () => {
    const bytes = fixture('video-only.mp4').slice();
    setUint32At(bytes, find(bytes, ascii('trak')) - 4, 0x7fff_0000);
    const corruptType = fixture('truncated-mdat.m4a').slice();
    const stts = find(corruptType, ascii('stts'));
    setUint32At(corruptType, stts - 4, 0x7fff_0000);
    corruptType.set([0, 1, 2, 3], stts);

    expect(await probeBytes(bytes)).toEqual({
      kind: 'unreadable',
      format: 'mp4',
      reason: 'MP4 file is damaged (its trak box runs past the end of its moov box)',
    });
    expect(await probeBytes(corruptType)).toMatchObject({
      kind: 'unreadable',
      reason: 'MP4 file is damaged (a box with a corrupt type runs past the end of its stbl box)',
    });
  });
});

describe('WebM: facts from our own EBML walk', () => {
  it('names the codec from the CodecID and takes the rate from the Audio element (Opus always 48 kHz)', async () => {
    const flac = patched('speech-opus.webm', ascii('A_OPUS'), ascii('A_FLAC'));

    expect(await probeBytes(fixture('speech-opus.webm'))).toMatchObject({ codec: 'OPUS', sampleRate: 48000 });
    // The fixture's SamplingFrequency is the Opus encoder's input rate, 24 kHz.
    expect(await probeBytes(flac)).toMatchObject({
      kind: 'audio',
      codec: 'FLAC',
      sampleRate: 24000,
      channels: 1,
    });
  });

  it('reports a WebM whose track list is cut short as damaged, not as having no audio', async () => {
    const bytes = fixture('speech-opus.webm').slice();
    // The first Tracks ID is the SeekHead's pointer to it; the second is the element, with a 1-byte size.
    const tracks = find(bytes, [0x16, 0x54, 0xae, 0x6b], find(bytes, [0x16, 0x54, 0xae, 0x6b]) + 1);
    bytes[tracks + 4] = 0x87;

    expect(await probeBytes(bytes)).toEqual({
      kind: 'unreadable',
      format: 'webm',
      reason: 'WebM file is damaged (its track list is cut off or corrupt)',
    });
  });

  it('reports a WebM cut off inside its header as damaged', async () => {
    const whole = fixture('speech-opus.webm');
    const tracks = find(whole, [0x16, 0x54, 0xae, 0x6b], find(whole, [0x16, 0x54, 0xae, 0x6b]) + 1);

    expect(await probeBytes(whole.subarray(0, tracks + 20))).toMatchObject({
      kind: 'unreadable',
      reason: expect.stringMatching(/^WebM file is damaged \(/),
    });
  });
});

describe('signatures of formats we do not take', () => {
  const withTail = (head: readonly number[], seed: number) =>
    concat(Uint8Array.from(head), randomBytes(600, seed));

  it.each([
    ['a GIF', withTail(ascii('GIF89a'), 11), /looks like a GIF image, not audio/],
    ['a BMP', withTail(ascii('BM'), 12), /looks like a BMP image, not audio/],
    ['a TIFF', withTail([...ascii('II*'), 0], 13), /looks like a TIF image, not audio/],
    ['an ELF binary', withTail([0x7f, ...ascii('ELF')], 14), /looks like an ELF file, not audio/],
    ['an XML file', new TextEncoder().encode('<?xml version="1.0"?><a>b</a>'), /looks like an XML file/],
    ['a 7-Zip archive', withTail([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], 15), /looks like a 7Z file/],
    [
      'a Word document',
      withTail(
        [...ascii('PK\x03\x04'), ...new Array(22).fill(0), 19, 0, 0, 0, ...ascii('word/document.xml')],
        16,
      ),
      /looks like a DOCX file/,
    ],
  ])('names %s in the rejection', async (_what, bytes, reason) => {
    expect(await probeBytes(bytes)).toMatchObject({
      kind: 'unreadable',
      reason: expect.stringMatching(reason),
    });
  });

  it.each([
    ['MIDI', withTail(ascii('MThd'), 21), 'mid', 'MID audio'],
    ['Monkey’s Audio', withTail(ascii('MAC '), 22), 'ape', 'APE audio'],
    ['WavPack', withTail(ascii('wvpk'), 23), 'wv', 'WV audio'],
    ['Flash video', withTail([...ascii('FLV'), 1], 24), 'flv', 'FLV video'],
    ['QuickTime without ftyp', withTail([0, 0, 0, 8, ...ascii('wide')], 25), 'mov', 'MOV video'],
    ['an MPEG program stream', withTail([0, 0, 1, 0xba, 0x44], 26), 'mpg', 'MPG video'],
  ])('recognises %s as media no provider takes', async (_what, bytes, format, description) => {
    expect(await probeBytes(bytes)).toEqual({ kind: 'unsupported', format, description });
  });

  it('recognises an MPEG transport stream by its sync byte every 188 bytes', async () => {
    const bytes = randomBytes(188 * 8, 27);
    for (let packet = 0; packet < 8; packet++) bytes[packet * 188] = 0x47;

    expect(await probeBytes(bytes)).toEqual({ kind: 'unsupported', format: 'mts', description: 'MTS video' });
  });
});

describe('the audio validator', () => {
  it('imports no third-party parser; the two decoders are loaded on first use (it runs in the clone Lambda, where every byte costs cold-start time)', () => {
    const sources = readdirSync(AUDIO_SOURCES).filter((name) => name.endsWith('.ts'));
    const staticImports = sources.flatMap((name) =>
      [...readFileSync(join(AUDIO_SOURCES, name), 'utf8').matchAll(/(?:from|^import)\s+'([^']+)'/gm)].map(
        (match) => match[1] ?? '',
      ),
    );
    const dynamicImports = sources.flatMap((name) =>
      [
        ...readFileSync(join(AUDIO_SOURCES, name), 'utf8').matchAll(
          /(?<!typeof )\bimport\(\s*'([^']+)'\s*\)/g,
        ),
      ].map((match) => `${name}: ${match[1]}`),
    );

    expect(sources.length).toBeGreaterThan(5);
    // The S3 client is the byte source's (sources.ts), not a parser.
    expect(
      staticImports.filter((specifier) => !/^(\.\.?\/|node:|@aws-sdk\/client-s3$)/.test(specifier)),
    ).toEqual([]);
    expect(dynamicImports).toEqual(['decode-mpeg.ts: mpg123-decoder', 'decode-opus.ts: opus-decoder']);
  });
});
