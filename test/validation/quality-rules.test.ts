import { describe, expect, it } from 'vitest';
import type { AudioQuality } from '../../functions/shared/audio/speech-quality';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import {
  checkQuality,
  DEFAULT_QUALITY_THRESHOLDS,
  parseQualityThresholds,
  QUALITY_THRESHOLD_NAMES,
} from '../../functions/shared/validation/quality-rules';

const SMALLEST = PROVIDER_LIMITS.smallest;
const TYPECAST = PROVIDER_LIMITS.typecast;

/** An ordinary 9 s laptop recording; each case changes what it is about. */
const ordinary: AudioQuality = {
  speechSec: 8.1,
  levelDbfs: -24,
  peakDbfs: -3,
  clippedRatio: 0,
  noiseFloorDbfs: -60,
  snrDb: 36,
  analyzedSec: 9,
};
const codes = (quality: Partial<AudioQuality>, limits = SMALLEST) =>
  checkQuality(limits, { ...ordinary, ...quality }, DEFAULT_QUALITY_THRESHOLDS).map((issue) => issue.code);

describe('checkQuality with the default thresholds', () => {
  it.each<[string, Partial<AudioQuality>]>([
    ['an ordinary recording', {}],
    ['a quiet laptop (speech at −38 dBFS)', { levelDbfs: -38, peakDbfs: -18 }],
    ['a very quiet one (speech at −47 dBFS)', { levelDbfs: -47, peakDbfs: -28, noiseFloorDbfs: -75 }],
    ['a noisy room (floor 12 dB below the speech)', { noiseFloorDbfs: -36, snrDb: 12 }],
    ['a hot recording that touches full scale now and then', { peakDbfs: 0, clippedRatio: 0.002 }],
    ['just enough speech', { speechSec: 5 }],
  ])('passes %s', (_what, quality) => {
    expect(codes(quality)).toEqual([]);
    expect(codes(quality, TYPECAST)).toEqual([]);
  });

  it('fails digital silence and dither as silent_audio, and says nothing else about them', () => {
    const silence = checkQuality(SMALLEST, {
      ...ordinary,
      speechSec: 0,
      levelDbfs: null,
      peakDbfs: null,
      noiseFloorDbfs: null,
      snrDb: null,
    });
    expect(silence).toEqual([
      {
        code: 'silent_audio',
        message:
          'The audio is digital silence: there is no usable signal (the loudest sample must reach -60 dBFS). Check the microphone and record again.',
      },
    ]);
    expect(codes({ speechSec: 0, levelDbfs: null, peakDbfs: -74.7 })).toEqual(['silent_audio']);
  });

  it('fails whisper-level speech as too_quiet, with the level and the threshold', () => {
    const [issue] = checkQuality(SMALLEST, { ...ordinary, levelDbfs: -58.2, peakDbfs: -37 });
    expect(issue).toEqual({
      code: 'too_quiet',
      message:
        'The speech is at -58.2 dBFS, far below a usable level (at least -50 dBFS). Record closer to the microphone or raise its gain.',
    });
  });

  it('fails hard clipping as clipped_audio, as percentages', () => {
    const [issue] = checkQuality(SMALLEST, { ...ordinary, clippedRatio: 0.0671, peakDbfs: 0 });
    expect(issue?.code).toBe('clipped_audio');
    expect(issue?.message).toContain('6.7 % of the samples are clipped');
    expect(issue?.message).toContain('at most 1 % allowed');
  });

  it("fails hiss, hum or a mostly silent file as too_little_speech, against the provider's minimum", () => {
    const [issue] = checkQuality(SMALLEST, { ...ordinary, speechSec: 1.82, analyzedSec: 10 });
    expect(issue).toEqual({
      code: 'too_little_speech',
      message:
        'The audio holds 1.8 s of speech; Smallest AI Waves needs at least 5 s of someone speaking (noise, hum, whispering and silence do not count).',
    });
    expect(codes({ speechSec: 0, levelDbfs: null, analyzedSec: 8 }, TYPECAST)).toEqual(['too_little_speech']);
  });

  it('leaves a file shorter than the minimum to the duration rule', () => {
    expect(codes({ speechSec: 3, analyzedSec: 3.5 })).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(codes({ levelDbfs: -55, clippedRatio: 0.2, speechSec: 2 })).toEqual([
      'too_quiet',
      'clipped_audio',
      'too_little_speech',
    ]);
  });

  it('follows other thresholds', () => {
    const strict = { silencePeakDbfs: -40, minSpeechLevelDbfs: -30, maxClippedRatio: 0 };
    const issues = checkQuality(SMALLEST, { ...ordinary, levelDbfs: -35, clippedRatio: 0.0001 }, strict);
    expect(issues.map((issue) => issue.code)).toEqual(['too_quiet', 'clipped_audio']);
    expect(issues[0]?.message).toContain('at least -30 dBFS');
  });
});

describe('parseQualityThresholds', () => {
  const env = (values: Record<string, string>) => (key: keyof typeof QUALITY_THRESHOLD_NAMES) =>
    values[QUALITY_THRESHOLD_NAMES[key].env];

  it('gives the defaults for what is unset or blank', () => {
    expect(parseQualityThresholds(env({}))).toEqual(DEFAULT_QUALITY_THRESHOLDS);
    expect(parseQualityThresholds(env({ QUALITY_MAX_CLIPPED_RATIO: '  ' }))).toEqual(
      DEFAULT_QUALITY_THRESHOLDS,
    );
  });

  it('reads numbers, trimmed', () => {
    expect(
      parseQualityThresholds(
        env({
          QUALITY_SILENCE_PEAK_DBFS: ' -55 ',
          QUALITY_MIN_SPEECH_LEVEL_DBFS: '-45.5',
          QUALITY_MAX_CLIPPED_RATIO: '0.05',
        }),
      ),
    ).toEqual({ silencePeakDbfs: -55, minSpeechLevelDbfs: -45.5, maxClippedRatio: 0.05 });
  });

  it('names every bad setting, its range and what it got, by the names the caller uses', () => {
    expect(() =>
      parseQualityThresholds(env({ QUALITY_SILENCE_PEAK_DBFS: 'loud', QUALITY_MAX_CLIPPED_RATIO: '5' })),
    ).toThrow(
      'QUALITY_SILENCE_PEAK_DBFS must be a number from -120 to 0 (got "loud"); QUALITY_MAX_CLIPPED_RATIO must be a number from 0 to 1 (got "5")',
    );
    expect(() =>
      parseQualityThresholds(
        () => '12',
        (key) => `--${QUALITY_THRESHOLD_NAMES[key].flag}`,
      ),
    ).toThrow(/--silence-peak-dbfs must be a number from -120 to 0 \(got "12"\).*--max-clipped-ratio/);
  });
});
