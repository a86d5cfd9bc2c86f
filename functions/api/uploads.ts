import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { displayNameFromFileName, UPLOAD_METADATA_NAMES } from '../clone/s3-events';
import { INCOMING_PREFIX } from '../shared/contract';
import { PROVIDER_LIMITS } from '../shared/providers/limits';
import type { ProviderName } from '../shared/providers/types';
import { checkOptions, largestUploadBytes, type TrimMode } from '../shared/validation/options';
import { ApiError } from './errors';
import type { UploadRequestBody } from './schemas';

export interface UploadDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly defaultProvider: ProviderName;
  readonly defaultModels: Readonly<Record<ProviderName, string>>;
  readonly uploadUrlTtlSeconds: number;
  /** Trim for uploads that do not say (TRIM_DEFAULT); `off` when absent. */
  readonly defaultTrim?: TrimMode;
  readonly now: () => Date;
}

export interface UploadAnswer {
  readonly url: string;
  readonly method: 'POST';
  /**
   * The form fields to send, every one as given and before the file (a `multipart/form-data` POST with the
   * file as the last field, `file`): the policy among them is signed and lists each of them exactly.
   */
  readonly fields: Record<string, string>;
  readonly key: string;
  readonly expiresAt: string;
  /** The largest file S3 accepts for this upload: the provider's limit, or exactly `sizeBytes` when given. */
  readonly maxBytes: number;
}

/**
 * A presigned POST for `incoming/<provider>/<fileName>`, with the upload's options as object metadata
 * fields the policy pins (so they cannot be changed) and a `content-length-range` S3 enforces: at most the
 * provider's limit, or exactly `sizeBytes` when the caller says how large the file is. A presigned PUT
 * cannot bound an upload it does not know the size of (S3 would take up to 5 GB). The options are checked
 * against the provider's rules first, so a name, model or size the pipeline would reject is refused now.
 */
export async function createUpload(
  request: UploadRequestBody,
  dependencies: UploadDependencies,
): Promise<UploadAnswer> {
  refuseUnsendableText(request);
  const provider = request.provider ?? dependencies.defaultProvider;
  const limits = PROVIDER_LIMITS[provider];
  const tags = Array.isArray(request.tags) ? request.tags.join(',') : request.tags;
  // With trim, a longer recording may come: its cut is what must fit the provider's limit.
  const largest = largestUploadBytes(limits, request.trim ?? dependencies.defaultTrim ?? 'off');
  refuseUnclonable(request, provider, tags, largest, dependencies);

  const key = `${INCOMING_PREFIX}${provider}/${request.fileName}`;
  const fields = metadataFields(request, tags);
  if (request.contentType) fields['Content-Type'] = request.contentType;
  const [minBytes, maxBytes] =
    request.sizeBytes === undefined ? [1, largest] : [request.sizeBytes, request.sizeBytes];
  const presigned = await createPresignedPost(dependencies.s3, {
    Bucket: dependencies.bucket,
    Key: key,
    // Every field, the metadata included, becomes an exact condition of the signed policy.
    Fields: fields,
    Conditions: [['content-length-range', minBytes, maxBytes]],
    Expires: dependencies.uploadUrlTtlSeconds,
  });
  return {
    url: presigned.url,
    method: 'POST',
    fields: presigned.fields,
    key,
    expiresAt: new Date(
      dependencies.now().getTime() + dependencies.uploadUrlTtlSeconds * 1_000,
    ).toISOString(),
    maxBytes,
  };
}

/** Throws the 422 for options or a size the pipeline would reject, every problem in one message. */
function refuseUnclonable(
  request: UploadRequestBody,
  provider: ProviderName,
  tags: string | undefined,
  largest: number,
  dependencies: UploadDependencies,
): void {
  const limits = PROVIDER_LIMITS[provider];
  const { issues } = checkOptions(limits, {
    displayName: request.displayName ?? displayNameFromFileName(request.fileName),
    model: request.model ?? dependencies.defaultModels[provider],
    language: request.language,
    accent: request.accent,
    description: request.description,
    tags,
    trim: request.trim,
  });
  if (request.sizeBytes !== undefined && request.sizeBytes > largest) {
    issues.unshift({
      code: 'file_too_large',
      message: `The file is ${request.sizeBytes} bytes; ${limits.title} accepts at most ${largest} bytes${largest > limits.maxBytes ? ' for trimming' : ''}.`,
    });
  }
  if (request.sizeBytes === 0)
    issues.unshift({ code: 'empty_file', message: 'The file is empty (0 bytes).' });
  const [first] = issues;
  if (first) {
    throw new ApiError(422, first.code, issues.map((issue) => issue.message).join(' '));
  }
}

/** The options as object metadata fields, ASCII only: the pipeline decodes percent-encoded UTF-8. */
function metadataFields(request: UploadRequestBody, tags: string | undefined): Record<string, string> {
  const fields: Record<string, string> = {};
  const options: Record<keyof typeof UPLOAD_METADATA_NAMES, string | undefined> = {
    displayName: request.displayName,
    language: request.language,
    model: request.model,
    accent: request.accent,
    description: request.description,
    tags,
    trim: request.trim,
    consentId: request.consentId,
  };
  for (const [option, name] of Object.entries(UPLOAD_METADATA_NAMES)) {
    const value = options[option as keyof typeof UPLOAD_METADATA_NAMES];
    if (value !== undefined && value !== '') fields[`x-amz-meta-${name}`] = encodeURIComponent(value);
  }
  return fields;
}

// A Content-Type header value: printable ASCII, `type/subtype`, optional parameters.
const CONTENT_TYPE = /^[!-~]+\/[!-~]+(;[ -~]*)?$/;

/**
 * JSON strings may hold lone UTF-16 surrogates ("\ud800"), which have no UTF-8 form: as an S3 key or
 * percent-encoded metadata they would make signing throw (a 500). A Content-Type goes back to the caller
 * as a form field to send, so it must be one a client can send. Both are the caller's mistake: a 400.
 */
function refuseUnsendableText(request: UploadRequestBody): void {
  const { fileName, displayName, language, model, accent, description, tags } = request;
  const texts = { fileName, displayName, language, model, accent, description, tags };
  const malformed = Object.entries(texts)
    .filter(([, value]) => [value ?? []].flat().some((text) => !text.isWellFormed()))
    .map(([field]) => `${field}: must be valid Unicode text (it holds an unpaired surrogate)`);
  if (request.contentType !== undefined && !CONTENT_TYPE.test(request.contentType)) {
    malformed.push('contentType: must be a MIME type such as "audio/wav"');
  }
  if (malformed.length > 0) throw new ApiError(400, 'invalid_request', malformed.join('; '));
}
