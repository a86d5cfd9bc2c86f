import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseS3NotificationBody } from '../functions/clone/s3-events';
import type { Log } from '../functions/shared/logger';
import { deriveVoiceId } from '../functions/shared/voices/record';
import { dataPaths } from './servers';
import { type FolderWatch, watchFolder } from './watch';

/**
 * Local dead letters and their redrive. LocalQueue appends one JSON line per dead letter to
 * `<data-dir>/dead-letters.jsonl`; `npm run redrive -- --local` renames that file into
 * `<data-dir>/redrive/` (one atomic rename, so it works whether local mode runs or not, and a dead letter
 * written at that moment lands in a new dead-letters.jsonl), and local mode sends every body in that
 * folder back to its queue as a new message: at once while it runs, else when it next starts.
 */

/** One upload named by a dead-lettered message: the key decoded, and the voice record it maps to. */
export interface DeadLetterUpload {
  readonly bucket: string;
  readonly key: string;
  readonly voiceId: string;
}

/** One line of dead-letters.jsonl. */
export interface DeadLetterLine {
  readonly messageId: string;
  /** Deliveries it had (the queue's maxReceiveCount). */
  readonly receiveCount: number;
  /** When the message was first sent to the queue. */
  readonly sentAt: string;
  /** When it was dead-lettered. */
  readonly at: string;
  readonly uploads: readonly DeadLetterUpload[];
  /** Why the body names no upload (not an S3 notification, or malformed). */
  readonly problem?: string;
  /** Set only when the handler itself threw on the last delivery; otherwise the voice record's `error`. */
  readonly lastError?: string;
  /** The message body as sent (an S3 event notification): what a redrive sends again. */
  readonly body: string;
}

/** The uploads a message body names, for a person reading the dead letters. */
export function deadLetterContext(body: string): Pick<DeadLetterLine, 'uploads' | 'problem'> {
  const parsed = parseS3NotificationBody(body);
  if (parsed.kind === 'malformed') return { uploads: [], problem: parsed.reason };
  if (parsed.kind === 'test-event') return { uploads: [], problem: 's3:TestEvent' };
  return {
    uploads: parsed.objects.map((object) => ({
      bucket: object.bucket,
      key: object.key,
      // As the clone handler derives it (functions/clone/batch.ts).
      voiceId: deriveVoiceId(
        object.bucket,
        object.key,
        object.versionId ?? object.etag ?? object.sequencer ?? '',
      ),
    })),
  };
}

export function redriveFolder(dataDir: string): string {
  return join(resolve(dataDir), 'redrive');
}

export interface LocalRedriveResult {
  /** Dead letters moved to the redrive folder. */
  readonly moved: number;
  /** Where they went (absent when there was nothing to move). */
  readonly file?: string;
  readonly letters: readonly DeadLetterLine[];
  /** Lines that could not be read (they move too, and are kept aside by local mode). */
  readonly unreadable: number;
}

/**
 * Moves `<data-dir>/dead-letters.jsonl` to `<data-dir>/redrive/<timestamp>.jsonl`, where local mode picks
 * it up. With `dryRun` it only reads the dead letters.
 */
export async function redriveLocalDeadLetters(options: {
  readonly dataDir: string;
  readonly dryRun?: boolean;
}): Promise<LocalRedriveResult> {
  const source = dataPaths(resolve(options.dataDir)).deadLetters;
  const folder = redriveFolder(options.dataDir);
  let file = source;
  if (!options.dryRun) {
    await mkdir(folder, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    // rename() replaces an existing target: the random part keeps two redrives in one millisecond apart.
    file = join(folder, `${stamp}-${randomBytes(4).toString('hex')}.jsonl`);
    try {
      await rename(source, file);
    } catch (error) {
      if (isMissing(error)) return { moved: 0, letters: [], unreadable: 0 };
      throw error;
    }
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return { moved: 0, letters: [], unreadable: 0 };
    throw error;
  }
  const { letters, unreadable } = parseDeadLetters(text);
  const moved = letters.length + unreadable.length;
  if (moved === 0 && !options.dryRun) {
    await unlink(file).catch(() => undefined);
    return { moved: 0, letters, unreadable: 0 };
  }
  return { moved, file: options.dryRun ? undefined : file, letters, unreadable: unreadable.length };
}

/** Dead letters still waiting in the data folder, and redriven ones local mode has not sent yet. */
export async function localDeadLetterStatus(dataDir: string): Promise<{
  readonly waiting: readonly DeadLetterLine[];
  readonly redriving: number;
}> {
  const waiting = await readFile(dataPaths(resolve(dataDir)).deadLetters, 'utf8').then(
    (text) => parseDeadLetters(text).letters,
    (error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    },
  );
  let redriving = 0;
  const folder = redriveFolder(dataDir);
  const files = await readdir(folder).catch((error: unknown) => {
    if (isMissing(error)) return [];
    throw error;
  });
  for (const name of files.filter((name) => name.endsWith('.jsonl'))) {
    const text = await readFile(join(folder, name), 'utf8').catch(() => '');
    redriving += text.split('\n').filter((line) => line.trim() !== '').length;
  }
  return { waiting, redriving };
}

/**
 * Local mode's side: sends every dead letter in the redrive folder back to the queue as a new message, for
 * the files there at start and those that appear later, then deletes each file. Lines that cannot be read
 * are kept in `<file>.unreadable` (not picked up again). A crash between sending and deleting sends the
 * file again at the next start: harmless, since the clone handler takes each upload up once.
 */
export function watchRedrive(options: {
  readonly dataDir: string;
  readonly send: (body: string) => void;
  readonly log: Log;
  /** Called after a file was sent back and deleted. */
  readonly onRedriven?: (count: number, file: string) => void;
}): FolderWatch {
  const folder = redriveFolder(options.dataDir);
  mkdirSync(folder, { recursive: true });
  const seen = new Set<string>();
  const redrive = async (file: string) => {
    if (!file.endsWith('.jsonl') || resolve(dirname(file)) !== folder || seen.has(file)) return;
    seen.add(file);
    try {
      const { letters, unreadable } = parseDeadLetters(await readFile(file, 'utf8'));
      for (const letter of letters) options.send(letter.body);
      if (unreadable.length > 0) {
        await writeFile(`${file}.unreadable`, `${unreadable.join('\n')}\n`);
        options.log.warn('some redriven dead letters could not be read; they are kept aside', {
          file: `${file}.unreadable`,
          lines: unreadable.length,
        });
      }
      await unlink(file);
      options.log.info('dead letters sent back to the clone queue', {
        count: letters.length,
        file: basename(file),
        voiceIds: letters.flatMap((letter) => letter.uploads.map((upload) => upload.voiceId)),
      });
      options.onRedriven?.(letters.length, file);
    } catch (error) {
      seen.delete(file);
      options.log.error('could not redrive dead letters; the file stays for the next start', {
        file,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  return watchFolder(
    folder,
    // A redrive renames whole files in; this only guards a dead letter appended during that rename.
    { depth: 0, awaitWriteFinish: { stabilityThreshold: 150, pollInterval: 50 } },
    redrive,
  );
}

function parseDeadLetters(text: string): { letters: DeadLetterLine[]; unreadable: string[] } {
  const letters: DeadLetterLine[] = [];
  const unreadable: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as Partial<DeadLetterLine>;
      if (typeof parsed.body !== 'string') throw new Error('no body');
      // Lines written before dead letters carried their context get it here.
      letters.push({ ...deadLetterContext(parsed.body), ...parsed } as DeadLetterLine);
    } catch {
      unreadable.push(line);
    }
  }
  return { letters, unreadable };
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
