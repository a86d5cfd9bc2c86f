import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { deriveVoiceId, type VoiceRecord } from '../../functions/shared/voices/record';
import { FINAL_STATUSES } from '../../functions/shared/voices/status';
import { localS3Client } from '../../local/servers';
import { waitFor } from './wait';

/** Where a local-mode test drops its samples: what `npm start` prints, or an in-process pipeline's info. */
export interface DropTarget {
  readonly s3Endpoint: string;
  readonly bucket: string;
}

const clients = new Map<string, S3Client>();

/**
 * Puts a sample into the bucket as a user would (one PutObject, optional user metadata such as
 * `consent-id`) and returns the voice id the pipeline derives for that object.
 */
export async function dropSample(
  target: DropTarget,
  key: string,
  body: Uint8Array,
  metadata?: Record<string, string>,
): Promise<string> {
  let s3 = clients.get(target.s3Endpoint);
  if (!s3) {
    s3 = localS3Client(target.s3Endpoint);
    clients.set(target.s3Endpoint, s3);
  }
  const put = await s3.send(
    new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body, Metadata: metadata }),
  );
  return deriveVoiceId(target.bucket, key, (put.ETag ?? '').replace(/"/g, ''));
}

/** Whatever a test reads voices with: local mode's VoiceRepository, or a fixture's. */
export interface VoiceReader {
  get(voiceId: string): Promise<VoiceRecord | undefined>;
}

/**
 * Polls a voice's record until `until` holds (by default: the pipeline has given its verdict, a final
 * status) and resolves with it; times out naming the status it was stuck at.
 */
export async function waitForVoice(
  voices: VoiceReader,
  voiceId: string,
  options: { readonly until?: (record: VoiceRecord) => boolean; readonly timeoutMs?: number } = {},
): Promise<VoiceRecord> {
  const until = options.until ?? ((record: VoiceRecord) => FINAL_STATUSES.has(record.status));
  let last: VoiceRecord | undefined;
  return waitFor(
    `voice ${voiceId}`,
    async () => {
      last = await voices.get(voiceId);
      return last && until(last) ? last : undefined;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, detail: () => `stuck at ${last?.status ?? 'no record'}` },
  );
}
