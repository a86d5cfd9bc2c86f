// The formats of the join. How pieces are joined (samples and frames handed on, tags dropped, errors) is
// checked through the production path, PieceReader, in piece-reader.test.ts.
import { describe, expect, it } from 'vitest';
import {
  AudioJoinError,
  describeWav,
  isInformationFrame,
  wavFormat,
  wavHeader,
} from '../../../functions/api/speech/join-audio';
import { parseMpegFrameHeader } from '../../../functions/shared/audio/mpeg';
import { concat } from '../../audio/helpers';
import { formatBody, frameCount, header, informationFrame, listChunk, speechMp3, text } from './audio-parts';

const mono16 = formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16 });

describe('Function: wavHeader', () => {
  it('writes a canonical 44-byte header whose sizes count the samples and their pad byte', () => {
    expect(header(concat(wavHeader(mono16, 1_000), new Uint8Array(1_000)))).toMatchObject({
      riffSize: 36 + 1_000,
      fmtSize: 16,
      dataSize: 1_000,
    });
    expect(header(wavHeader(mono16, 1_001))).toMatchObject({ riffSize: 36 + 1_002, dataSize: 1_001 });
  });

  it('writes the placeholder sizes of a stream of unknown length', () => {
    expect(header(wavHeader(mono16))).toMatchObject({ riffSize: 0xffffffff, dataSize: 0xffffffff });
  });

  it('puts the chunks given between the format and the data chunk', () => {
    const list = listChunk();
    const head = wavHeader(mono16, 10, list);
    expect(head.length).toBe(44 + list.length);
    expect(head.subarray(36, 36 + list.length)).toEqual(list);
    expect(text(head, 36 + list.length, 4)).toBe('data');
    expect(new DataView(head.buffer).getUint32(4, true)).toBe(head.length - 8 + 10);
  });

  it('refuses a file beyond the 4 GiB RIFF limit', () => {
    expect(() => wavHeader(mono16, 0xffffffff)).toThrow(AudioJoinError);
  });
});

describe('Function: wavFormat', () => {
  it('reads what the format chunk says', () => {
    const format = wavFormat(mono16, 'piece');
    expect(format).toMatchObject({ formatTag: 1, channels: 1, sampleRate: 24_000, bitsPerSample: 16 });
    expect(describeWav(format)).toBe('24000 Hz, 1 channel, 16-bit PCM');
  });

  it('rejects a format chunk too short to read and a corrupt one', () => {
    expect(() => wavFormat(mono16.subarray(0, 10), 'piece 3')).toThrow(
      'piece 3 has a format (fmt) chunk too short to read',
    );
    const silentChannels = formatBody({ channels: 0, sampleRate: 24_000, bitsPerSample: 16 });
    expect(() => wavFormat(silentChannels, 'piece 3')).toThrow('piece 3 has a corrupt format');
  });
});

describe('Function: isInformationFrame', () => {
  it('tells a Xing/Info frame from an audio frame', () => {
    const mp3 = speechMp3(0.2);
    const xing = informationFrame(mp3, 'Xing', frameCount(mp3));
    const audioHeader = parseMpegFrameHeader(mp3, 0);
    const xingHeader = parseMpegFrameHeader(xing, 0);
    if (!audioHeader || !xingHeader) throw new Error('no frame');
    expect(isInformationFrame(xing, 0, xingHeader)).toBe(true);
    expect(isInformationFrame(mp3, 0, audioHeader)).toBe(false);
  });
});
