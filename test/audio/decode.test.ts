import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AudibleProbe, type DecodedAudio, decodeAudio } from '../../functions/shared/audio/decode';
import { blockFrames, parseOpusHead } from '../../functions/shared/audio/decode-opus';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { encodeMp3 } from '../../simulators/audio';
import { makeMp3 } from '../support/audio';
import { dbfs, type PcmEncoding, pcmWav, rmsDbfs, tone } from '../support/signals';
import { fixture } from './helpers';

// scripts/make-decode-fixtures.sh: a 440 Hz sine of peak 0.5 (−6.0 dBFS peak, −9.0 dBFS RMS), 1 s; the
// "left" files carry it on the left channel only (averaged to mono: −12.0 dBFS peak, −15.1 dBFS RMS).
const DECODE_FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'decode');
const decodeFixture = (name: string) => new Uint8Array(readFileSync(join(DECODE_FIXTURES, name)));

async function audible(bytes: Uint8Array): Promise<AudibleProbe> {
  const probe = await probeAudio(bufferByteSource(bytes));
  if (probe.kind !== 'audio') throw new Error(`not audio: ${JSON.stringify(probe)}`);
  return probe;
}

async function decoded(bytes: Uint8Array, maxSec?: number): Promise<DecodedAudio> {
  const outcome = await decodeAudio(bytes, await audible(bytes), maxSec === undefined ? {} : { maxSec });
  if (!outcome.decoded) throw new Error(outcome.reason);
  return outcome;
}

function peakDbfs(samples: Float32Array): number {
  let peak = 0;
  for (const value of samples) peak = Math.max(peak, Math.abs(value));
  return dbfs(peak);
}

describe('decodeAudio: WAV, read directly', () => {
  const sine = tone(440, 0.5, 8000, 0.5);

  it.each<[PcmEncoding, number]>([
    ['u8', 1 / 128],
    ['i16', 1 / 32_768],
    ['i24', 1 / 8_388_608],
    ['i32', 1 / 2_147_483_648],
    ['f32', 1e-7],
    ['f64', 1e-7],
  ])('%s PCM gives the samples back within one quantisation step', async (encoding, step) => {
    const audio = await decoded(pcmWav([sine], 8000, encoding));
    expect(audio.sampleRate).toBe(8000);
    expect(audio.samples.length).toBe(sine.length);
    expect(audio.layout.kind).toBe('wav');
    let worst = 0;
    for (let index = 0; index < sine.length; index++)
      worst = Math.max(worst, Math.abs((audio.samples[index] as number) - (sine[index] as number)));
    expect(worst).toBeLessThanOrEqual(step);
  });

  it('averages the channels to mono', async () => {
    const silent = new Float32Array(sine.length);
    const audio = await decoded(pcmWav([sine, silent, sine.map((value) => -value)], 8000, 'i16'));
    expect(peakDbfs(audio.samples)).toBeLessThan(-80);
    const left = await decoded(pcmWav([sine, silent], 8000, 'i24'));
    expect(peakDbfs(left.samples)).toBeCloseTo(-12.04, 1);
  });

  it.each([
    ['tone-mulaw.wav', 0.2],
    ['tone-alaw.wav', 0.2],
    ['tone-int32.wav', 0.01],
    ['tone-float64.wav', 0.01],
  ])('%s (sox) decodes to the sine it holds', async (name, tolerance) => {
    const audio = await decoded(decodeFixture(name));
    expect(audio.samples.length).toBe(8000);
    expect(Math.abs(rmsDbfs(audio.samples) + 9.03)).toBeLessThan(tolerance);
    expect(Math.abs(peakDbfs(audio.samples) + 6.02)).toBeLessThan(tolerance + 0.2);
  });

  it('clamps float samples past full scale and NaN to what a recording can hold', async () => {
    const wild = Float32Array.from([2, -3, Number.NaN, 0.5, Number.POSITIVE_INFINITY]);
    const audio = await decoded(pcmWav([wild], 8000, 'f32'));
    expect([...audio.samples]).toEqual([1, -1, 0, 0.5, 1]);
  });

  it('stops at maxSec and says so', async () => {
    const audio = await decoded(pcmWav([tone(440, 3, 8000)], 8000, 'i16'), 1);
    expect(audio.samples.length).toBe(8000);
    expect(audio.truncated).toBe(true);
    expect((await decoded(pcmWav([tone(440, 1, 8000)], 8000, 'i16'), 1)).truncated).toBe(false);
  });

  it('does not decode ADPCM WAV, and says why', async () => {
    const bytes = fixture('speech-ima-adpcm.wav');
    expect(await decodeAudio(bytes, await audible(bytes))).toEqual({
      decoded: false,
      reason: expect.stringContaining('compressed'),
    });
  });
});

describe('decodeAudio: MP3 (mpg123-decoder)', () => {
  it('decodes every frame: as many samples as the frames hold, the level of the source', async () => {
    const source = tone(300, 2, 22_050, 0.5);
    const pcm = Int16Array.from(source, (value) => Math.round(value * 32_767));
    const bytes = encodeMp3(pcm, 22_050);
    const audio = await decoded(bytes);
    const probe = await audible(bytes);
    expect(audio.layout.kind).toBe('mp3');
    if (audio.layout.kind !== 'mp3') return;
    const frames = audio.layout.frameOffsets.length - 1;
    expect(audio.samples.length).toBe(frames * audio.layout.samplesPerFrame);
    expect(audio.samples.length / audio.sampleRate).toBeCloseTo(probe.durationSec, 3);
    // The encoder's delay and padding add a little silence; the tone's level stays.
    expect(Math.abs(rmsDbfs(audio.samples) - rmsDbfs(source))).toBeLessThan(0.8);
  });

  it('averages a stereo MP3 to mono (lame, joint stereo off)', async () => {
    const audio = await decoded(decodeFixture('left-stereo.mp3'));
    expect(audio.sampleRate).toBe(16_000);
    expect(Math.abs(peakDbfs(audio.samples) + 12.04)).toBeLessThan(0.6);
  });

  it('stops at maxSec, and decodes what comes before damage', async () => {
    const bytes = makeMp3({ durationSec: 6, sampleRate: 16_000 });
    const limited = await decoded(bytes, 2);
    expect(limited.samples.length).toBe(32_000);
    expect(limited.truncated).toBe(true);
    const damaged = bytes.slice();
    damaged.fill(0x55, Math.floor(bytes.length / 2));
    const probe = await audible(bytes);
    const outcome = await decodeAudio(damaged, probe);
    expect(outcome.decoded).toBe(true);
    if (outcome.decoded) expect(outcome.samples.length / outcome.sampleRate).toBeLessThan(4);
  });
});

