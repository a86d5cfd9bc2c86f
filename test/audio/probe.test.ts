import { describe, expect, it } from 'vitest';
import { AudioSourceError } from '../../functions/shared/audio/errors';
import { FIRST_READ_BYTES, probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import type { AudioProbe, ByteSource } from '../../functions/shared/audio/types';
import {
  concat,
  fixture,
  MANIFEST,
  mpegFrames,
  randomBytes,
  seededRandom,
  wavFile,
  withUnknownSizeClusters,
} from './helpers';

const MEGABYTE = 1024 * 1024;

async function probeBytes(bytes: Uint8Array): Promise<AudioProbe> {
  return probeAudio(bufferByteSource(bytes));
}

async function probeFixture(name: string): Promise<AudioProbe> {
  return probeBytes(fixture(name));
}

function expectAudio(probe: AudioProbe): Extract<AudioProbe, { kind: 'audio' }> {
  if (probe.kind !== 'audio') throw new Error(`expected audio, got ${JSON.stringify(probe)}`);
  return probe;
}

/** The agreement the probe promises with ffprobe/ffmpeg: 0.05 s or 1 %, whichever is larger. */
function tolerance(seconds: number): number {
  return Math.max(0.05, seconds * 0.01);
}

// Files whose container claims a length that does not play (cut off), or claims none (VBR MP3 without a
// Xing header, live WebM): their reference is ffmpeg's full decode. Every other file's is ffprobe's
// format duration.
const MEASURED_BY_DECODING = new Set([
  'truncated-header-claims-more.wav',
  'truncated-xing-claims-more.mp3',
  'truncated-mdat.m4a',
  'truncated-cluster.webm',
  'speech-vbr-no-xing.mp3',
  'speech-no-duration.webm',
]);

const ACCEPTED_AUDIO: readonly (readonly [string, string])[] = [
  ['speech-16bit-mono.wav', 'wav'],
  ['stereo-44k.wav', 'wav'],
  ['speech-8bit.wav', 'wav'],
  ['speech-24bit.wav', 'wav'],
  ['speech-float32.wav', 'wav'],
  ['extensible-24bit-stereo.wav', 'wav'],
  ['too-short-3s.wav', 'wav'],
  ['too-long-20s.wav', 'wav'],
  ['truncated-header-claims-more.wav', 'wav'],
  ['speech-ima-adpcm.wav', 'wav'],
  ['speech-ms-adpcm.wav', 'wav'],
  ['mp3-in-wav.wav', 'wav'],
  ['speech-rf64.wav', 'wav'],
  ['speech-cbr.mp3', 'mp3'],
  ['speech-vbr-xing.mp3', 'mp3'],
  ['speech-vbr-no-xing.mp3', 'mp3'],
  ['speech-big-cover.mp3', 'mp3'],
  ['truncated-xing-claims-more.mp3', 'mp3'],
  ['mislabelled-mp3.wav', 'mp3'],
  ['speech.m4a', 'mp4'],
  ['speech-fragmented.m4a', 'mp4'],
  ['video-and-audio.mp4', 'mp4'],
  ['truncated-mdat.m4a', 'mp4'],
  ['speech-opus.webm', 'webm'],
  ['speech-no-duration.webm', 'webm'],
  ['truncated-cluster.webm', 'webm'],
];

describe('probeAudio: agreement with ffprobe on the fixtures', () => {
  it.each(ACCEPTED_AUDIO)('measures %s as %s the way ffprobe/ffmpeg do', async (name, format) => {
    const facts = MANIFEST[name];
    const audioFacts = facts?.ffprobe?.audio;
    const reference = MEASURED_BY_DECODING.has(name) ? facts?.decodedSec : facts?.ffprobe?.durationSec;
    if (!audioFacts || typeof reference !== 'number') throw new Error(`manifest lacks facts for ${name}`);

    const probe = expectAudio(await probeFixture(name));

    expect(probe.format).toBe(format);
    expect(Math.abs(probe.durationSec - reference)).toBeLessThanOrEqual(tolerance(reference));
    expect(probe.sampleRate).toBe(audioFacts.sampleRate);
    expect(probe.channels).toBe(audioFacts.channels);
  });
});

describe('probeAudio: real playable length', () => {
  it('rejects a WAV whose header claims more audio than the file holds, measuring only the bytes present', async () => {
    const bytes = fixture('truncated-header-claims-more.wav');
    const claimedSec = new DataView(bytes.buffer).getUint32(40, true) / (8000 * 2);

    const probe = expectAudio(await probeBytes(bytes));

    expect(claimedSec).toBeCloseTo(8, 3);
    expect(probe.durationSec).toBeCloseTo((bytes.length - 44) / (8000 * 2), 6);
  });

  it('reports a WAV cut off right after its header as unreadable', async () => {
    const headerOnly = wavFile({
      sampleRate: 16000,
      channels: 1,
      bitsPerSample: 16,
      dataBytes: 0,
      declaredDataBytes: 256000,
    });

    const probe = await probeBytes(headerOnly);

    expect(probe).toMatchObject({
      kind: 'unreadable',
      format: 'wav',
      reason: expect.stringMatching(/cut off/),
    });
  });

  it('does not trust an MP3 Xing header that counts more frames than the file holds', async () => {
    const claimedSec = MANIFEST['truncated-xing-claims-more.mp3']?.ffprobe?.durationSec ?? 0;

    const probe = expectAudio(await probeFixture('truncated-xing-claims-more.mp3'));

    expect(claimedSec).toBeGreaterThan(8);
    expect(probe.durationSec).toBeLessThan(4.1);
  });

  it('counts the frames of a VBR MP3 without a Xing header instead of estimating from the first bitrate', async () => {
    const estimate = MANIFEST['speech-vbr-no-xing.mp3']?.ffprobe?.durationSec ?? 0;
    const decoded = MANIFEST['speech-vbr-no-xing.mp3']?.decodedSec ?? 0;

    const probe = expectAudio(await probeFixture('speech-vbr-no-xing.mp3'));

    // ffprobe's own estimate is far off; the frame count matches a full decode exactly.
    expect(Math.abs(estimate - decoded)).toBeGreaterThan(0.5);
    expect(probe.durationSec).toBeCloseTo(decoded, 3);
  });

  it('skips an ID3v2 tag larger than the first read (big cover art) by its size header', async () => {
    const bytes = fixture('speech-big-cover.mp3');
    const tagSize = [...bytes.subarray(6, 10)].reduce((total, byte) => total * 128 + byte, 0);

    const probe = expectAudio(await probeBytes(bytes));

    expect(tagSize).toBeGreaterThan(FIRST_READ_BYTES);
    expect(probe.durationSec).toBeCloseTo(MANIFEST['speech-cbr.mp3']?.ffprobe?.durationSec ?? 0, 2);
  });

  it('measures a WebM without a Duration element (written live) from its last block', async () => {
    const probe = expectAudio(await probeFixture('speech-no-duration.webm'));

    expect(MANIFEST['speech-no-duration.webm']?.ffprobe?.durationSec).toBeNull();
    expect(probe.durationSec).toBeGreaterThan(6.9);
    expect(probe.durationSec).toBeLessThan(7.1);
  });

  it('reads a MediaRecorder-style WebM whose Segment and Clusters have unknown sizes', async () => {
    const { bytes, clusters } = withUnknownSizeClusters(fixture('speech-no-duration.webm'));

    const probe = expectAudio(await probeBytes(bytes));

    expect(clusters).toBeGreaterThan(3);
    expect(probe).toMatchObject({ format: 'webm', sampleRate: 48000, channels: 1 });
    expect(Math.abs(probe.durationSec - 7)).toBeLessThan(tolerance(7));
  });

  it('measures a cut-off WebM by the blocks present, not by its Duration element', async () => {
    const probe = expectAudio(await probeFixture('truncated-cluster.webm'));

    expect(MANIFEST['truncated-cluster.webm']?.ffprobe?.durationSec).toBeGreaterThan(8);
    expect(probe.durationSec).toBeLessThan(4);
  });

  it('measures an MP4 whose media data is cut off by the samples present, not by its header', async () => {
    const probe = expectAudio(await probeFixture('truncated-mdat.m4a'));

    expect(MANIFEST['truncated-mdat.m4a']?.ffprobe?.durationSec).toBe(8);
    expect(probe.durationSec).toBeLessThan(4.3);
  });

  it('reports an MP4 cut off before its index (moov at the end) as unreadable', async () => {
    const whole = fixture('speech.m4a');

    const probe = await probeBytes(whole.subarray(0, Math.floor(whole.length / 2)));

    expect(probe).toMatchObject({
      kind: 'unreadable',
      format: 'mp4',
      reason: expect.stringMatching(/index/),
    });
  });

  it('reads a fragmented MP4 (moof/mdat pairs, as Safari records audio/mp4)', async () => {
    const probe = expectAudio(await probeFixture('speech-fragmented.m4a'));

    expect(probe.durationSec).toBeGreaterThan(7);
    expect(probe.codec).toMatch(/AAC/);
  });
});

describe('probeAudio: what the bytes are', () => {
  it('decides the format from the bytes, not the name (MP3 bytes named .wav)', async () => {
    const probe = await probeFixture('mislabelled-mp3.wav');

    expect(probe).toMatchObject({ kind: 'audio', format: 'mp3', codec: 'MPEG 2 Layer 3' });
  });

  it('names the codec of PCM WAV variants, including WAVE_FORMAT_EXTENSIBLE', async () => {
    const codecs = await Promise.all(
      ['speech-8bit.wav', 'speech-24bit.wav', 'speech-float32.wav', 'extensible-24bit-stereo.wav'].map(
        async (name) => expectAudio(await probeFixture(name)).codec,
      ),
    );

    expect(codecs).toEqual(['PCM 8-bit', 'PCM 24-bit', 'IEEE float 32-bit', 'PCM 24-bit']);
  });

  it.each([
    ['speech-vorbis.ogg', 'ogg', /Vorbis/],
    ['speech-opus.ogg', 'ogg', /Opus/],
    ['speech.flac', 'flac', /FLAC/],
    ['speech-adts.aac', 'aac', /AAC/],
    ['speech.aiff', 'aiff', /AIFF/],
    ['speech.w64', 'w64', /Wave64/],
    ['speech.caf', 'caf', /CAF/],
    ['speech.wma', 'asf', /Windows Media/],
    ['speech.mka', 'matroska', /Matroska/],
  ])('recognises %s as %s audio that no provider here accepts', async (name, format, description) => {
    const probe = await probeFixture(name);

    expect(probe).toEqual({ kind: 'unsupported', format, description: expect.stringMatching(description) });
  });

  it('recognises AMR and MPEG Layer II audio as unsupported', async () => {
    const amr = concat(new TextEncoder().encode('#!AMR\n'), randomBytes(2000, 1));
    const layerTwo = mpegFrames(40, [0xff, 0xfd, 0x80, 0x04]);

    expect(await probeBytes(amr)).toMatchObject({ kind: 'unsupported', format: 'amr' });
    expect(await probeBytes(layerTwo)).toMatchObject({ kind: 'unsupported', format: 'mp2' });
  });

  it.each([
    ['picture.png', /looks like a PNG image, not audio/],
    ['document.pdf', /looks like a PDF document, not audio/],
    ['notes.txt', /looks like text, not audio/],
    ['random.bin', /not in any audio format/],
    ['video-only.mp4', /MP4 file has no audio track/],
    ['video-only.webm', /WebM file has no audio track/],
  ])('reports %s as unreadable with a reason a person understands', async (name, reason) => {
    const probe = await probeFixture(name);

    expect(probe).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(reason) });
  });

  it.each([
    [
      'an HTML page',
      new TextEncoder().encode('<!DOCTYPE html><html><body>Access denied</body></html>'),
      /HTML page/,
    ],
    [
      'a JPEG photo',
      concat(
        Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
        new TextEncoder().encode('JFIF\0'),
        randomBytes(500, 2),
      ),
      /JPG image/,
    ],
    ['a ZIP archive', concat(new TextEncoder().encode('PK\x03\x04'), randomBytes(500, 3)), /ZIP file/],
    [
      'an ID3 tag with nothing after it',
      concat(new TextEncoder().encode('ID3'), Uint8Array.from([3, 0, 0, 0, 0, 0, 20]), new Uint8Array(20)),
      /only an ID3 tag/,
    ],
    [
      'an ID3 tag followed by garbage',
      concat(new TextEncoder().encode('ID3'), Uint8Array.from([3, 0, 0, 0, 0, 0, 0]), randomBytes(3000, 4)),
      /no MP3 audio/,
    ],
  ])('reports %s as unreadable', async (_what, bytes, reason) => {
    const probe = await probeBytes(bytes);

    expect(probe).toMatchObject({ kind: 'unreadable', reason: expect.stringMatching(reason) });
  });

  it('reports a zero-byte file as empty', async () => {
    expect(await probeFixture('empty.wav')).toEqual({ kind: 'empty' });
  });
});

