import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseS3NotificationBody } from '../functions/clone/s3-events';
import { errorMessage } from '../functions/shared/errors';
import type { Log } from '../functions/shared/logger';
import { deriveVoiceId } from '../functions/shared/voices/record';
import { parseWebhookMessage, webhookPayload } from '../functions/webhooks/payload';
import { dataPaths } from './servers';
import { type FolderWatch, watchFolder } from './watch';

/**
 * Local dead letters and their redrive, for the clone queue and for webhooks. LocalQueue appends one JSON
 * line per dead letter to `<data-dir>/dead-letters.jsonl`, the webhook outbox to
 * `<data-dir>/webhook-dead-letters.jsonl`; `npm run redrive -- --local [--webhooks]` renames that file
 * into `<data-dir>/redrive/` or `<data-dir>/webhook-redrive/` (one atomic rename, so it works whether
 * local mode runs or not, and a dead letter written at that moment lands in a new file), and local mode
 * sends every message in that folder back to its queue: at once while it runs, else when it next starts.
 */

/** Which dead letters: uploads of the clone queue, or webhooks of the outbox. */
export type LocalRedriveTarget = 'clone' | 'webhooks';

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

/** One line of webhook-dead-letters.jsonl (local/webhook-outbox.ts). */
export interface WebhookDeadLetterLine {
  /** The outbox message id, kept when the message is redriven. */
  readonly messageId: string;
  readonly receiveCount: number;
  readonly sentAt: string;
  readonly at: string;
  /** Why: the endpoint's refusal, or `ran out of retries`. */
  readonly reason: string;
  /** The webhook queue message `{ endpoint, detailType, detail }`: what a redrive sends again. */
  readonly body: string;
}

/** A dead letter as the redrive reads it, with one line saying what it is for a person. */
export type LocalDeadLetter = (DeadLetterLine | WebhookDeadLetterLine) & { readonly summary: string };

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

/** The folder local mode watches for redriven messages of `target`. */
export function redriveFolder(dataDir: string, target: LocalRedriveTarget = 'clone'): string {
  const paths = dataPaths(resolve(dataDir));
  return target === 'clone' ? paths.redrive : paths.webhookRedrive;
}

/** The file dead letters of `target` are appended to. */
export function deadLetterFile(dataDir: string, target: LocalRedriveTarget = 'clone'): string {
  const paths = dataPaths(resolve(dataDir));
  return target === 'clone' ? paths.deadLetters : paths.webhookDeadLetters;
}

export interface LocalRedriveResult {
  /** Dead letters moved to the redrive folder. */
  readonly moved: number;
  /** Where they went (absent when there was nothing to move). */
  readonly file?: string;
  readonly letters: readonly LocalDeadLetter[];
  /** Lines that could not be read (they move too, and are kept aside by local mode). */
  readonly unreadable: number;
}

/**
 * Moves the dead-letter file of `target` (default `clone`) to `<redrive folder>/<timestamp>.jsonl`, where
 * local mode picks it up. With `dryRun` it only reads the dead letters.
 */
export async function redriveLocalDeadLetters(options: {
  readonly dataDir: string;
  readonly target?: LocalRedriveTarget;
  readonly dryRun?: boolean;
}): Promise<LocalRedriveResult> {
  const target = options.target ?? 'clone';
  const source = deadLetterFile(options.dataDir, target);
  const folder = redriveFolder(options.dataDir, target);
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
  const { letters, unreadable } = parseDeadLetters(text, target);
  const moved = letters.length + unreadable.length;
  if (moved === 0 && !options.dryRun) {
    await unlink(file).catch(() => undefined);
    return { moved: 0, letters, unreadable: 0 };
  }
  return { moved, file: options.dryRun ? undefined : file, letters, unreadable: unreadable.length };
}

