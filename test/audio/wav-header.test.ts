// The RIFF/WAVE headers the three writers make, pinned byte for byte: the streamed speech header, the joined
// speech header (known and unknown length, extra chunks, an odd fmt chunk) and the header of a trimmed WAV
// (PCM, float with its fact chunk, an odd fmt chunk and an odd data chunk with its pad byte).
import { describe, expect, it } from 'vitest';
import { wavHeader } from '../../functions/api/speech/join-audio';
import type { DecodedAudio } from '../../functions/shared/audio/decode';
import { cutAudio } from '../../functions/shared/audio/trim';
import {
  pcmFormatBody,
  wavHeader as sharedWavHeader,
  wavRiffSize,
} from '../../functions/shared/audio/wav-header';
import { streamingWavHeader } from '../../functions/shared/providers/speech-stream';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * fmt chunk bodies written out by hand, field by field (format tag, channels, sample rate, byte rate,
 * block align, bits per sample, then any extra bytes), so the expected headers do not depend on the writer.
 */
const fmt = (...fields: string[]) => Uint8Array.from(Buffer.from(fields.join(''), 'hex'));
/** PCM, mono, 24 kHz, 48,000 B/s, 2-byte frames, 16 bits. */
const MONO_16 = fmt('0100', '0100', 'c05d0000', '80bb0000', '0200', '1000');
/** IEEE float, stereo, 48 kHz, 384,000 B/s, 8-byte frames, 32 bits, cbSize 0. */
const STEREO_FLOAT = fmt('0300', '0200', '80bb0000', '00dc0500', '0800', '2000', '0000');
/** PCM, mono, 8 kHz, 8,000 B/s, 1-byte frames, 8 bits, one odd extra byte. */
const ODD_FORMAT = fmt('0100', '0100', '401f0000', '401f0000', '0100', '0800', '00');
/** PCM, mono, 8 kHz, 24,000 B/s, 3-byte frames, 24 bits. */
const MONO_24_8K = fmt('0100', '0100', '401f0000', 'c05d0000', '0300', '1800');
/** IEEE float, stereo, 8 kHz, 64,000 B/s, 8-byte frames, 32 bits, cbSize 0. */
const STEREO_FLOAT_8K = fmt('0300', '0200', '401f0000', '00fa0000', '0800', '2000', '0000');

describe('streamingWavHeader', () => {
  it('writes 44 bytes of 16-bit mono PCM with placeholder sizes', () => {
    expect(hex(streamingWavHeader(24_000))).toBe(
      '52494646ffffffff57415645666d74201000000001000100c05d000080bb00000200100064617461ffffffff',
    );
    expect(hex(streamingWavHeader(44_100))).toBe(
      '52494646ffffffff57415645666d7420100000000100010044ac0000885801000200100064617461ffffffff',
    );
  });
});

describe('wavHeader (joined speech)', () => {
  it('counts the samples and their pad byte', () => {
    expect(hex(wavHeader(MONO_16, 1_001))).toBe(
      '524946460e04000057415645666d74201000000001000100c05d000080bb00000200100064617461e9030000',
    );
  });

  it('writes placeholder sizes for a stream of unknown length, the same bytes as streamingWavHeader', () => {
    expect(hex(wavHeader(MONO_16))).toBe(
      '52494646ffffffff57415645666d74201000000001000100c05d000080bb00000200100064617461ffffffff',
    );
    expect(wavHeader(MONO_16)).toEqual(streamingWavHeader(24_000));
  });

  it('puts extra chunks before the data chunk and pads an odd fmt chunk', () => {
    const list = new Uint8Array([0x4c, 0x49, 0x53, 0x54, 4, 0, 0, 0, 0x49, 0x4e, 0x46, 0x4f]);
    expect(hex(wavHeader(STEREO_FLOAT, 800, list))).toBe(
      '524946465203000057415645666d7420120000000300020080bb000000dc05000800200000004c49535404000000494e464f6461746120030000',
    );
    expect(hex(wavHeader(ODD_FORMAT, 7))).toBe(
      '524946462e00000057415645666d74201100000001000100401f0000401f00000100080000006461746107000000',
    );
  });
});

describe('cutAudio (trimmed WAV)', () => {
  /** Frames 1 to 5 of a 10-frame WAV at 8 kHz whose data bytes count up by 7. */
  function trimmed(formatChunk: Uint8Array, blockAlign: number): string {
    const frames = 10;
    const bytes = Uint8Array.from({ length: frames * blockAlign }, (_, index) => (index * 7 + 1) & 0xff);
    const decoded: DecodedAudio = {
      decoded: true,
      samples: new Float32Array(frames),
      sampleRate: 8_000,
      truncated: false,
      layout: { kind: 'wav', dataOffset: 0, dataBytes: frames * blockAlign, blockAlign, formatChunk },
    };
    const result = cutAudio(bytes, decoded, { startSec: 1 / 8_000, endSec: 6 / 8_000 });
    if (!result.cut) throw new Error(result.reason);
    return hex(result.audio);
  }

  it('writes a PCM header and pads odd data', () => {
    expect(trimmed(MONO_24_8K, 3)).toBe(
      '524946463400000057415645666d74201000000001000100401f0000c05d000003001800646174610f000000' +
        '161d242b323940474e555c636a717800',
    );
  });

  it('writes a float header with a fact chunk counting the sample frames', () => {
    expect(trimmed(STEREO_FLOAT_8K, 8)).toBe(
      '524946465a00000057415645666d74201200000003000200401f000000fa0000080020000000' +
        '666163740400000005000000' +
        '64617461280000003940474e555c636a71787f868d949ba2a9b0b7bec5ccd3dae1e8eff6fd040b121920272e353c434a',
    );
  });

  it('pads an odd fmt chunk', () => {
    expect(trimmed(ODD_FORMAT, 1)).toBe(
      '524946462c00000057415645666d74201100000001000100401f0000401f0000010008000000' +
        '6461746105000000080f161d2400',
    );
  });
});

describe('wavHeader (shared, wav-header.ts)', () => {
  it('is the writer behind each of the three', () => {
    expect(sharedWavHeader(pcmFormatBody(24_000, 1, 16))).toEqual(streamingWavHeader(24_000));
    expect(sharedWavHeader(MONO_16, 1_001)).toEqual(wavHeader(MONO_16, 1_001));
    expect(wavRiffSize(16, 1_001)).toBe(36 + 1_002);
  });

  it('refuses a file beyond the 4 GiB RIFF limit with a RangeError', () => {
    expect(() => sharedWavHeader(MONO_16, 0xffff_ffff)).toThrow(RangeError);
  });
});