describe('probeAudio: reads as little as the container allows', () => {
  it('decides that 30 MB of garbage is not audio from the first 64 KiB', async () => {
    const source = bufferByteSource(randomBytes(30 * MEGABYTE, 5));

    const probe = await probeAudio(source);

    expect(probe.kind).toBe('unreadable');
    expect(source.bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES);
  });

  it('measures a 30 MB WAV from its header and its size alone', async () => {
    const dataBytes = 30 * MEGABYTE;
    const source = bufferByteSource(
      wavFile({ sampleRate: 48000, channels: 2, bitsPerSample: 16, dataBytes }),
    );

    const probe = expectAudio(await probeAudio(source));

    expect(probe.durationSec).toBeCloseTo(dataBytes / (48000 * 4), 6);
    expect(source.bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES);
  });

  it('finds a WAV data chunk behind a metadata chunk larger than the first read with a small extra read', async () => {
    const pcm = wavFile({ sampleRate: 8000, channels: 1, bitsPerSample: 16, dataBytes: 80000 });
    const list = new Uint8Array(8 + 200_000);
    list.set(new TextEncoder().encode('LIST'));
    new DataView(list.buffer).setUint32(4, 200_000, true);
    const bytes = concat(pcm.subarray(0, 36), list, pcm.subarray(36));
    const source = bufferByteSource(bytes);

    const probe = expectAudio(await probeAudio(source));

    expect(probe.durationSec).toBeCloseTo(5, 6);
    expect(source.bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES + 8);
  });

  it('recognises an unsupported format in a large file from the first 64 KiB', async () => {
    const flac = fixture('speech.flac');
    const source = bufferByteSource(concat(flac, new Uint8Array(20 * MEGABYTE)));

    const probe = await probeAudio(source);

    expect(probe.kind).toBe('unsupported');
    expect(source.bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES);
  });

  it('reads a small file once, not once for the header and again in full', async () => {
    const source = bufferByteSource(fixture('speech-cbr.mp3'));

    await probeAudio(source);

    expect(source.bytesRead).toBe(source.size);
  });

  it('measures a 20 MB MP3 by counting every frame', async () => {
    const frames = 48_000;
    const bytes = mpegFrames(frames);

    const probe = expectAudio(await probeBytes(bytes));

    expect(bytes.length).toBeGreaterThan(19 * MEGABYTE);
    expect(probe.durationSec).toBeCloseTo((frames * 1152) / 44100, 6);
  });
});

