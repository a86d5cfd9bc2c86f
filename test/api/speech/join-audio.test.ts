import { describe, expect, it } from 'vitest';
import { AudioJoinError, joinMp3, joinWav, wavDurationSec } from '../../../functions/api/speech/join-audio';
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
  text,
} from './audio-parts';

describe('Function: joinWav', () => {
  it('joins parts into one canonical WAV as long as all of them together', async () => {
    const parts = [speechWav(0.5, 24_000, 1), speechWav(1.25, 24_000, 2), speechWav(0.75, 24_000, 3)];

    const joined = joinWav(parts);

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
    expect(wavDurationSec(joined)).toBe(2.5);
    const format = await metadata(joined, 'audio/wav');
    expect(format.container).toBe('WAVE');
    expect(format.numberOfSamples).toBe(60_000);
    expect(format.duration).toBeCloseTo(2.5, 6);
  });

  it('copies the samples of every part in order, byte for byte', () => {
    const parts = [speechWav(0.2, 16_000, 4), speechWav(0.3, 16_000, 5)];
    expect(samplesOf(joinWav(parts))).toEqual(concat(...parts.map(samplesOf)));
  });

  it('rewrites a single part into a canonical header without its LIST chunks', async () => {
    const samples = samplesOf(speechWav(0.4));
    const part = riff([
      chunk('fmt ', formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16 })),
      listChunk(),
      chunk('data', samples),
      listChunk(),
    ]);

    const joined = joinWav([part]);

    expect(joined.length).toBe(44 + samples.length);
    expect(header(joined).dataSize).toBe(samples.length);
    expect(samplesOf(joined)).toEqual(samples);
    expect((await metadata(joined, 'audio/wav')).duration).toBeCloseTo(0.4, 6);
  });

  it('reads streamed parts, whose sizes are placeholders, up to their end', async () => {
    const parts = [speechWav(0.5, 24_000, 6), speechWav(0.25, 24_000, 7), speechWav(0.25, 24_000, 8)];
    const streamedParts = [
      streamed(parts[0] ?? new Uint8Array(), 0xffffffff),
      streamed(parts[1] ?? new Uint8Array(), 0),
      parts[2] ?? new Uint8Array(),
    ];
    expect(wavDurationSec(streamedParts[0] ?? new Uint8Array())).toBe(0.5);

    const joined = joinWav(streamedParts);

    expect(samplesOf(joined)).toEqual(concat(...parts.map(samplesOf)));
    expect((await metadata(joined, 'audio/wav')).duration).toBeCloseTo(1, 6);
  });

  it('reads a part streamed with a header written for no audio (RIFF size 36, data size 0) up to its end', () => {
    const samples = samplesOf(speechWav(0.25));
    const part = riff(
      [
        chunk('fmt ', formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16 })),
        concat(ascii('data'), new Uint8Array(4), samples),
      ],
      36,
    );
    expect(samplesOf(joinWav([part]))).toEqual(samples);
  });

  it('takes an empty data chunk followed by a LIST chunk as no audio when the RIFF size covers both', () => {
    const format = formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16 });
    const empty = riff([chunk('fmt ', format), chunk('data', new Uint8Array(0)), listChunk()]);
    const speech = speechWav(0.5);

    const joined = joinWav([speech, empty, speech]);

    expect(samplesOf(joined)).toEqual(concat(samplesOf(speech), samplesOf(speech)));
    expect(wavDurationSec(empty)).toBe(0);
  });

  it('takes no more audio than a cut-off part holds, and only whole sample frames of it', () => {
    const stereo = formatBody({ channels: 2, sampleRate: 8_000, bitsPerSample: 16 });
    const samples = Uint8Array.from({ length: 400 }, (_, index) => index % 251);
    // Claims 1,000 bytes, holds 402: the last 2 bytes are half a stereo frame.
    const cutOff = riff([
      chunk('fmt ', stereo),
      concat(ascii('data'), new Uint8Array([0xe8, 0x03, 0, 0]), samples, new Uint8Array([7, 7])),
    ]);
    const next = riff([chunk('fmt ', stereo), chunk('data', samples)]);

    const joined = joinWav([cutOff, next]);

    // The next part's left channel still lands on left-channel positions.
    expect(samplesOf(joined)).toEqual(concat(samples, samples));
    expect(wavDurationSec(joined)).toBe(200 / 8_000);
  });

  it('pads an odd-sized data chunk to an even length, as RIFF requires', async () => {
    const eightBit = formatBody({ channels: 1, sampleRate: 8_000, bitsPerSample: 8 });
    const part = (length: number) =>
      riff([chunk('fmt ', eightBit), chunk('data', new Uint8Array(length).fill(0x80))]);

    const joined = joinWav([part(1_001), part(2_000)]);

    expect(header(joined).dataSize).toBe(3_001);
    expect(joined.length).toBe(44 + 3_002);
    expect(header(joined).riffSize).toBe(joined.length - 8);
    expect((await metadata(joined, 'audio/wav')).numberOfSamples).toBe(3_001);
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
    const part = riff([chunk('fmt ', extensible), chunk('data', samples)]);

    const joined = joinWav([part, part]);

    expect(header(joined).fmtSize).toBe(40);
    expect(joined.subarray(20, 60)).toEqual(extensible);
    expect(text(joined, 60, 4)).toBe('data');
    expect(joined.length).toBe(68 + 2 * samples.length);
    expect(wavDurationSec(joined)).toBe(1);
    expect((await metadata(joined, 'audio/wav')).duration).toBeCloseTo(1, 6);
  });

  it.each([
    [
      'sample rate',
      speechWav(0.1, 44_100),
      /part 1 is 24000 Hz, 1 channel, 16-bit PCM, part 2 is 44100 Hz, 1 channel, 16-bit PCM/,
    ],
    [
      'channel count',
      encodeWav(voicedSignal(0.1, 24_000), 24_000, 2),
      /part 2 is 24000 Hz, 2 channels, 16-bit PCM/,
    ],
    [
      'sample size',
      riff([
        chunk('fmt ', formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 8 })),
        chunk('data', new Uint8Array(10)),
      ]),
      /part 2 is 24000 Hz, 1 channel, 8-bit PCM/,
    ],
  ])('rejects parts whose %s differs from the first part', (_, odd, message) => {
    const join = () => joinWav([speechWav(0.1), odd, speechWav(0.1)]);
    expect(join).toThrow(AudioJoinError);
    expect(join).toThrow(message);
  });

  it('rejects a part that is not a WAV file, naming it', () => {
    expect(() => joinWav([speechWav(0.1), speechMp3(0.1)])).toThrow('WAV part 2 is not a RIFF/WAVE file');
  });

  it('rejects compressed WAV, whose blocks cannot be joined by copying', () => {
    const adpcm = riff([
      chunk('fmt ', formatBody({ channels: 1, sampleRate: 8_000, bitsPerSample: 4, tag: 0x11 })),
      chunk('data', new Uint8Array(256)),
    ]);
    expect(() => joinWav([adpcm])).toThrow(
      /WAV format 0x0011; only PCM, float, A-law and mu-law WAV can be joined/,
    );
  });

  it('rejects a part without a data chunk and a call without parts', () => {
    const noData = riff([chunk('fmt ', formatBody({ channels: 1, sampleRate: 8_000, bitsPerSample: 16 }))]);
    expect(() => joinWav([noData])).toThrow('WAV part 1 holds no audio data (no data chunk)');
    expect(() => joinWav([])).toThrow(AudioJoinError);
  });
});

