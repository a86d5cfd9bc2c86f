import { open, readFile, stat } from 'node:fs/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../errors';
import { AudioSourceError } from './errors';
import type { ByteSource, MeteredByteSource } from './types';

/** Clamps a requested [start, end) range to [0, size); an empty range reads nothing. */
function clampRange(start: number, end: number, size: number): [number, number] {
  const from = Math.max(0, Math.min(Math.floor(start), size));
  const to = Math.max(from, Math.min(Math.floor(end), size));
  return [from, to];
}

/** Adds the bytes a fetch actually transferred to its source's bytesRead. */
type CountBytes = (bytes: number) => void;

/** How one kind of source fetches its bytes. */
interface ByteFetcher {
  /** A non-empty range, already clamped to the source. */
  readRange(from: number, to: number, count: CountBytes): Promise<Uint8Array>;
  readAll(count: CountBytes): Promise<Uint8Array>;
}

/**
 * What every source shares: its size, its bytesRead meter, and ranges clamped to the source, an empty one
 * answered without any I/O (S3 would refuse it with 416).
 */
function meteredByteSource(size: number, fetcher: ByteFetcher): MeteredByteSource {
  let bytesRead = 0;
  const count: CountBytes = (bytes) => {
    bytesRead += bytes;
  };
  return {
    size,
    get bytesRead() {
      return bytesRead;
    },
    async read(start, end) {
      const [from, to] = clampRange(start, end, size);
      if (to === from) return new Uint8Array(0);
      return fetcher.readRange(from, to, count);
    },
    readAll: () => fetcher.readAll(count),
  };
}

/** Bytes already in memory (tests, and callers that downloaded the object anyway). */
export function bufferByteSource(bytes: Uint8Array): MeteredByteSource {
  return meteredByteSource(bytes.length, {
    async readRange(from, to, count) {
      count(to - from);
      return bytes.subarray(from, to);
    },
    async readAll(count) {
      count(bytes.length);
      return bytes;
    },
  });
}

/**
 * A local file, read with positional reads so that a verdict from the first bytes never loads the rest.
 * Each read opens and closes the file, so an abandoned source leaks no descriptor.
 */
export async function fileByteSource(path: string): Promise<MeteredByteSource> {
  const size = await fileOperation(path, async () => {
    const stats = await stat(path);
    if (!stats.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
    return stats.size;
  });
  return meteredByteSource(size, {
    async readRange(from, to, count) {
      const buffer = new Uint8Array(to - from);
      const filled = await fileOperation(path, async () => {
        const handle = await open(path, 'r');
        try {
          let count = 0;
          // A positional read may return fewer bytes than asked; stop early only at the real end of file.
          while (count < buffer.length) {
            const result = await handle.read(buffer, count, buffer.length - count, from + count);
            if (result.bytesRead === 0) break;
            count += result.bytesRead;
          }
          return count;
        } finally {
          await handle.close();
        }
      });
      count(filled);
      return buffer.subarray(0, filled);
    },
    async readAll(count) {
      const bytes = new Uint8Array(await fileOperation(path, () => readFile(path)));
      count(bytes.length);
      return bytes;
    },
  });
}

const FILE_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'not a regular file',
};

/** Runs a file system call, turning its failure into an AudioSourceError that names the file. */
async function fileOperation<T>(path: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = FILE_ERRORS[code] ?? errorMessage(error);
    throw new AudioSourceError(`${path}: ${reason}`, { cause: error, retryable: false });
  }
}

export interface S3ByteSourceOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Decoded object key (S3 event keys are URL-encoded: decode them first). */
  readonly key: string;
  /** Pins every read to the version the event announced, so a concurrent overwrite cannot mix bytes. */
  readonly versionId?: string;
  /** From the event or a HEAD request: known before any byte is read. */
  readonly size: number;
  /** Aborts outstanding GETs when the caller gives up (e.g. the Lambda's remaining time). */
  readonly abortSignal?: AbortSignal;
}