/** Dead letters still waiting in the data folder, and redriven ones local mode has not sent yet. */
export async function localDeadLetterStatus(
  dataDir: string,
  target: LocalRedriveTarget = 'clone',
): Promise<{
  readonly waiting: readonly LocalDeadLetter[];
  readonly redriving: number;
}> {
  const waiting = await readFile(deadLetterFile(dataDir, target), 'utf8').then(
    (text) => parseDeadLetters(text, target).letters,
    (error: unknown) => {
      if (isMissing(error)) return [];
      throw error;
    },
  );
  let redriving = 0;
  const folder = redriveFolder(dataDir, target);
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
 * Local mode's side: sends every dead letter in the redrive folder of `target` back to its queue, for the
 * files there at start and those that appear later, then deletes each file. Lines that cannot be read are
 * kept in `<file>.unreadable` (not picked up again). A crash between sending and deleting sends the file
 * again at the next start: harmless, since the clone handler takes each upload up once and a webhook keeps
 * its webhook-id (receivers dedupe on it).
 */
export function watchRedrive(options: {
  readonly dataDir: string;
  readonly target?: LocalRedriveTarget;
  /** Puts one message back on its queue (resolves once it is stored there). */
  readonly send: (body: string, letter: LocalDeadLetter) => void | Promise<void>;
  readonly log: Log;
  /** Called after a file was sent back and deleted. */
  readonly onRedriven?: (count: number, file: string) => void;
}): FolderWatch {
  const target = options.target ?? 'clone';
  const folder = redriveFolder(options.dataDir, target);
  mkdirSync(folder, { recursive: true });
  const seen = new Set<string>();
  const redrive = async (file: string) => {
    if (!file.endsWith('.jsonl') || resolve(dirname(file)) !== folder || seen.has(file)) return;
    seen.add(file);
    try {
      const { letters, unreadable } = parseDeadLetters(await readFile(file, 'utf8'), target);
      for (const letter of letters) await options.send(letter.body, letter);
      if (unreadable.length > 0) {
        await writeFile(`${file}.unreadable`, `${unreadable.join('\n')}\n`);
        options.log.warn('some redriven dead letters could not be read; they are kept aside', {
          file: `${file}.unreadable`,
          lines: unreadable.length,
        });
      }
      await unlink(file);
      options.log.info(
        target === 'clone'
          ? 'dead letters sent back to the clone queue'
          : 'dead-lettered webhooks sent again',
        { count: letters.length, file: basename(file), letters: letters.map((letter) => letter.summary) },
      );
      options.onRedriven?.(letters.length, file);
    } catch (error) {
      seen.delete(file);
      options.log.error('could not redrive dead letters; the file stays for the next start', {
        file,
        error: errorMessage(error),
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

function parseDeadLetters(
  text: string,
  target: LocalRedriveTarget,
): { letters: LocalDeadLetter[]; unreadable: string[] } {
  const letters: LocalDeadLetter[] = [];
  const unreadable: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as Partial<DeadLetterLine & WebhookDeadLetterLine>;
      if (typeof parsed.body !== 'string') throw new Error('no body');
      if (target === 'webhooks') {
        if (typeof parsed.messageId !== 'string') throw new Error('no message id');
        const letter = parsed as WebhookDeadLetterLine;
        letters.push({ ...letter, summary: webhookSummary(letter) });
      } else {
        // Lines written before dead letters carried their context get it here.
        const letter = { ...deadLetterContext(parsed.body), ...parsed } as DeadLetterLine;
        letters.push({ ...letter, summary: uploadsSummary(letter) });
      }
    } catch {
      unreadable.push(line);
    }
  }
  return { letters, unreadable };
}

function uploadsSummary(letter: DeadLetterLine): string {
  return (
    letter.uploads.map((upload) => `${upload.voiceId}  ${upload.key}`).join(', ') ||
    `(${letter.problem ?? 'no upload'})`
  );
}

function webhookSummary(letter: WebhookDeadLetterLine): string {
  const parsed = parseWebhookMessage(letter.body);
  if (!parsed.ok) return `(not a webhook message: ${parsed.problem}; ${letter.reason})`;
  const { endpoint, detail } = parsed.message;
  return `${webhookPayload(detail).type} ${detail.voiceId} to ${endpoint}, webhook-id ${detail.eventId} (${letter.reason})`;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
