import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, type LocalS3, startLocalS3 } from '../../local/servers';

let directory: string;
let s3: LocalS3;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'voicedrop-s3-'));
  s3 = await startLocalS3({ port: 0, directory, bucket: 'b' });
});

afterAll(async () => {
  await s3?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('local S3 server', () => {
  it('stores the real bytes of an upload sent with aws-chunked framing and a checksum trailer', async () => {
    // A default SDK client streams bodies of unknown length as aws-chunked with a CRC trailer,
    // as the AWS CLI v2 does.
    const client = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    const bytes = Buffer.alloc(200_000);
    for (let index = 0; index < bytes.length; index += 1) bytes[index] = (index * 7) % 251;
    await client.send(
      new PutObjectCommand({
        Bucket: 'b',
        Key: 'incoming/stream.bin',
        Body: Readable.from([bytes.subarray(0, 70_000), bytes.subarray(70_000)]),
        ContentLength: bytes.length,
      }),
    );
    const stored = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'incoming/stream.bin' }));
    const body = Buffer.from(
      await (stored.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(body.length).toBe(bytes.length);
    expect(body.equals(bytes)).toBe(true);
  });

  it('refuses credentials other than its own key pair', async () => {
    const stranger = new S3Client({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' },
    });
    await expect(
      stranger.send(new PutObjectCommand({ Bucket: 'b', Key: 'incoming/x', Body: 'x' })),
    ).rejects.toThrow();
  });
});
