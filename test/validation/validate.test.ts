import { describe, expect, it } from 'vitest';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import type { AudioProbe } from '../../functions/shared/audio/types';
import { SMALLEST_LIMITS } from '../../functions/shared/providers/smallest/limits';
import { TYPECAST_LIMITS } from '../../functions/shared/providers/typecast/limits';
import { checkAudio } from '../../functions/shared/validation/audio-rules';
import { checkOptions } from '../../functions/shared/validation/options';
import type { ValidationCode } from '../../functions/shared/validation/types';
import { validateSource } from '../../functions/shared/validation/validate';
import { fixture, wavFile } from '../audio/helpers';

const MEGABYTE = 1024 * 1024;

function audio(durationSec: number, format: 'wav' | 'mp3' | 'mp4' | 'webm' = 'wav'): AudioProbe {
  return { kind: 'audio', format, durationSec, sampleRate: 16000, channels: 1, codec: 'PCM 16-bit' };
}

function codes(issues: readonly { code: ValidationCode }[]): ValidationCode[] {
  return issues.map((issue) => issue.code);
}

describe('checkOptions', () => {
  it('trims the name and applies the provider default model', () => {
    const { issues, resolved } = checkOptions(SMALLEST_LIMITS, { displayName: '  Alice  ' });

    expect(issues).toEqual([]);
    expect(resolved).toEqual({ displayName: 'Alice', model: 'lightning-v3.1', tags: [], trim: 'off' });
  });

  it('rejects an empty name and says how to set one', () => {
    const { issues } = checkOptions(TYPECAST_LIMITS, { displayName: '   ' });

    expect(issues).toEqual([
      { code: 'invalid_name', message: expect.stringMatching(/empty; Typecast needs 1–30 characters/) },
    ]);
    expect(issues[0]?.message).toMatch(/"display-name" metadata/);
  });

  it('counts the name in code points: 30 emoji fit Typecast, 31 letters do not', () => {
    const emoji = checkOptions(TYPECAST_LIMITS, { displayName: '😀'.repeat(30) });
    const letters = checkOptions(TYPECAST_LIMITS, { displayName: 'a'.repeat(31) });

    expect(emoji.issues).toEqual([]);
    expect(letters.issues).toEqual([
      {
        code: 'invalid_name',
        message: expect.stringMatching(/is 31 characters long; Typecast allows at most 30/),
      },
    ]);
  });

  it('rejects control characters in the name', () => {
    const { issues } = checkOptions(SMALLEST_LIMITS, { displayName: 'Alice\nBob' });

    expect(issues).toEqual([{ code: 'invalid_name', message: expect.stringMatching(/control characters/) }]);
  });

  it("rejects a deprecated model with the provider's own message", () => {
    const { issues } = checkOptions(SMALLEST_LIMITS, { displayName: 'Alice', model: 'lightning-v2' });

    expect(issues).toEqual([
      {
        code: 'invalid_option',
        message: expect.stringContaining(
          'Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1.',
        ),
      },
    ]);
  });

  it('rejects an unknown model and lists the accepted ones', () => {
    const { issues } = checkOptions(TYPECAST_LIMITS, { displayName: 'Alice', model: 'ssfm-v99' });

    expect(issues).toEqual([
      { code: 'invalid_option', message: expect.stringMatching(/"ssfm-v99".*ssfm-v30, ssfm-v21/) },
    ]);
  });

  it("checks the language against the provider's code shape", () => {
    const english = checkOptions(SMALLEST_LIMITS, { displayName: 'A', language: 'english' });
    const twoLetters = checkOptions(SMALLEST_LIMITS, { displayName: 'A', language: 'en' });
    const typecastTwoLetters = checkOptions(TYPECAST_LIMITS, { displayName: 'A', language: 'en' });
    const typecastThreeLetters = checkOptions(TYPECAST_LIMITS, { displayName: 'A', language: 'eng' });

    expect(english.issues).toEqual([
      {
        code: 'invalid_option',
        message: expect.stringContaining('a two-letter ISO 639-1 code such as "en"'),
      },
    ]);
    expect(twoLetters.issues).toEqual([]);
    expect(twoLetters.resolved.language).toBe('en');
    expect(codes(typecastTwoLetters.issues)).toEqual(['invalid_option']);
    expect(typecastThreeLetters.issues).toEqual([]);
  });

  it('splits tags on commas, trims them and drops empty ones', () => {
    const { resolved } = checkOptions(SMALLEST_LIMITS, {
      displayName: 'A',
      tags: ' calm , ,narrator,, warm ',
      accent: ' british ',
      description: '  ',
    });

    expect(resolved.tags).toEqual(['calm', 'narrator', 'warm']);
    expect(resolved.accent).toBe('british');
    expect(resolved).not.toHaveProperty('description');
  });

  it('reports every option problem at once', () => {
    const { issues } = checkOptions(TYPECAST_LIMITS, { displayName: '', model: 'nope', language: 'x' });

    expect(codes(issues)).toEqual(['invalid_name', 'invalid_option', 'invalid_option']);
  });
});

