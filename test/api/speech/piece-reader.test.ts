import { describe, expect, it } from 'vitest';
import { AudioJoinError, wavHeader } from '../../../functions/api/speech/join-audio';
import { type PieceLayout, PieceReader } from '../../../functions/api/speech/piece-reader';
import { parseMpegFrameHeader } from '../../../functions/shared/audio/mpeg';
import { encodeWav, voicedSignal } from '../../../simulators/audio';
import { concat } from '../../audio/helpers';
import {
  apeTag,
  ascii,
  chunk,
  formatBody,
  frameCount,
  header,
  id3v1,
  id3v2,
  informationFrame,
  listChunk,
  metadata,
  riff,
  samplesOf,
  speechMp3,
  speechWav,
  streamed,
  wavSeconds,
} from './audio-parts';

interface Join {
  readonly layout: PieceLayout;
  readonly payload: Uint8Array;
}

/**
 * What the streamed join hands on for `pieces`, each read by a PieceReader of its own as speech-production
 * reads it (every piece checked against the first piece's layout), its bytes fed `step` at a time.
 */
function readPieces(format: 'wav' | 'mp3', pieces: readonly Uint8Array[], step?: number): Join {
  let layout: PieceLayout | undefined;
  const out: Uint8Array[] = [];
  pieces.forEach((bytes, index) => {
    const reader = new PieceReader(format, `piece ${index + 1}`, layout);
    const size = step ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += size) {
      out.push(...reader.push(bytes.subarray(offset, offset + size)));
    }
    reader.end();
    layout ??= reader.layout;
  });
  if (!layout) throw new Error('no pieces');
  return { layout, payload: concat(...out) };
}

/** The join of `pieces` fed byte by byte and whole, which must agree. */
function join(format: 'wav' | 'mp3', pieces: readonly Uint8Array[]): Join {
  const whole = readPieces(format, pieces);
  expect(readPieces(format, pieces, 1).payload).toEqual(whole.payload);
  return whole;
}

/** The error the join of `pieces` stops with, fed byte by byte and whole (the same either way). */
function joinError(format: 'wav' | 'mp3', pieces: readonly Uint8Array[]): string {
  const messages = [undefined, 1].map((step) => {
    try {
      readPieces(format, pieces, step);
    } catch (error) {
      expect(error).toBeInstanceOf(AudioJoinError);
      return (error as Error).message;
    }
    throw new Error('the join did not fail');
  });
  expect(messages[1]).toBe(messages[0]);
  return messages[0] ?? '';
}

/** The WAV file a join makes, as speech-production stores a piece: canonical header, samples, pad byte. */
function wavFile({ layout, payload }: Join): Uint8Array {
  if (layout.format !== 'wav') throw new Error('not WAV');
  return concat(wavHeader(layout.formatBody, payload.length), payload, new Uint8Array(payload.length % 2));
}

const mono16 = formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16 });

