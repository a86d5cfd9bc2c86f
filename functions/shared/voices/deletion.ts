import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  NotFound,
  type S3Client,
} from '@aws-sdk/client-s3';
import { deleteObjectsBelow } from '../bucket-prefix';
import { SPEECH_CACHE_PREFIX, SPEECH_PREFIX } from '../contract';
import { VoicedropError } from '../errors';
import type { Log } from '../logger';
import type { MetricsRecorder } from '../metrics';
import { isProviderError } from '../providers/errors';
import type { ProviderName, VoiceProvider } from '../providers/types';
import {
  type DeletionReason,
  knownProviderOf,
  VOICE_ID_PATTERN,
  type VoiceDeletion,
  type VoiceRecord,
} from './record';
import type { VoiceRepository } from './repository';
import {
  DELETABLE_STATUSES,
  ENDED_WITHOUT_VOICE_STATUSES,
  IN_PROGRESS_STATUSES,
  statusesThatMayBecome,
} from './status';

/**
 * Deleting a voice everywhere: the one routine for the API (DELETE /voices/{id}), the retention sweep,
 * consent revocations and a clone whose consent was withdrawn while it ran. Its refusals are domain errors
 * (VoiceDeletionError); the API turns them into HTTP answers (functions/api/errors.ts).
 */

export interface DeleteDependencies {
  readonly s3: S3Client;
  /** Where the synthesis cache and stored speech live (cache/<voiceId>/, speech/<voiceId>/). */
  readonly bucket: string;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  readonly logger: Log;
  readonly metrics: MetricsRecorder;
  readonly now: () => Date;
}

/** Why a voice goes and on whose word: the start of its receipt. */
export interface DeletionRequest {
  readonly reason: DeletionReason;
  /** The caller's IAM principal; `retention` or `consent` for the sweep and revocations. */
  readonly by: string;
  /**
   * The sweep's guard: delete only while `usage.lastUsedAt` is still what it listed (null: never used),
   * so a voice spoken with since then stays.
   */
  readonly lastUsedAt?: string | null;
}

/**
 * Why a voice could not be deleted now: `voice_not_found`; `voice_busy` (still being processed, or changed
 * meanwhile: retryable); `voice_used` (the sweep's guard: used or changed since it was listed, so it stays).
 */
export class VoiceDeletionError extends VoicedropError {
  declare readonly code: 'voice_not_found' | 'voice_busy' | 'voice_used';

  constructor(code: VoiceDeletionError['code'], message: string) {
    super(code, message, { retryable: code === 'voice_busy' });
  }
}

/**
 * Deletes a voice everywhere: the
 * provider's clone, every version of the source audio, the cached and stored speech and the preview clips;
 * then the record becomes `deleted` with its receipt (`deletion`) and without the data derived from the
 * audio (hash, quality figures, preview URLs). Idempotent: a deleted voice answers as it is, with no
 * provider call. A failure half-way leaves the record `deleting` (with the reason already recorded), and the
 * next attempt (API or sweep) carries on from there.
 */
export async function deleteVoice(
  voiceId: string,
  request: DeletionRequest,
  dependencies: DeleteDependencies,
): Promise<VoiceRecord> {
  const record = await deletableVoice(voiceId, dependencies);
  if (record.status === 'deleted') return record;
  const started = await startDeletion(record, request, dependencies);

  const provider = await deleteProviderClone(record, dependencies);
  const sourceVersionsDeleted = await deleteSourceAudio(record, dependencies);
  // Speech made with the voice goes with it. A request still streaming may cache a last piece after this;
  // the cache's lifecycle rule removes that one.
  const cachedObjectsDeleted =
    (await deleteObjectsBelow(dependencies.s3, dependencies.bucket, `${SPEECH_CACHE_PREFIX}${voiceId}/`)) +
    (await deleteObjectsBelow(dependencies.s3, dependencies.bucket, `${SPEECH_PREFIX}${voiceId}/`));
  if (record.processing?.claimKey)
    await dependencies.voices.releaseClaim(record.processing.claimKey, voiceId);

  const deletedAt = dependencies.now();
  const { sha256: _sha256, quality: _quality, ...source } = record.source;
  await dependencies.voices.transition(voiceId, {
    from: statusesThatMayBecome('deleted'),
    to: 'deleted',
    // Preview clips are the cloned voice speaking: they go with it; so do the hash and quality figures.
    changes: {
      deletedAt: deletedAt.toISOString(),
      deletion: { ...started, ...provider, sourceVersionsDeleted, cachedObjectsDeleted },
      samples: null,
      source,
    },
    now: deletedAt,
  });
  const deleted = await dependencies.voices.get(voiceId);
  if (!deleted) throw new VoiceDeletionError('voice_not_found', `No voice ${voiceId}.`);
  dependencies.logger.info('voice deleted', {
    voiceId,
    provider: record.provider,
    providerDeletion: provider.provider,
    reason: started.reason,
    by: started.by,
    sourceVersionsDeleted,
    cachedObjectsDeleted,
  });
  return deleted;
}

