import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';

const MEBIBYTE = 1024 * 1024;
const exposed = globalThis as { gc?: unknown };
const original = exposed.gc;

/** A fresh copy of the module, so that each test finds its own way to V8's gc. */
async function freshSources() {
  vi.resetModules();
  return import('../../functions/shared/audio/sources');
}

/** An S3 client whose GetObject answers with `chunks` of 1 MiB, byte i of the object being i % 251. */
function clientServing(chunks: number): S3Client {
  async function* body() {
    for (let index = 0; index < chunks; index += 1) {
      yield Uint8Array.from({ length: MEBIBYTE }, (_, offset) => (index * MEBIBYTE + offset) % 251);
    }
  }
  return { send: async () => ({ Body: body() }) } as unknown as S3Client;
}

describe('s3ByteSource: reading a whole object', () => {
  afterEach(() => {
    exposed.gc = original;
  });

  it('runs a minor collection every few mebibytes, so copied chunks do not pile up', async () => {
    const collect = vi.fn();
    exposed.gc = collect;
    const { COLLECT_EVERY_BYTES, s3ByteSource } = await freshSources();
    const size = 10 * MEBIBYTE;

    const bytes = await s3ByteSource({ client: clientServing(10), bucket: 'b', key: 'k', size }).readAll();

    expect(bytes.length).toBe(size);
    expect(bytes[size - 1]).toBe((size - 1) % 251);
    expect(collect).toHaveBeenCalledTimes(Math.floor(size / COLLECT_EVERY_BYTES));
    expect(collect).toHaveBeenCalledWith({ type: 'minor' });
  });

  it('gets V8’s gc without exposing it to the process where no flag did', async () => {
    exposed.gc = undefined;
    const { garbageCollector } = await freshSources();

    const collect = garbageCollector();

    expect(typeof collect).toBe('function');
    expect(() => collect?.({ type: 'minor' })).not.toThrow();
    expect(exposed.gc).toBeUndefined();
  });
});