describe('Function: wavDurationSec', () => {
  it('measures whole sample frames over the sample rate', () => {
    expect(wavDurationSec(encodeWav(voicedSignal(1.5, 48_000), 48_000, 2))).toBe(0.75);
    expect(wavDurationSec(speechWav(1.5, 48_000))).toBe(1.5);
  });
});

describe('Function: joinMp3', () => {
  const frameSeconds = 576 / 24_000;

  it('joins plain lamejs parts into one stream as long as all of them together', async () => {
    const parts = [speechMp3(0.5, 24_000, 1), speechMp3(1.2, 24_000, 2), speechMp3(0.8, 24_000, 3)];
    const partSeconds = await Promise.all(
      parts.map(async (part) => (await metadata(part, 'audio/mpeg')).duration ?? 0),
    );

    const joined = joinMp3(parts);

    expect(joined).toEqual(concat(...parts));
    const format = await metadata(joined, 'audio/mpeg');
    expect(format.container).toBe('MPEG');
    expect(format.sampleRate).toBe(24_000);
    const sum = partSeconds.reduce((total, seconds) => total + seconds, 0);
    expect(Math.abs((format.duration ?? 0) - sum)).toBeLessThanOrEqual(parts.length * frameSeconds);
    expect(format.duration).toBeGreaterThan(2.5);
  });

  it('drops ID3v2 tags, Xing/Info frames and trailing APE and ID3v1 tags, keeping every audio frame', async () => {
    const audio = [speechMp3(0.6, 24_000, 4), speechMp3(0.9, 24_000, 5), speechMp3(0.3, 24_000, 6)];
    const [first, second, third] = audio.map((part) => part);
    if (!first || !second || !third) throw new Error('three parts');
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
    // Without the join's cleaning, a player believes the first part's stale Xing count.
    expect((await metadata(tagged[0] ?? new Uint8Array(), 'audio/mpeg')).duration).toBeGreaterThan(200);

    const joined = joinMp3(tagged);

    expect(joined).toEqual(concat(first, second, third));
    expect(frameCount(joined)).toBe(audio.reduce((sum, part) => sum + frameCount(part), 0));
    const format = await metadata(joined, 'audio/mpeg');
    expect(format.tagTypes).toEqual([]);
    const partSeconds = await Promise.all(
      audio.map(async (part) => (await metadata(part, 'audio/mpeg')).duration ?? 0),
    );
    const sum = partSeconds.reduce((total, seconds) => total + seconds, 0);
    expect(Math.abs((format.duration ?? 0) - sum)).toBeLessThanOrEqual(audio.length * frameSeconds);
  });

  it('skips an ID3v2 tag by its size, even when the tag holds bytes that look like MPEG frames', () => {
    // A cover picture could be anything; here it is a whole MP3 at another sample rate.
    const decoy = speechMp3(0.3, 16_000, 7);
    const audio = speechMp3(0.3, 24_000, 8);
    expect(joinMp3([concat(id3v2(decoy), audio)])).toEqual(audio);
  });

  it("drops a frame cut off at the end of a part, which would swallow the next part's first frame", () => {
    const first = speechMp3(0.4, 24_000, 9);
    const second = speechMp3(0.4, 24_000, 10);
    const cutOff = first.subarray(0, first.length - 50);

    const joined = joinMp3([cutOff, second]);

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
    expect(joinMp3([withJunk])).toEqual(audio);
  });

  it('rejects parts whose sample rate differs from the first part', () => {
    const join = () => joinMp3([speechMp3(0.2, 24_000), speechMp3(0.2, 16_000)]);
    expect(join).toThrow(AudioJoinError);
    expect(join).toThrow(
      'part 1 is MPEG 2 Layer 3, 24000 Hz, mono, part 2 is MPEG 2 Layer 3, 16000 Hz, mono',
    );
  });

  it('rejects a part that holds no MPEG audio, naming it', () => {
    expect(() => joinMp3([speechMp3(0.2), speechWav(0.2)])).toThrow('MP3 part 2 holds no MPEG audio frames');
    expect(() => joinMp3([speechMp3(0.2), concat(id3v2(), id3v1())])).toThrow(
      'MP3 part 2 holds no MPEG audio frames',
    );
    expect(() => joinMp3([])).toThrow(AudioJoinError);
  });
});