/** The voice to delete: not found for anything but a voice, busy while it is still being processed. */
async function deletableVoice(voiceId: string, dependencies: DeleteDependencies): Promise<VoiceRecord> {
  const record = await dependencies.voices.get(voiceId);
  // The table's other items (audio claims, provider slots) are no voices.
  if (!record || !VOICE_ID_PATTERN.test(record.voiceId)) {
    throw new VoiceDeletionError('voice_not_found', `No voice ${voiceId}.`);
  }
  if (IN_PROGRESS_STATUSES.has(record.status)) {
    throw new VoiceDeletionError(
      'voice_busy',
      `Voice ${voiceId} is still being processed (${record.status}); try again shortly.`,
    );
  }
  return record;
}

/** Moves the voice to `deleting` with the deletion's reason; a deletion that stopped half-way keeps its own. */
async function startDeletion(
  record: VoiceRecord,
  request: DeletionRequest,
  dependencies: DeleteDependencies,
): Promise<VoiceDeletion> {
  const { voiceId } = record;
  const started: VoiceDeletion =
    record.status === 'deleting' && record.deletion?.reason
      ? record.deletion
      : { reason: request.reason, by: request.by, at: dependencies.now().toISOString() };
  const moved = await dependencies.voices.transition(voiceId, {
    from: DELETABLE_STATUSES,
    to: 'deleting',
    // A rejected or failed upload keeps why it was refused.
    changes: { error: ENDED_WITHOUT_VOICE_STATUSES.has(record.status) ? undefined : null, deletion: started },
    lastUsedAt: request.lastUsedAt,
    now: dependencies.now(),
  });
  if (!moved) {
    if (request.lastUsedAt !== undefined) {
      throw new VoiceDeletionError('voice_used', `Voice ${voiceId} was used or changed; it stays.`);
    }
    throw new VoiceDeletionError('voice_busy', `Voice ${voiceId} changed while deleting; try again.`);
  }
  return started;
}

async function deleteProviderClone(
  record: VoiceRecord,
  dependencies: DeleteDependencies,
): Promise<Pick<VoiceDeletion, 'provider' | 'detail'>> {
  // A duplicate shares its owner's clone; rejected and most failed uploads never had one.
  if (!record.providerVoiceId || record.status === 'duplicate' || record.duplicateOf) {
    return { provider: 'not_applicable' };
  }
  const name = knownProviderOf(record);
  if (!name) return { provider: 'not_applicable' };
  const provider = dependencies.providers[name];
  try {
    const started = Date.now();
    const result = await provider.deleteVoice(record.providerVoiceId, {
      signal: AbortSignal.timeout(15_000),
    });
    dependencies.metrics.providerLatency(name, 'delete', Date.now() - started);
    return result.deleted ? { provider: 'deleted' } : { provider: 'not_deleted', detail: result.detail };
  } catch (error) {
    if (isProviderError(error) && error.kind === 'not_found') return { provider: 'deleted' };
    // Leave the record `deleting`: the caller retries and this step runs again.
    throw error;
  }
}

/**
 * Removes this voice's source audio: its own object version, every other version of the key holding
 * the same bytes (same ETag), and the key's delete markers once no version is left. Versions with other
 * content belong to other voices and stay. Without versioning (local mode), the object is deleted if it
 * still holds this voice's bytes.
 */
async function deleteSourceAudio(record: VoiceRecord, dependencies: DeleteDependencies): Promise<number> {
  const { bucket, key, versionId, etag } = record.source;
  const versions = await listVersions(dependencies.s3, bucket, key);
  if (!versions) {
    try {
      const head = await dependencies.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (etag && head.ETag?.replace(/"/g, '') !== etag) return 0;
      await dependencies.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      return 1;
    } catch (error) {
      if (!(error instanceof NotFound || (error as { name?: string }).name === 'NotFound')) throw error;
    }
    return 0;
  }
  // A duplicate's bytes are its owner's too: only its own version goes, the owner's source stays.
  const sameBytes = etag !== undefined && !record.duplicateOf;
  const ours = versions.objects.filter(
    (version) => version.versionId === versionId || (sameBytes && version.etag === etag),
  );
  for (const version of ours) {
    await dependencies.s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: version.versionId }),
    );
  }
  if (ours.length === versions.objects.length) {
    for (const marker of versions.deleteMarkers) {
      await dependencies.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: marker }));
    }
  }
  return ours.length;
}

interface KeyVersions {
  readonly objects: { versionId: string; etag?: string }[];
  readonly deleteMarkers: string[];
}

/** Every version of exactly `key`; undefined when the store has no versioning API (s3rver). */
async function listVersions(s3: S3Client, bucket: string, key: string): Promise<KeyVersions | undefined> {
  const objects: KeyVersions['objects'] = [];
  const deleteMarkers: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    let page: ListObjectVersionsCommandOutput;
    try {
      page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'MethodNotAllowed' || name === 'NotImplemented') return undefined;
      throw error;
    }
    for (const version of page.Versions ?? []) {
      if (version.Key === key && version.VersionId) {
        objects.push({ versionId: version.VersionId, etag: version.ETag?.replace(/"/g, '') });
      }
    }
    for (const marker of page.DeleteMarkers ?? []) {
      if (marker.Key === key && marker.VersionId) deleteMarkers.push(marker.VersionId);
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  // An unversioned bucket lists its objects with the version "null": deleting that version deletes them.
  return { objects, deleteMarkers };
}