describe('Class: PieceReader, WAV (the streamed join)', () => {
  it('joins pieces into one canonical WAV as long as all of them together', async () => {
    const pieces = [speechWav(0.5, 24_000, 1), speechWav(1.25, 24_000, 2), speechWav(0.75, 24_000, 3)];

    const joined = wavFile(join('wav', pieces));

    expect(header(joined)).toEqual({
      riff: 'RIFF',
      riffSize: joined.length - 8,
      wave: 'WAVE',
      fmt: 'fmt ',
      fmtSize: 16,
      formatTag: 1,
      channels: 1,
      sampleRate: 24_000,
      byteRate: 48_000,
      blockAlign: 2,
      bitsPerSample: 16,
      data: 'data',
      dataSize: joined.length - 44,
    });
    expect(wavSeconds(joined)).toBe(2.5);
    const format = await metadata(joined, 'audio/wav');
    expect(format.container).toBe('WAVE');
    expect(format.numberOfSamples).toBe(60_000);
    expect(format.duration).toBeCloseTo(2.5, 6);
  });

  it('hands on the samples of every piece in order, byte for byte', () => {
    const pieces = [speechWav(0.2, 16_000, 4), speechWav(0.3, 16_000, 5)];
    expect(join('wav', pieces).payload).toEqual(concat(...pieces.map(samplesOf)));
  });

  it('drops LIST chunks before and after the samples', () => {
    const samples = samplesOf(speechWav(0.4));
    const piece = riff([chunk('fmt ', mono16), listChunk(), chunk('data', samples), listChunk()]);
    expect(join('wav', [piece, piece]).payload).toEqual(concat(samples, samples));
  });

  it('reads streamed pieces, whose sizes are placeholders, up to their end', () => {
    const pieces = [speechWav(0.5, 24_000, 6), speechWav(0.25, 24_000, 7), speechWav(0.25, 24_000, 8)];
    const streamedPieces = [
      streamed(pieces[0] ?? new Uint8Array(), 0xffffffff),
      streamed(pieces[1] ?? new Uint8Array(), 0),
      pieces[2] ?? new Uint8Array(),
    ];
    expect(join('wav', streamedPieces).payload).toEqual(concat(...pieces.map(samplesOf)));
  });

  it('reads a piece streamed with a header written for no audio (RIFF size 36, data size 0) up to its end', () => {
    const samples = samplesOf(speechWav(0.25));
    const piece = riff([chunk('fmt ', mono16), concat(ascii('data'), new Uint8Array(4), samples)], 36);
    expect(join('wav', [piece]).payload).toEqual(samples);
  });

  it('takes an empty data chunk followed by a LIST chunk as no audio when the RIFF size covers both', () => {
    const empty = riff([chunk('fmt ', mono16), chunk('data', new Uint8Array(0)), listChunk()]);
    const speech = speechWav(0.5);
    expect(join('wav', [empty]).payload).toEqual(new Uint8Array(0));
    expect(join('wav', [speech, empty, speech]).payload).toEqual(
      concat(samplesOf(speech), samplesOf(speech)),
    );
  });

  it('takes no more audio than a cut-off piece holds, and only whole sample frames of it', () => {
    const stereo = formatBody({ channels: 2, sampleRate: 8_000, bitsPerSample: 16 });
    const samples = Uint8Array.from({ length: 400 }, (_, index) => index % 251);
    // Claims 1,000 bytes, holds 402: the last 2 bytes are half a stereo frame.
    const cutOff = riff([
      chunk('fmt ', stereo),
      concat(ascii('data'), new Uint8Array([0xe8, 0x03, 0, 0]), samples, new Uint8Array([7, 7])),
    ]);
    const next = riff([chunk('fmt ', stereo), chunk('data', samples)]);

    const joined = join('wav', [cutOff, next]);

    // The next piece's left channel still lands on left-channel positions.
    expect(joined.payload).toEqual(concat(samples, samples));
    expect(wavSeconds(wavFile(joined))).toBe(200 / 8_000);
  });

  // The pad byte of an odd-sized data chunk is speech-production's to write (after the last piece, or in a
  // stored piece); the reader's part is to hand on the odd count and leave each piece's own pad byte behind.
  it("hands on an odd number of samples without the piece's pad byte", async () => {
    const eightBit = formatBody({ channels: 1, sampleRate: 8_000, bitsPerSample: 8 });
    const piece = (length: number) =>
      riff([chunk('fmt ', eightBit), chunk('data', new Uint8Array(length).fill(0x80))]);

    const joined = join('wav', [piece(1_001), piece(2_000)]);

    expect(joined.payload).toEqual(new Uint8Array(3_001).fill(0x80));
    const file = wavFile(joined);
    expect(header(file).dataSize).toBe(3_001);
    expect(file.length).toBe(44 + 3_002);
    expect(header(file).riffSize).toBe(file.length - 8);
    expect((await metadata(file, 'audio/wav')).numberOfSamples).toBe(3_001);
  });

  it('keeps a WAVE_FORMAT_EXTENSIBLE format chunk as written', async () => {
    const extensible = new Uint8Array(40);
    extensible.set(formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16, tag: 0xfffe }), 0);
    const view = new DataView(extensible.buffer);
    view.setUint16(16, 22, true);
    view.setUint16(18, 16, true);
    view.setUint32(20, 0x4, true);
    // KSDATAFORMAT_SUBTYPE_PCM: 00000001-0000-0010-8000-00aa00389b71.
    extensible.set([1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71], 24);
    const samples = samplesOf(speechWav(0.5));
    const piece = riff([chunk('fmt ', extensible), chunk('data', samples)]);

    const joined = join('wav', [piece, piece]);

    expect(joined.layout).toMatchObject({
      formatBody: extensible,
      description: '24000 Hz, 1 channel, 16-bit PCM',
    });
    expect(joined.payload).toEqual(concat(samples, samples));
    const file = wavFile(joined);
    expect(header(file).fmtSize).toBe(40);
    expect(file.length).toBe(68 + 2 * samples.length);
    expect(wavSeconds(file)).toBe(1);
    expect((await metadata(file, 'audio/wav')).duration).toBeCloseTo(1, 6);
  });

  it.each([
    [
      'sample rate',
      speechWav(0.1, 44_100),
      'Cannot join speech of different formats: the first piece is 24000 Hz, 1 channel, 16-bit PCM, piece 2 is 44100 Hz, 1 channel, 16-bit PCM',
    ],
    [
      'channel count',
      encodeWav(voicedSignal(0.1, 24_000), 24_000, 2),
      'piece 2 is 24000 Hz, 2 channels, 16-bit PCM',
    ],
    [
      'sample size',
      riff([
        chunk('fmt ', formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 8 })),
        chunk('data', new Uint8Array(10)),
      ]),
      'piece 2 is 24000 Hz, 1 channel, 8-bit PCM',
    ],
  ])('rejects pieces whose %s differs from the first piece', (_, odd, message) => {
    expect(joinError('wav', [speechWav(0.1), odd, speechWav(0.1)])).toContain(message);
  });

  it('rejects a piece that is not a WAV file, naming it', () => {
    expect(joinError('wav', [speechWav(0.1), speechMp3(0.1)])).toBe('piece 2 is not a RIFF/WAVE file');
  });

  it('rejects compressed WAV, whose blocks cannot be joined by copying', () => {
    const adpcm = riff([
      chunk('fmt ', formatBody({ channels: 1, sampleRate: 8_000, bitsPerSample: 4, tag: 0x11 })),
      chunk('data', new Uint8Array(256)),
    ]);
    expect(joinError('wav', [adpcm])).toBe(
      'piece 1 is WAV format 0x0011; only PCM, float, A-law and mu-law WAV can be joined',
    );
  });

  it('rejects a piece without a data chunk', () => {
    const noData = riff([chunk('fmt ', formatBody({ channels: 1, sampleRate: 8_000, bitsPerSample: 16 }))]);
    expect(joinError('wav', [speechWav(0.1), noData])).toBe(
      'piece 2 is not a complete WAV file (no data chunk)',
    );
  });
});