describe('checkAudio', () => {
  it('rejects a file over the size limit with both sizes in MB', () => {
    const issues = checkAudio(SMALLEST_LIMITS, 6.3 * MEGABYTE, undefined);

    expect(issues).toEqual([
      {
        code: 'file_too_large',
        message: expect.stringMatching(/The file is 6\.3 MB; Smallest AI Waves accepts at most 5 MB/),
      },
    ]);
  });

  it('gives the sizes in bytes when the file is only a little over the limit', () => {
    const issues = checkAudio(SMALLEST_LIMITS, 5 * MEGABYTE + 1, undefined);

    expect(issues[0]?.message).toMatch(
      /5,242,881 bytes; Smallest AI Waves accepts at most 5 MB \(5,242,880 bytes\)/,
    );
  });

  it('rejects an empty file', () => {
    expect(codes(checkAudio(SMALLEST_LIMITS, 0, { kind: 'empty' }))).toEqual(['empty_file']);
  });

  it('rejects bytes that are not audio with the reason and what to upload instead', () => {
    const probe: AudioProbe = {
      kind: 'unreadable',
      format: null,
      reason: 'looks like a PNG image, not audio',
    };

    const issues = checkAudio(TYPECAST_LIMITS, 1000, probe);

    expect(issues).toEqual([
      {
        code: 'unreadable_audio',
        message:
          'This file looks like a PNG image, not audio. Upload WAV or MP3 audio with 5–150 s of clear speech.',
      },
    ]);
  });

  it('says which formats the provider accepts when the format is recognised but not accepted', () => {
    const ogg: AudioProbe = { kind: 'unsupported', format: 'ogg', description: 'Ogg Vorbis audio' };

    expect(checkAudio(TYPECAST_LIMITS, 1000, ogg)).toEqual([
      {
        code: 'unsupported_format',
        message: 'Ogg Vorbis audio is not accepted by Typecast; use WAV or MP3.',
      },
    ]);
    expect(checkAudio(SMALLEST_LIMITS, 1000, ogg)[0]?.message).toMatch(/use WAV, MP3, MP4 or WebM\.$/);
  });

  it('rejects MP4 and WebM audio for Typecast but accepts them for Smallest', () => {
    expect(checkAudio(TYPECAST_LIMITS, 1000, audio(8, 'mp4'))).toEqual([
      { code: 'unsupported_format', message: 'MP4 audio is not accepted by Typecast; use WAV or MP3.' },
    ]);
    expect(codes(checkAudio(TYPECAST_LIMITS, 1000, audio(8, 'webm')))).toEqual(['unsupported_format']);
    expect(checkAudio(SMALLEST_LIMITS, 1000, audio(8, 'webm'))).toEqual([]);
  });

  it('rejects audio shorter than the minimum with the measured length and the range', () => {
    expect(checkAudio(SMALLEST_LIMITS, 1000, audio(3.04))).toEqual([
      {
        code: 'audio_too_short',
        message:
          'The audio is 3.0 s long; Smallest AI Waves needs 5–15 s of speech. Upload a longer recording.',
      },
    ]);
  });

  it('shows more decimals when rounding to 0.1 s would make a failing length look like the limit', () => {
    expect(checkAudio(SMALLEST_LIMITS, 1000, audio(4.97))[0]?.message).toMatch(/^The audio is 4\.97 s long/);
    expect(checkAudio(SMALLEST_LIMITS, 1000, audio(15.02))[0]?.message).toMatch(
      /^The audio is 15\.02 s long/,
    );
  });

  it("rejects audio longer than the maximum, by each provider's own range", () => {
    expect(checkAudio(SMALLEST_LIMITS, 1000, audio(20))).toEqual([
      {
        code: 'audio_too_long',
        message:
          'The audio is 20.0 s long; Smallest AI Waves needs 5–15 s of speech. Trim it to at most 15 s.',
      },
    ]);
    expect(checkAudio(TYPECAST_LIMITS, 1000, audio(20))).toEqual([]);
    expect(codes(checkAudio(TYPECAST_LIMITS, 1000, audio(150.5)))).toEqual(['audio_too_long']);
  });

  it('accepts the limits themselves', () => {
    expect(checkAudio(SMALLEST_LIMITS, SMALLEST_LIMITS.maxBytes, audio(5))).toEqual([]);
    expect(checkAudio(SMALLEST_LIMITS, 1000, audio(15))).toEqual([]);
  });
});

