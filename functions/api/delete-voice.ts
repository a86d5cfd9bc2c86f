import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  NotFound,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Log } from '../shared/logger';
import type { MetricsRecorder } from '../shared/metrics';
import { isProviderError } from '../shared/providers/errors';
import type { ProviderName, VoiceProvider } from '../shared/providers/types';
import { knownProviderOf, type VoiceDeletion, type VoiceRecord } from '../shared/voices/record';
import type { VoiceRepository } from '../shared/voices/repository';
import { DELETABLE_STATUSES, IN_PROGRESS_STATUSES } from '../shared/voices/status';
import { ApiError } from './errors';
import { SynthesisCache } from './speech/synthesis-cache';

export interface DeleteDependencies {
  readonly s3: S3Client;
  /** Where the synthesis cache lives (cache/<voiceId>/). */
  readonly bucket: string;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  readonly logger: Log;
  readonly metrics: MetricsRecorder;
  readonly now: () => Date;
}

/**
 * Deletes a voice everywhere: the provider's clone, the source audio and the cached speech in the bucket, then the record
 * becomes `deleted`. Idempotent: a deleted voice answers as it is, with no provider call. A failure
 * half-way leaves the record `deleting`, and the next DELETE carries on from there.
 */
export async function deleteVoice(voiceId: string, dependencies: DeleteDependencies): Promise<VoiceRecord> {
  const record = await dependencies.voices.get(voiceId);
  if (!record?.voiceId.startsWith('vc_')) {
    throw new ApiError(404, 'voice_not_found', `No voice ${voiceId}.`);
  }
  if (record.status === 'deleted') return record;
  if (IN_PROGRESS_STATUSES.has(record.status)) {
    throw new ApiError(
      409,
      'voice_busy',
      `Voice ${voiceId} is still being processed (${record.status}); try again shortly.`,
      {
        retryable: true,
      },
    );
  }
  const moved = await dependencies.voices.transition(voiceId, {
    from: DELETABLE_STATUSES,
    to: 'deleting',
    changes: { error: null },
    now: dependencies.now(),
  });
  if (!moved)
    throw new ApiError(409, 'voice_busy', `Voice ${voiceId} changed while deleting; try again.`, {
      retryable: true,
    });

  const deletion = await deleteProviderClone(record, dependencies);
  await deleteSourceAudio(record, dependencies);
  // Speech made with the voice goes with it. A request still streaming may cache a last piece after this;
  // the cache's lifecycle rule removes that one.
  const cachedObjectsDeleted = await new SynthesisCache(dependencies.s3, dependencies.bucket).deleteVoice(
    voiceId,
  );
  if (record.processing?.claimKey)
    await dependencies.voices.releaseClaim(record.processing.claimKey, voiceId);

  const deletedAt = dependencies.now();
  await dependencies.voices.transition(voiceId, {
    from: ['deleting'],
    to: 'deleted',
    // Preview clips are the cloned voice speaking: they go with it.
    changes: {
      deletedAt: deletedAt.toISOString(),
      deletion: { ...deletion, cachedObjectsDeleted },
      samples: null,
    },
    now: deletedAt,
  });
  const deleted = await dependencies.voices.get(voiceId);
  if (!deleted) throw new ApiError(404, 'voice_not_found', `No voice ${voiceId}.`);
  dependencies.logger.info('voice deleted', {
    voiceId,
    provider: record.provider,
    providerDeletion: deletion.provider,
  });
  return deleted;
}

async function deleteProviderClone(
  record: VoiceRecord,
  dependencies: DeleteDependencies,
): Promise<VoiceDeletion> {
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
    dependencies.metrics.providerLatency(record.provider, 'delete', Date.now() - started);
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
async function deleteSourceAudio(record: VoiceRecord, dependencies: DeleteDependencies): Promise<void> {
  const { bucket, key, versionId, etag } = record.source;
  const versions = await listVersions(dependencies.s3, bucket, key);
  if (!versions) {
    try {
      const head = await dependencies.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      if (etag && head.ETag?.replace(/"/g, '') !== etag) return;
      await dependencies.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (!(error instanceof NotFound || (error as { name?: string }).name === 'NotFound')) throw error;
    }
    return;
  }
  const ours = versions.objects.filter(
    (version) => version.versionId === versionId || (etag !== undefined && version.etag === etag),
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
