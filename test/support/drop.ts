import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { localS3Client } from '../../local/servers';

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