describe('validateSource', () => {
  it('accepts a good sample and fills the report from the probe', async () => {
    const bytes = fixture('speech-16bit-mono.wav');

    const result = await validateSource(bufferByteSource(bytes), {
      provider: 'smallest',
      displayName: 'Alice',
      options: { language: 'en', tags: 'calm' },
    });

    expect(result.report).toEqual({
      ok: true,
      provider: 'smallest',
      format: 'wav',
      durationSec: 8,
      sampleRate: 16000,
      channels: 1,
      sizeBytes: bytes.length,
      quality: expect.objectContaining({ measured: true, analyzedSec: 8, clippedRatio: 0 }),
      errors: [],
    });
    expect(result.report.quality).toMatchObject({
      speechSec: expect.any(Number),
      levelDbfs: expect.any(Number),
    });
    expect(result.resolved).toEqual({
      displayName: 'Alice',
      model: 'lightning-v3.1',
      language: 'en',
      tags: ['calm'],
      trim: 'off',
    });
    expect(result.probe?.kind).toBe('audio');
  });

  it('reports every problem of an oversize file from its header alone (one read of at most 64 KiB)', async () => {
    const source = bufferByteSource(
      wavFile({ sampleRate: 44100, channels: 2, bitsPerSample: 16, dataBytes: 6 * MEGABYTE }),
    );

    const { report, probe } = await validateSource(source, {
      provider: 'smallest',
      displayName: '',
      options: { model: 'lightning-v2', language: 'english' },
    });

    expect(codes(report.errors)).toEqual([
      'file_too_large',
      'audio_too_long',
      'invalid_name',
      'invalid_option',
      'invalid_option',
    ]);
    expect(source.bytesRead).toBeLessThanOrEqual(64 * 1024);
    expect(probe?.kind).toBe('audio');
    expect(report).toMatchObject({ ok: false, format: 'wav', sizeBytes: source.size });
    expect(report.durationSec).toBeCloseTo((6 * MEGABYTE) / (44100 * 4), 3);
    expect(report.errors[1]?.message).toMatch(/^The audio is 35\.7 s long; Smallest AI Waves needs 5–15 s/);
  });

  it('reads an oversize file whole when asked (the CLI, on a local file)', async () => {
    const source = bufferByteSource(
      wavFile({ sampleRate: 44100, channels: 2, bitsPerSample: 16, dataBytes: 6 * MEGABYTE }),
    );
    const { report } = await validateSource(source, {
      provider: 'smallest',
      displayName: 'Zoë',
      options: {},
      oversize: 'whole',
    });
    // Its samples are all zero: also silent.
    expect(codes(report.errors)).toEqual(['file_too_large', 'audio_too_long', 'silent_audio']);
  });

  it('reports a short recording and a long name for Typecast at once', async () => {
    const { report } = await validateSource(bufferByteSource(fixture('too-short-3s.wav')), {
      provider: 'typecast',
      displayName: 'A name that is far longer than thirty characters',
      options: {},
    });

    expect(codes(report.errors)).toEqual(['audio_too_short', 'invalid_name']);
    expect(report.durationSec).toBe(3);
  });

  it('reports an unsupported format and its duration problem together', async () => {
    const { report } = await validateSource(bufferByteSource(fixture('truncated-mdat.m4a')), {
      provider: 'typecast',
      displayName: 'Alice',
      options: {},
    });

    expect(codes(report.errors)).toEqual(['unsupported_format', 'audio_too_short']);
    expect(report.format).toBe('mp4');
  });

  it('names the detected format of an unsupported file in the report', async () => {
    const { report } = await validateSource(bufferByteSource(fixture('speech.flac')), {
      provider: 'smallest',
      displayName: 'Alice',
      options: {},
    });

    expect(report).toMatchObject({ ok: false, format: 'flac', durationSec: null });
    expect(codes(report.errors)).toEqual(['unsupported_format']);
  });

  it('reports an unknown provider but still probes the audio for its facts', async () => {
    const { report, resolved } = await validateSource(bufferByteSource(fixture('speech-cbr.mp3')), {
      provider: 'elevenlabs',
      displayName: 'Alice',
      options: {},
    });

    expect(report.errors).toEqual([
      {
        code: 'unknown_provider',
        message: expect.stringMatching(/Unknown provider "elevenlabs"; use one of: smallest, typecast/),
      },
    ]);
    expect(report).toMatchObject({ ok: false, provider: 'elevenlabs', format: 'mp3', sampleRate: 22050 });
    expect(report.durationSec).toBeCloseTo(8.07, 2);
    expect(resolved).toBeUndefined();
  });

  it('reports an empty file for an unknown provider too', async () => {
    const { report } = await validateSource(bufferByteSource(new Uint8Array(0)), {
      provider: '',
      displayName: 'x',
      options: {},
    });

    expect(codes(report.errors)).toEqual(['unknown_provider', 'empty_file']);
  });

  it('reports garbage as unreadable', async () => {
    const { report } = await validateSource(bufferByteSource(fixture('picture.png')), {
      provider: 'typecast',
      displayName: 'Alice',
      options: {},
    });

    expect(report.errors).toEqual([
      { code: 'unreadable_audio', message: expect.stringMatching(/PNG image/) },
    ]);
    expect(report.format).toBeNull();
  });
});
