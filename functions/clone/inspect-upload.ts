/**
 * The look at an upload before anything is decided: its object metadata (HEAD), the options they carry,
 * and the shared validation of the audio against the provider's rules (reading as little as it needs).
 */
import { HeadObjectCommand, NotFound } from '@aws-sdk/client-s3';
import { cachingSource, s3ByteSource } from '../shared/audio/sources';
import type { ByteSource } from '../shared/audio/types';
import type { UploadOptions } from '../shared/validation/options';
import { recut } from '../shared/validation/sound';
import { validateSource } from '../shared/validation/validate';
import type { VoiceError, VoiceRecord, VoiceSource } from '../shared/voices/record';
import { consentRefusal } from './consent-check';
import type { ClonePipelineDependencies } from './dependencies';
import { displayNameFromFileName, readUploadOptions, type routeUploadKey } from './s3-events';

/** Where an upload's key says it goes (an unknown provider folder is a route too: it is rejected). */
export type Route = Exclude<ReturnType<typeof routeUploadKey>, { kind: 'ignore' }>;

type Validation = Awaited<ReturnType<typeof validateSource>>;

export type Inspection =
  | { readonly outcome: 'missing' }
  /** Refused for its consent before its audio was read (consent-check.ts). */
  | { readonly outcome: 'refused'; readonly error: VoiceError; readonly consentId?: string }
  | {
      readonly outcome: 'inspected';
      readonly report: Validation['report'];
      readonly resolved: Validation['resolved'];
      /** The source as the record keeps it: what the object is and what validation measured. */
      readonly facts: VoiceSource;
      /** The record's descriptive fields: from the metadata, as the provider's rules resolved them. */
      readonly descriptive: Pick<
        VoiceRecord,
        'displayName' | 'model' | 'language' | 'accent' | 'description' | 'tags' | 'consentId'
      >;
      /** The object's bytes, read once (validation and the clone request share them). */
      readonly byteSource: ByteSource & { readonly bytesRead: number };
      /** What to send instead of the object's bytes: the cut, when the sample was trimmed. */
      readonly audio?: Uint8Array;
    };

/** Reads the object's metadata and validates its audio; `missing` when the object is gone. */
export async function inspectUpload(
  record: VoiceRecord,
  route: Route,
  dependencies: Pick<
    ClonePipelineDependencies,
    's3' | 'defaultModels' | 'validation' | 'logger' | 'consents' | 'consentRequired' | 'voices' | 'now'
  >,
): Promise<Inspection> {
  const source = record.source;
  const head = await headUpload(dependencies.s3, source);
  if (!head) return { outcome: 'missing' };
  const { size } = head;
  const options = readUploadOptions(head.metadata);
  // Biometric audio is not even read without the speaker's consent on record.
  const refused = await consentRefusal(options.consentId, dependencies);
  if (refused) return { outcome: 'refused', error: refused, consentId: options.consentId };
  const provider = route.kind === 'upload' ? route.provider : route.folder;
  const displayName = options.displayName ?? displayNameFromFileName(route.fileName);
  if (route.kind === 'upload' && options.model === undefined) {
    options.model = dependencies.defaultModels[route.provider];
  }
  options.trim ??= dependencies.validation?.defaultTrim;
  const byteSource = cachingSource(
    s3ByteSource({
      client: dependencies.s3,
      bucket: source.bucket,
      key: source.key,
      versionId: source.versionId,
      size,
    }),
  );
  const started = Date.now();
  const { report, resolved, audio } = await validateSource(byteSource, {
    provider,
    displayName,
    options,
    quality: dependencies.validation?.quality,
  });
  dependencies.logger.info('validated upload', {
    voiceId: record.voiceId,
    provider,
    ok: report.ok,
    format: report.format,
    durationSec: report.durationSec,
    sizeBytes: size,
    bytesRead: byteSource.bytesRead,
    codes: report.errors.map((issue) => issue.code),
    quality: report.quality,
    trimmed: report.trimmed,
    ms: Date.now() - started,
  });
  return inspected(source, size, { report, resolved, audio }, options, displayName, byteSource);
}

/** The object's user metadata and size; undefined when it is gone. */
async function headUpload(
  s3: ClonePipelineDependencies['s3'],
  source: VoiceSource,
): Promise<{ readonly metadata: Record<string, string>; readonly size: number } | undefined> {
  try {
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: source.bucket, Key: source.key, VersionId: source.versionId }),
    );
    return { metadata: head.Metadata ?? {}, size: head.ContentLength ?? source.bytes };
  } catch (error) {
    if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') return undefined;
    throw error;
  }
}

/** The inspection of a validated upload: the facts measured, the descriptive fields as resolved. */
function inspected(
  source: VoiceSource,
  size: number,
  { report, resolved, audio }: Awaited<ReturnType<typeof validateSource>>,
  options: UploadOptions,
  displayName: string,
  byteSource: ByteSource & { readonly bytesRead: number },
): Inspection {
  return {
    outcome: 'inspected',
    report,
    resolved,
    facts: {
      ...source,
      bytes: size,
      format: report.format ?? undefined,
      durationSec: report.durationSec ?? undefined,
      sampleRate: report.sampleRate ?? undefined,
      channels: report.channels ?? undefined,
      ...(report.quality ? { quality: report.quality } : {}),
      ...(report.trimmed ? { trimmed: report.trimmed } : {}),
    },
    descriptive: {
      displayName: resolved?.displayName ?? displayName,
      model: resolved?.model ?? options.model,
      language: resolved?.language ?? options.language,
      accent: resolved?.accent ?? options.accent,
      description: resolved?.description ?? options.description,
      tags: resolved?.tags,
      consentId: options.consentId,
    },
    byteSource,
    ...(audio ? { audio } : {}),
  };
}

/** What a resumed clone sends: the object again, cut as validation cut it (what was judged is what is sent). */
export async function readAudioToSend(
  s3: ClonePipelineDependencies['s3'],
  source: VoiceSource,
): Promise<Uint8Array> {
  const original = await s3ByteSource({
    client: s3,
    bucket: source.bucket,
    key: source.key,
    versionId: source.versionId,
    size: source.bytes,
  }).readAll();
  return source.trimmed ? recut(original, source.trimmed) : original;
}