/** An S3 object read with ranged GETs (`Range: bytes=a-b`), and one plain GET when everything is needed. */
export function s3ByteSource(options: S3ByteSourceOptions): MeteredByteSource {
  const { client, bucket, key, versionId, size, abortSignal } = options;
  // The longest run of bytes read from the start: a whole-object read only fetches what follows it.
  let head: Uint8Array | undefined;

  /** `whole`: the bytes so far (or none) to complete into the whole object, in one buffer of its size. */
  async function get(
    range: string | undefined,
    count: CountBytes,
    whole?: { readonly start?: Uint8Array },
  ): Promise<Uint8Array> {
    try {
      const response = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, Range: range }),
        { abortSignal },
      );
      if (!response.Body) return whole?.start ?? new Uint8Array(0);
      const bytes = whole
        ? await collectInto(response.Body as AsyncIterable<Uint8Array>, size, whole.start)
        : await response.Body.transformToByteArray();
      count(bytes.length - (whole?.start?.length ?? 0));
      return bytes;
    } catch (error) {
      const what = range ? `${range} of ` : '';
      // A deleted object stays deleted; anything else (throttling, network) may pass on a retry.
      const gone = ['NoSuchKey', 'NoSuchVersion', 'NotFound'].includes(
        (error as { name?: string }).name ?? '',
      );
      throw new AudioSourceError(
        `Could not read ${what}s3://${bucket}/${key}${gone ? ': the object no longer exists' : ''}`,
        { cause: error, retryable: !gone },
      );
    }
  }

  return meteredByteSource(size, {
    async readRange(from, to, count) {
      const bytes = await get(`bytes=${from}-${to - 1}`, count);
      if (from === 0 && bytes.length > (head?.length ?? 0)) head = bytes;
      return bytes;
    },
    readAll: async (count) => {
      if (!head) return get(undefined, count, {});
      if (head.length >= size) return head;
      return get(`bytes=${head.length}-${size - 1}`, count, { start: head });
    },
  });
}

/** Bytes of download between two young-generation collections. */
export const COLLECT_EVERY_BYTES = 4 * 1024 * 1024;

type Collector = (options: { type: 'minor' }) => void;
let collector: Collector | null | undefined;

/**
 * V8's `gc()`, obtained once and only when a large download needs it; null where it cannot be had. The
 * socket's chunks are garbage once copied, but V8 frees their memory only at a collection, and copying them
 * allocates too few JavaScript objects to start one: a 25 MB download alone grew RSS by 2.7 × its size, and
 * by 1.3 × with a minor collection every 4 MiB (each under a few milliseconds). `--expose-gc` in
 * NODE_OPTIONS would do, but changes V8's flags for the whole process, so Node rejects its code cache for
 * built-in modules: loading them (undici, for the first provider call) takes twice as long. Here the flag
 * is on only while one new context hands out its `gc`, then set back.
 */
export function garbageCollector(): Collector | null {
  if (collector !== undefined) return collector;
  const exposed = (globalThis as { gc?: Collector }).gc;
  if (typeof exposed === 'function') {
    collector = exposed;
    return collector;
  }
  const v8 = process.getBuiltinModule('node:v8');
  try {
    v8.setFlagsFromString('--expose-gc');
    const collect: unknown = process.getBuiltinModule('node:vm').runInNewContext('gc');
    collector = typeof collect === 'function' ? (collect as Collector) : null;
  } catch {
    collector = null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return collector;
}

/**
 * Reads a whole object into one buffer of its known size, chunk by chunk: collecting the chunks and
 * joining them would hold the object twice at its peak (25 MB uploads). Copes with a body that turns out
 * longer or shorter than announced.
 */
async function collectInto(
  body: AsyncIterable<Uint8Array>,
  expectedBytes: number,
  start?: Uint8Array,
): Promise<Uint8Array> {
  let buffer = new Uint8Array(Math.max(expectedBytes, start?.length ?? 0));
  let length = 0;
  if (start) {
    buffer.set(start);
    length = start.length;
  }
  let sinceCollection = 0;
  for await (const chunk of body) {
    if (length + chunk.length > buffer.length) {
      const larger = new Uint8Array(Math.max(buffer.length * 2, length + chunk.length));
      larger.set(buffer.subarray(0, length));
      buffer = larger;
    }
    buffer.set(chunk, length);
    length += chunk.length;
    sinceCollection += chunk.length;
    if (sinceCollection >= COLLECT_EVERY_BYTES) {
      garbageCollector()?.({ type: 'minor' });
      sinceCollection = 0;
    }
  }
  return length === buffer.length ? buffer : buffer.subarray(0, length);
}

/** Keeps the whole object once read, so validation and cloning download it at most once. */
export function cachingSource(
  source: ByteSource & { readonly bytesRead?: number },
): ByteSource & { readonly bytesRead: number } {
  let all: Promise<Uint8Array> | undefined;
  return {
    size: source.size,
    get bytesRead() {
      return source.bytesRead ?? 0;
    },
    read: (start, end) =>
      all ? all.then((bytes) => bytes.subarray(start, Math.min(end, bytes.length))) : source.read(start, end),
    readAll: () => {
      all ??= source.readAll();
      return all;
    },
  };
}
