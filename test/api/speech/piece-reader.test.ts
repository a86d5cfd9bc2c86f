import { describe, expect, it } from 'vitest';
import { joinMp3 } from '../../../functions/api/speech/join-audio';
import { PieceReader } from '../../../functions/api/speech/piece-reader';
import { concat } from '../../audio/helpers';
import {
  chunk,
  formatBody,
  frameCount,
  id3v2,
  informationFrame,
  listChunk,
  riff,
  samplesOf,
  speechMp3,
  speechWav,
  streamed,
} from './audio-parts';

/** Everything a piece reader hands on for `bytes`, fed `step` bytes at a time (as a stream arrives). */
function readPiece(format: 'wav' | 'mp3', bytes: Uint8Array, step = bytes.length): Uint8Array {
  const reader = new PieceReader(format, 'piece');
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += step) {
    out.push(...reader.push(bytes.subarray(offset, offset + step)));
  }
  reader.end();
  return concat(...out);
}

// The streaming reader must read a piece as joinWav / joinMp3 read a whole part.
describe('Class: PieceReader (the streaming side of the join)', () => {
  it('hands on the samples of a WAV, fed byte by byte or whole', () => {
    const wav = speechWav(0.1);
    expect(readPiece('wav', wav, 1)).toEqual(samplesOf(wav));
    expect(readPiece('wav', wav)).toEqual(samplesOf(wav));
  });

  it('reads a streamed WAV with placeholder sizes up to its end', () => {
    const wav = speechWav(0.1);
    expect(readPiece('wav', streamed(wav, 0xffffffff), 7)).toEqual(samplesOf(wav));
  });

  it('takes an empty data chunk followed by a LIST chunk as no audio when the RIFF size covers both', () => {
    const format = formatBody({ channels: 1, sampleRate: 24_000, bitsPerSample: 16 });
    const empty = riff([chunk('fmt ', format), chunk('data', new Uint8Array(0)), listChunk()]);
    expect(readPiece('wav', empty)).toEqual(new Uint8Array(0));
  });

  it('hands on the MPEG frames of an MP3 without its tag and Xing frame', () => {
    const mp3 = speechMp3(0.5);
    const tagged = concat(id3v2(), informationFrame(mp3, 'Xing', frameCount(mp3)), mp3);
    expect(readPiece('mp3', tagged, 13)).toEqual(joinMp3([mp3]));
  });

  it('refuses a piece of another format than the first', () => {
    const first = new PieceReader('wav', 'piece 1');
    first.push(speechWav(0.1, 24_000));
    const second = new PieceReader('wav', 'piece 2', first.layout);
    expect(() => second.push(speechWav(0.1, 16_000))).toThrow(/different formats.*piece 2/);
  });
});