describe('decodeAudio: Opus in WebM (opus-decoder)', () => {
  it('decodes a mono Opus WebM (ffmpeg libopus) to the sine it holds, at 48 kHz', async () => {
    const bytes = decodeFixture('tone-opus.webm');
    const audio = await decoded(bytes);
    expect(audio.sampleRate).toBe(48_000);
    expect(audio.layout).toEqual({ kind: 'webm', codec: 'Opus' });
    expect(audio.samples.length / 48_000).toBeCloseTo((await audible(bytes)).durationSec, 1);
    expect(Math.abs(rmsDbfs(audio.samples) + 9.03)).toBeLessThan(0.5);
  });

  it('averages a stereo Opus WebM to mono', async () => {
    const audio = await decoded(decodeFixture('left-stereo-opus.webm'));
    expect(Math.abs(rmsDbfs(audio.samples) + 15.05)).toBeLessThan(0.5);
  });

  it('decodes a browser-style recording as loud as its WAV original', async () => {
    const quality = (name: string) =>
      new Uint8Array(readFileSync(join(DECODE_FIXTURES, '..', 'quality', name)));
    const webm = await decoded(quality('normal.webm'));
    const wav = await decoded(quality('normal.wav'));
    expect(Math.abs(rmsDbfs(webm.samples) - rmsDbfs(wav.samples))).toBeLessThan(0.5);
    expect(Math.abs(webm.samples.length / 48_000 - wav.samples.length / wav.sampleRate)).toBeLessThan(0.05);
  });

  it('reads the OpusHead, and what a track without one implies', () => {
    const head = Uint8Array.from(
      [...'OpusHead'].map((c) => c.charCodeAt(0)).concat([1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]),
    );
    expect(parseOpusHead(head)).toEqual({
      channels: 2,
      preSkip: 312,
      streamCount: 1,
      coupledStreamCount: 1,
      channelMappingTable: [0, 1],
    });
    expect(parseOpusHead(undefined, 1)).toMatchObject({ channels: 1, preSkip: 0 });
    expect(parseOpusHead(undefined, 6)).toBeUndefined();
    const surround = Uint8Array.from([...head.subarray(0, 18), 1, 2, 1, 0, 1]);
    surround[9] = 2;
    expect(parseOpusHead(surround)).toMatchObject({
      streamCount: 2,
      coupledStreamCount: 1,
      channelMappingTable: [0, 1],
    });
  });

  it('splits laced blocks (Xiph, fixed-size and EBML lacing) into their frames', () => {
    // Track 1 (0x81), timecode 0, flags with the lacing bits, then the lace count − 1 and the sizes.
    const frames = [new Uint8Array(300).fill(1), new Uint8Array(2).fill(2), new Uint8Array(5).fill(3)];
    const body = [...(frames[0] as Uint8Array), ...(frames[1] as Uint8Array), ...(frames[2] as Uint8Array)];
    const xiph = Uint8Array.from([0x81, 0, 0, 0b010, 2, 255, 45, 2, ...body]);
    expect(blockFrames(xiph)?.map((frame) => frame.length)).toEqual([300, 2, 5]);
    // EBML: 300 as a 2-byte number (0x412c), then 2 − 300 = −298 as a 2-byte signed difference.
    const ebml = Uint8Array.from([0x81, 0, 0, 0b110, 2, 0x41, 0x2c, 0x5e, 0xd5, ...body]);
    expect(blockFrames(ebml)?.map((frame) => frame.length)).toEqual([300, 2, 5]);
    const fixed = Uint8Array.from([0x81, 0, 0, 0b100, 2, 1, 2, 3, 4, 5, 6]);
    expect(blockFrames(fixed)?.map((frame) => [...frame])).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(blockFrames(Uint8Array.from([0x81, 0, 0, 0, 9, 9]))?.map((frame) => [...frame])).toEqual([[9, 9]]);
    // Sizes that add up to more than the block holds are damage, not frames.
    expect(blockFrames(Uint8Array.from([0x81, 0, 0, 0b010, 1, 200, 1, 2]))).toBeUndefined();
    expect(blockFrames(Uint8Array.from([0x81, 0, 0, 0b100, 2, 1, 2, 3, 4]))).toBeUndefined();
  });
});

describe('decodeAudio: what is not decoded says why', () => {
  it.each([
    ['Vorbis in WebM', decodeFixture('tone-vorbis.webm'), /VORBIS audio in WebM is not decoded/],
    ['AAC in MP4', fixture('speech.m4a'), /AAC audio in MP4 is not decoded/],
  ])('%s', async (_what, bytes, reason) => {
    const outcome = await decodeAudio(bytes, await audible(bytes));
    expect(outcome.decoded).toBe(false);
    if (!outcome.decoded) expect(outcome.reason).toMatch(reason);
  });
});
