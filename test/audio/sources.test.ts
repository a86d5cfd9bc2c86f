import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioSourceError } from '../../functions/shared/audio/errors';
import { FIRST_READ_BYTES } from '../../functions/shared/audio/probe';
import {
  bufferByteSource,
  cachingSource,
  fileByteSource,
  s3ByteSource,
} from '../../functions/shared/audio/sources';
import type { MeteredByteSource } from '../../functions/shared/audio/types';
import { validateSource } from '../../functions/shared/validation/validate';
import { type LocalS3, localS3Client, startLocalS3 } from '../../local/servers';
import { fixture, fixturePath, randomBytes, wavFile } from './helpers';

const MEGABYTE = 1024 * 1024;

describe('bufferByteSource', () => {
  it('returns [start, end) clamped to the bytes and counts what it returned', async () => {
    const source = bufferByteSource(Uint8Array.from([0, 1, 2, 3, 4, 5]));

    expect([...(await source.read(2, 4))]).toEqual([2, 3]);
    expect([...(await source.read(4, 100))]).toEqual([4, 5]);
    expect([...(await source.read(9, 12))]).toEqual([]);
    expect(source.bytesRead).toBe(4);
  });
});

describe('fileByteSource', () => {
  it('reads byte ranges with positional reads and knows the size before reading', async () => {
    const expected = fixture('speech-cbr.mp3');
    const source = await fileByteSource(fixturePath('speech-cbr.mp3'));

    const size = source.size;
    const middle = await source.read(1000, 1010);

    expect(size).toBe(expected.length);
    expect([...middle]).toEqual([...expected.subarray(1000, 1010)]);
    expect(source.bytesRead).toBe(10);
  });

  it('fails with an AudioSourceError naming the file when it does not exist', async () => {
    const missing = join(tmpdir(), 'voicedrop-no-such-file.wav');

    await expect(fileByteSource(missing)).rejects.toThrow(AudioSourceError);
    await expect(fileByteSource(missing)).rejects.toThrow(/voicedrop-no-such-file\.wav: no such file/);
  });
});

describe('s3ByteSource against an S3-compatible server (s3rver)', () => {
  const bucket = 'b';
  let directory: string;
  let server: LocalS3;
  let client: S3Client;

  /** Puts `body` at `key` and reads it back through an s3ByteSource of its size. */
  async function uploaded(key: string, body: Uint8Array): Promise<MeteredByteSource> {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return s3ByteSource({ client, bucket, key, size: body.length });
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'voicedrop-audio-s3-'));
    server = await startLocalS3({ port: 0, directory, bucket });
    client = localS3Client(server.endpoint);
  });

  afterAll(async () => {
    client?.destroy();
    await server?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads a byte range with a ranged GET and everything with a plain GET', async () => {
    const bytes = fixture('speech-16bit-mono.wav');
    const source = await uploaded('incoming/smallest/Range Test.wav', bytes);

    const range = await source.read(100, 164);
    const afterRange = source.bytesRead;
    const all = await source.readAll();

    expect([...range]).toEqual([...bytes.subarray(100, 164)]);
    expect(afterRange).toBe(64);
    expect(all.length).toBe(bytes.length);
    expect(source.bytesRead).toBe(64 + bytes.length);
  });

  it('completes the whole object from what it already read from the start, fetching only the rest', async () => {
    const bytes = fixture('speech-16bit-mono.wav');
    const source = await uploaded('incoming/smallest/Head Then All.wav', bytes);

    const head = await source.read(0, 4_096);
    const all = await source.readAll();

    expect([...head]).toEqual([...bytes.subarray(0, 4_096)]);
    expect(Buffer.from(all).equals(Buffer.from(bytes))).toBe(true);
    expect(source.bytesRead).toBe(bytes.length);
  });

  it('judges a 20 MB WAV from its first 64 KiB when the quality gate is off', async () => {
    const wav = wavFile({ sampleRate: 44100, channels: 2, bitsPerSample: 16, dataBytes: 20 * MEGABYTE });
    const source = await uploaded('incoming/typecast/long.wav', wav);

    const { report } = await validateSource(source, {
      provider: 'typecast',
      displayName: 'long',
      options: {},
      quality: false,
    });

    expect(report).toMatchObject({ format: 'wav', ok: true, quality: null });
    expect(report.durationSec).toBeCloseTo((20 * MEGABYTE) / (44100 * 4), 3);
    expect(source.bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES);
  });

  it('reads a WAV within the limit whole for the quality gate, once, and hears its silence', async () => {
    const wav = wavFile({ sampleRate: 44100, channels: 2, bitsPerSample: 16, dataBytes: 20 * MEGABYTE });
    const source = cachingSource(await uploaded('incoming/typecast/silent.wav', wav));

    const { report } = await validateSource(source, {
      provider: 'typecast',
      displayName: 'silent',
      options: {},
    });

    expect(report.errors.map((issue) => issue.code)).toEqual(['silent_audio']);
    expect(report.quality).toMatchObject({ measured: true, speechSec: 0, peakDbfs: null });
    expect(source.bytesRead).toBe(wav.length);
  });

  it('rejects 6 MB of garbage after reading at most 64 KiB', async () => {
    const garbage = randomBytes(6 * MEGABYTE, 11);
    const source = await uploaded('incoming/typecast/garbage.wav', garbage);

    const { report } = await validateSource(source, {
      provider: 'typecast',
      displayName: 'garbage',
      options: {},
    });

    expect(report.errors.map((issue) => issue.code)).toEqual(['unreadable_audio']);
    expect(source.bytesRead).toBeGreaterThan(0);
    expect(source.bytesRead).toBeLessThanOrEqual(FIRST_READ_BYTES);
  });

  it('rejects an oversize upload with every problem its first 64 KiB show (one ranged GET)', async () => {
    const oversize = wavFile({ sampleRate: 44100, channels: 2, bitsPerSample: 16, dataBytes: 6 * MEGABYTE });
    const source = await uploaded('incoming/smallest/big.wav', oversize);

    const { report } = await validateSource(source, {
      provider: 'smallest',
      displayName: 'big',
      options: {},
    });

    expect(report.errors.map((issue) => issue.code)).toEqual(['file_too_large', 'audio_too_long']);
    expect(source.bytesRead).toBe(FIRST_READ_BYTES);
  });

  it('fails with a non-retryable AudioSourceError when the object no longer exists', async () => {
    const source = s3ByteSource({ client, bucket, key: 'incoming/smallest/gone.wav', size: 1000 });

    const failure = source.read(0, 100);

    await expect(failure).rejects.toBeInstanceOf(AudioSourceError);
    await expect(failure).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/no longer exists/),
    });
  });

  it('fails with a retryable AudioSourceError when the server cannot be reached', async () => {
    const unreachable = localS3Client('http://127.0.0.1:9');
    const source = s3ByteSource({ client: unreachable, bucket, key: 'incoming/smallest/x.wav', size: 1000 });

    const failure = source.read(0, 100);

    await expect(failure).rejects.toMatchObject({ name: 'AudioSourceError', retryable: true });
    unreachable.destroy();
  });
});

describe('fileByteSource with a file that changes', () => {
  it('returns only the bytes that are there when the file shrank after it was opened', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'voicedrop-audio-file-'));
    const path = join(folder, 'shrinking.bin');
    writeFileSync(path, new Uint8Array(1000));
    const source = await fileByteSource(path);
    writeFileSync(path, new Uint8Array(10));

    const bytes = await source.read(0, 1000);

    expect(bytes.length).toBe(10);
    rmSync(folder, { recursive: true, force: true });
  });
});
