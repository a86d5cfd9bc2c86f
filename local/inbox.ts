import { mkdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { INCOMING_PREFIX } from '../functions/shared/contract';
import type { Log } from '../functions/shared/logger';
import { type FolderWatch, watchFolder } from './watch';

/** Where uploaded inbox files are moved, so a restart does not upload them again. */
export const UPLOADED_FOLDER = '.uploaded';

/**
 * Watches the inbox folder: `inbox/<provider>/<file>` is uploaded to `incoming/<provider>/<file>` and
 * `inbox/<file>` to `incoming/<file>`, then moved to `inbox/.uploaded/`. Files already there at start
 * are uploaded too. Partial writes are awaited before upload.
 */
export function watchInbox(options: {
  readonly inbox: string;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly log: Log;
  readonly onUploaded?: (key: string) => void;
}): FolderWatch {
  const watchOptions = {
    awaitWriteFinish: { stabilityThreshold: 300, pollInterval: 100 },
    // Hidden files and folders (`.uploaded/`, editors' temporary files) are not uploads.
    ignored: (path: string) =>
      relative(options.inbox, path)
        .split(sep)
        .some((part) => part.startsWith('.')),
  };
  const upload = async (path: string) => {
    const relativePath = relative(options.inbox, path).split(sep).join('/');
    const key = `${INCOMING_PREFIX}${relativePath}`;
    try {
      const body = await readFile(path);
      const size = body.length;
      await options.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body }));
      const target = join(
        options.inbox,
        UPLOADED_FOLDER,
        dirname(relativePath),
        `${Date.now()}-${basename(path)}`,
      );
      await mkdir(dirname(target), { recursive: true });
      await rename(path, target);
      options.log.info('inbox file uploaded', { key, sizeBytes: size });
      options.onUploaded?.(key);
    } catch (error) {
      options.log.error('inbox file could not be uploaded; it stays in the inbox', {
        path,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };
  return watchFolder(options.inbox, watchOptions, upload);
}
