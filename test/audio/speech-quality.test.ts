import { describe, expect, it } from 'vitest';
import { measureSpeech } from '../../functions/shared/audio/speech-quality';
import { concat, mix, noise, scale, silence, speechLike, tone } from '../support/signals';

const RATE = 16_000;
const measure = (samples: Float32Array, sampleRate = RATE) => measureSpeech({ samples, sampleRate }).quality;

// Three phrases, 0.8 s apart; the 0.18 s gaps between words are shorter than the detector's hangover, so
// they count as speaking time, and 0.26 s of each phrase pause does too (0.06 s before, 0.2 s after).
const PHRASE_PAUSE_SEC = 0.8;
const HANGOVER_SEC = 0.26;
const phrases = (sampleRate: number, seed = 3) => speechLike({ sampleRate, phrases: [4, 5, 3], seed });
function expectedSpeechSec(sampleRate: number): number {
  const phrase = phrases(sampleRate);
  return phrase.samples.length / sampleRate - 2 * (PHRASE_PAUSE_SEC - HANGOVER_SEC);
}

describe('measureSpeech on speech-like signals', () => {
  it.each([8_000, 16_000, 44_100, 48_000])('finds the speaking time at %i Hz', (sampleRate) => {
    const quality = measure(phrases(sampleRate).samples, sampleRate);
    expect(Math.abs(quality.speechSec - expectedSpeechSec(sampleRate))).toBeLessThan(0.25);
    expect(quality.peakDbfs).toBeCloseTo(-6, 0);
    expect(quality.clippedRatio).toBe(0);
    expect(quality.analyzedSec).toBeCloseTo(phrases(sampleRate).samples.length / sampleRate, 2);
  });

  it('measures the level of the speech, not of the pauses', () => {
    const speech = phrases(RATE).samples;
    const spread = concat(silence(10, RATE), speech, silence(10, RATE));
    const loud = measure(speech);
    const padded = measure(spread);
    expect(padded.levelDbfs).toBeCloseTo(loud.levelDbfs ?? 0, 0);
    // The hangover before the first word and after the last now has room in the file.
    expect(padded.speechSec).toBeCloseTo(loud.speechSec + HANGOVER_SEC, 1);
  });

  it('counts quiet speech (−20 dB, about −41 dBFS) in a quiet room as speech, at its level', () => {
    const loud = measure(phrases(RATE).samples);
    const quiet = measure(
      mix(scale(phrases(RATE).samples, 0.1), noise(12, RATE, -75)).subarray(0, phrases(RATE).samples.length),
    );
    expect(quiet.levelDbfs).not.toBeNull();
    expect(Math.abs((quiet.levelDbfs ?? 0) - ((loud.levelDbfs ?? 0) - 20))).toBeLessThan(0.5);
    expect(Math.abs(quiet.speechSec - loud.speechSec)).toBeLessThan(0.3);
    expect(quiet.noiseFloorDbfs).toBeLessThan(-70);
    expect(quiet.snrDb).toBeGreaterThan(25);
  });

  it('counts speech in room noise 15 dB down, and gives the signal-to-noise figure', () => {
    const speech = phrases(RATE).samples;
    const noisy = mix(speech, noise(speech.length / RATE, RATE, -36, 'pink'));
    const quality = measure(noisy);
    expect(Math.abs(quality.speechSec - expectedSpeechSec(RATE))).toBeLessThan(0.5);
    expect(quality.noiseFloorDbfs).toBeGreaterThan(-50);
    expect(quality.snrDb).toBeGreaterThan(10);
    expect(quality.snrDb).toBeLessThan(35);
  });

  it('does not count one short phrase in a long silence as more than it is', () => {
    const phrase = speechLike({ sampleRate: RATE, phrases: [2] });
    const quality = measure(concat(silence(4, RATE), phrase.samples, silence(4, RATE)));
    expect(quality.speechSec).toBeGreaterThan(phrase.speechSec - 0.1);
    expect(quality.speechSec).toBeLessThan(phrase.samples.length / RATE + HANGOVER_SEC + 0.05);
  });
});

describe('measureSpeech on what is not speech', () => {
  it('digital silence: no peak, no floor, no speech', () => {
    expect(measure(silence(6, RATE))).toEqual({
      speechSec: 0,
      levelDbfs: null,
      peakDbfs: null,
      clippedRatio: 0,
      noiseFloorDbfs: null,
      snrDb: null,
      analyzedSec: 6,
    });
  });

  it.each([
    ['white hiss', noise(8, RATE, -30, 'white')],
    ['pink hiss', noise(8, RATE, -30, 'pink')],
    [
      'hiss that fades in (a fan starting)',
      noise(8, RATE, -30).map((value, index) => (value * index) / (8 * RATE)),
    ],
    [
      'hiss pumped at a syllable rate (an AGC)',
      noise(8, RATE, -30).map(
        (value, index) => value * (0.1 + 0.9 * (0.5 + 0.5 * Math.sin((2 * Math.PI * 3 * index) / RATE))),
      ),
    ],
    [
      'noise bursts (0.3 s on, 0.4 s off)',
      concat(
        ...Array.from({ length: 10 }, (_, seed) =>
          concat(noise(0.3, RATE, -25, 'pink', seed + 1), silence(0.4, RATE)),
        ),
      ),
    ],
    ['mains hum with harmonics', concat(mix(tone(50, 8, RATE, 0.2), tone(150, 8, RATE, 0.05)))],
  ])('%s holds no speech', (_what, samples) => {
    const quality = measure(samples);
    expect(quality.speechSec).toBe(0);
    expect(quality.levelDbfs).toBeNull();
    expect(quality.peakDbfs).not.toBeNull();
  });
});

describe('measureSpeech: clipping', () => {
  it('counts samples held at full scale', () => {
    const speech = phrases(RATE).samples;
    const clipped = speech.map((value) => Math.max(-1, Math.min(1, value * 10)));
    const quality = measure(clipped);
    expect(quality.clippedRatio).toBeGreaterThan(0.05);
    expect(quality.peakDbfs).toBe(0);
    expect(quality.speechSec).toBeGreaterThan(expectedSpeechSec(RATE) - 0.5);
  });

  it('does not count a lone full-scale peak, or a signal just below full scale', () => {
    const speech = phrases(RATE).samples.slice();
    speech[1000] = 1;
    speech[5000] = -1;
    expect(measure(speech).clippedRatio).toBe(0);
    expect(measure(scale(phrases(RATE).samples, 1.9)).clippedRatio).toBe(0);
  });
});

describe('measureSpeech: cost', () => {
  it('measures 150 s at 44.1 kHz quickly and allocates per frame, not per sample', () => {
    const speech = phrases(44_100).samples;
    const long = new Float32Array(150 * 44_100);
    for (let offset = 0; offset < long.length; offset += speech.length)
      long.set(speech.subarray(0, Math.min(speech.length, long.length - offset)), offset);
    const started = performance.now();
    const { quality, frames } = measureSpeech({ samples: long, sampleRate: 44_100 });
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(quality.analyzedSec).toBe(150);
    expect(frames.speech.length).toBe(7_500);
  });

  it('copes with nothing, one sample and odd rates', () => {
    expect(measure(new Float32Array(0)).analyzedSec).toBe(0);
    expect(measure(Float32Array.of(0.5)).speechSec).toBe(0);
    expect(measure(phrases(11_025).samples, 11_025).speechSec).toBeGreaterThan(5);
    expect(measure(tone(440, 1, 1, 0.5), 1).speechSec).toBe(0);
  });
});
