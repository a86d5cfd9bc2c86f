import { describe, expect, it } from 'vitest';
import { probeAudioHeader } from '../../functions/shared/audio/header-probe';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import type { ByteSource } from '../../functions/shared/audio/types';
import { makeMp3 } from '../support/audio';
import { fixture, wavFile } from './helpers';

const MEGABYTE = 1024 * 1024;

/** A source that says it is `size` bytes long and holds `bytes` and then zeros; counts every read. */
function paddedSource(bytes: Uint8Array, size: number): ByteSource & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    size,
    reads,
    async read(start, end) {
      reads.push([start, end]);
      const out = new Uint8Array(Math.max(0, Math.min(end, size) - start));
      out.set(bytes.subarray(start, Math.min(end, start + out.length)));
      return out;
    },
    async readAll() {
      throw new Error('a header-only probe must never read the whole object');
    },
  };
}

function repeated(bytes: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let index = 0; index < times; index++) out.set(bytes, index * bytes.length);
  return out;
}

describe('probeAudioHeader: an oversize object judged from its first 64 KiB', () => {
  it('gives a WAV its exact length from the header and the size, in one read', async () => {
    const wav = wavFile({ sampleRate: 16_000, channels: 1, bitsPerSample: 16, dataBytes: 30 * MEGABYTE });
    const source = paddedSource(wav.subarray(0, 4_096), wav.length);
    const probe = await probeAudioHeader(source);
    expect(probe).toMatchObject({ kind: 'audio', format: 'wav', sampleRate: 16_000, channels: 1 });
    expect(probe?.kind === 'audio' && probe.durationSec).toBeCloseTo((30 * MEGABYTE) / 32_000, 6);
    expect(source.reads).toEqual([[0, 64 * 1024]]);
  });

  it("estimates a constant-bitrate MP3's length from its frames and the object's size", async () => {
    const tenSeconds = makeMp3({ durationSec: 10, sampleRate: 16_000 });
    const long = repeated(tenSeconds, 70);
    const exact = await probeAudio(bufferByteSource(long));
    const probe = await probeAudioHeader(paddedSource(long, long.length));
    expect(probe).toMatchObject({ kind: 'audio', format: 'mp3', durationFrom: 'estimate' });
    const estimate = probe?.kind === 'audio' ? probe.durationSec : Number.NaN;
    const measured = exact.kind === 'audio' ? exact.durationSec : Number.NaN;
    expect(Math.abs(estimate - measured) / measured).toBeLessThan(0.02);
  });

  it("takes an MP3's length from its Xing frame count when the encoder wrote one", async () => {
    const mp3 = fixture('speech-vbr-xing.mp3');
    const whole = await probeAudio(bufferByteSource(mp3));
    const probe = await probeAudioHeader(paddedSource(mp3, 8 * MEGABYTE));
    expect(probe).toMatchObject({ kind: 'audio', format: 'mp3', durationFrom: 'header' });
    expect(probe?.kind === 'audio' && probe.durationSec).toBeCloseTo(
      whole.kind === 'audio' ? whole.durationSec : Number.NaN,
      1,
    );
  });

  it('takes MP4 and WebM lengths from their declared durations', async () => {
    for (const name of ['speech.m4a', 'speech-opus.webm']) {
      const bytes = fixture(name);
      const whole = await probeAudio(bufferByteSource(bytes));
      const probe = await probeAudioHeader(paddedSource(bytes, 8 * MEGABYTE));
      expect(probe, name).toMatchObject({ kind: 'audio', durationFrom: 'header' });
      expect(probe?.kind === 'audio' && probe.durationSec, name).toBeCloseTo(
        whole.kind === 'audio' ? whole.durationSec : Number.NaN,
        1,
      );
    }
  });

  it('says only the format when the header states no length', async () => {
    const probe = await probeAudioHeader(paddedSource(fixture('speech-no-duration.webm'), 8 * MEGABYTE));
    expect(probe).toMatchObject({ kind: 'header-only', format: 'webm' });
  });

  it('judges garbage and unsupported formats as a full probe would', async () => {
    expect(await probeAudioHeader(paddedSource(fixture('picture.png'), 8 * MEGABYTE))).toMatchObject({
      kind: 'unreadable',
    });
    expect(await probeAudioHeader(paddedSource(fixture('speech.flac'), 8 * MEGABYTE))).toMatchObject({
      kind: 'unsupported',
      format: 'flac',
    });
  });

  it('knows nothing of an MP3 behind a tag larger than its window, rather than guessing', async () => {
    const probe = await probeAudioHeader(paddedSource(fixture('speech-big-cover.mp3'), 8 * MEGABYTE));
    expect(probe).toBeUndefined();
  });
});