describe('probeAudio: never throws, never hangs', () => {
  it('does not take random bytes for audio, even when they are full of MPEG frame-sync patterns', async () => {
    const random = seededRandom(6);
    const verdicts: string[] = [];
    for (let round = 0; round < 150; round++) {
      const bytes = randomBytes(1 + Math.floor(random() * 70_000), 100 + round);
      if (round % 2 === 0) {
        // Plant lone frame headers: a parser that trusts one header would call this MP3.
        for (let plant = 0; plant < 50; plant++) {
          bytes.set([0xff, 0xfb, 0x90, 0x64], Math.floor(random() * Math.max(1, bytes.length - 4)));
        }
      }
      verdicts.push((await probeBytes(bytes)).kind);
    }

    expect(verdicts.filter((kind) => kind === 'audio')).toEqual([]);
  });

  it('turns damaged and truncated versions of every fixture into a verdict, quickly', async () => {
    const names = Object.keys(MANIFEST).filter((name) => MANIFEST[name]?.ffprobe?.audio);
    const random = seededRandom(7);
    const kinds = new Set<string>();
    let slowestMs = 0;
    for (const name of names) {
      const original = fixture(name);
      for (let round = 0; round < 12; round++) {
        const bytes = original.slice();
        const mutation = round % 4;
        if (mutation === 0) {
          for (let flip = 0; flip < 1 + round; flip++)
            bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        } else if (mutation === 1) {
          // Damage the headers, where sizes and counts live.
          for (let flip = 0; flip < 8; flip++)
            bytes[Math.floor(random() * Math.min(bytes.length, 600))] = 0xff;
        } else if (mutation === 2) {
          bytes.set(randomBytes(64, round), Math.floor(random() * Math.max(1, bytes.length - 64)));
        }
        const cut = mutation === 3 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
        const started = performance.now();

        const probe = await probeBytes(cut);

        slowestMs = Math.max(slowestMs, performance.now() - started);
        kinds.add(probe.kind);
        if (probe.kind === 'audio') {
          expect(Number.isFinite(probe.durationSec) && probe.durationSec > 0).toBe(true);
        }
      }
    }

    expect(kinds).toContain('audio');
    expect(kinds).toContain('unreadable');
    expect(slowestMs).toBeLessThan(1000);
  });

  it('rejects with AudioSourceError when the source itself fails, since that says nothing about the audio', async () => {
    const failing: ByteSource = {
      size: 1000,
      read: () => Promise.reject(new Error('connection reset')),
      readAll: () => Promise.reject(new Error('connection reset')),
    };

    await expect(probeAudio(failing)).rejects.toBeInstanceOf(AudioSourceError);
  });
});