describe('Class: PieceReader, MP3 (the streamed join)', () => {
  const frameSeconds = 576 / 24_000;
  const seconds = async (mp3: Uint8Array) => (await metadata(mp3, 'audio/mpeg')).duration ?? 0;

  it('joins plain lamejs pieces into one stream as long as all of them together', async () => {
    const pieces = [speechMp3(0.5, 24_000, 1), speechMp3(1.2, 24_000, 2), speechMp3(0.8, 24_000, 3)];

    const joined = join('mp3', pieces).payload;

    expect(joined).toEqual(concat(...pieces));
    const format = await metadata(joined, 'audio/mpeg');
    expect(format.container).toBe('MPEG');
    expect(format.sampleRate).toBe(24_000);
    const sum = (await Promise.all(pieces.map(seconds))).reduce((total, piece) => total + piece, 0);
    expect(Math.abs((format.duration ?? 0) - sum)).toBeLessThanOrEqual(pieces.length * frameSeconds);
    expect(format.duration).toBeGreaterThan(2.5);
  });

  it('drops ID3v2 tags, Xing/Info frames and trailing APE and ID3v1 tags, keeping every audio frame', async () => {
    const audio = [speechMp3(0.6, 24_000, 4), speechMp3(0.9, 24_000, 5), speechMp3(0.3, 24_000, 6)];
    const [first, second, third] = audio;
    if (!first || !second || !third) throw new Error('three pieces');
    const tagged = [
      concat(id3v2(), informationFrame(first, 'Info', 9_999), first, id3v1()),
      concat(
        id3v2(ascii('x'.repeat(300)), { footer: true }),
        id3v2(),
        informationFrame(second, 'Xing', 1),
        second,
        apeTag(),
        id3v1(),
      ),
      // Cover art in the APE tag that is itself MP3 of the same format: only the tag's size tells it apart.
      concat(informationFrame(third, 'Xing', 50_000), third, apeTag(speechMp3(0.2, 24_000, 12))),
    ];
    // Without the join's cleaning, a player believes the first piece's stale Xing count.
    expect(await seconds(tagged[0] ?? new Uint8Array())).toBeGreaterThan(200);

    const joined = join('mp3', tagged).payload;

    expect(joined).toEqual(concat(first, second, third));
    expect(frameCount(joined)).toBe(audio.reduce((sum, piece) => sum + frameCount(piece), 0));
    const format = await metadata(joined, 'audio/mpeg');
    expect(format.tagTypes).toEqual([]);
    const sum = (await Promise.all(audio.map(seconds))).reduce((total, piece) => total + piece, 0);
    expect(Math.abs((format.duration ?? 0) - sum)).toBeLessThanOrEqual(audio.length * frameSeconds);
  });

  it('skips an ID3v2 tag by its size, even when the tag holds bytes that look like MPEG frames', () => {
    // A cover picture could be anything; here it is a whole MP3 at another sample rate.
    const decoy = speechMp3(0.3, 16_000, 7);
    const audio = speechMp3(0.3, 24_000, 8);
    expect(join('mp3', [concat(id3v2(decoy), audio)]).payload).toEqual(audio);
  });

  it("drops a frame cut off at the end of a piece, which would swallow the next piece's first frame", () => {
    const first = speechMp3(0.4, 24_000, 9);
    const second = speechMp3(0.4, 24_000, 10);

    const joined = join('mp3', [first.subarray(0, first.length - 50), second]).payload;

    expect(frameCount(joined)).toBe(frameCount(first) - 1 + frameCount(second));
    expect(joined.subarray(joined.length - second.length)).toEqual(second);
  });

  it('skips junk between frames and keeps the frames on either side', () => {
    const audio = speechMp3(0.5, 24_000, 11);
    const firstFrame = parseMpegFrameHeader(audio, 0)?.frameLength ?? 0;
    const withJunk = concat(
      audio.subarray(0, firstFrame),
      ascii('junk that is not audio'),
      audio.subarray(firstFrame),
    );
    expect(join('mp3', [withJunk]).payload).toEqual(audio);
  });

  it('rejects pieces whose sample rate differs from the first piece', () => {
    expect(joinError('mp3', [speechMp3(0.2, 24_000), speechMp3(0.2, 16_000)])).toBe(
      'Cannot join speech of different formats: the first piece is MPEG 2 Layer 3, 24000 Hz, mono, piece 2 is MPEG 2 Layer 3, 16000 Hz, mono',
    );
  });

  it('rejects a piece that holds no MPEG audio, naming it', () => {
    expect(joinError('mp3', [speechMp3(0.2), speechWav(0.2)])).toMatch(/^piece 2 holds no MPEG audio frames/);
    expect(joinError('mp3', [speechMp3(0.2), concat(id3v2(), id3v1())])).toMatch(
      /^piece 2 holds no MPEG audio frames/,
    );
    expect(joinError('mp3', [speechMp3(0.2), id3v2()])).toBe('piece 2 holds no MPEG audio frames');
  });
});
