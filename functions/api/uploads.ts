import { displayNameFromFileName } from '../clone/s3-events';
import { checkOptions } from '../shared/audio/validate';
import type { S3Client } from '../shared/aws/s3';
import { PROVIDER_LIMITS } from '../shared/providers/limits';
import type { ProviderName } from '../shared/providers/types';
import { ApiError } from './errors';
import type { UploadRequestBody } from './schemas';

export interface UploadDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly defaultProvider: ProviderName;
  readonly defaultModels: Readonly<Record<ProviderName, string>>;
  readonly uploadUrlTtlSeconds: number;
  readonly now: () => Date;
}

export interface UploadAnswer {
  readonly url: string;
  readonly method: 'PUT';
  /** Send exactly these headers with the PUT: they are part of the signature. */
  readonly headers: Record<string, string>;
  readonly key: string;
  readonly expiresAt: string;
}

/**
 * A presigned PUT for `incoming/<provider>/<fileName>`, with the upload's options as object metadata
 * the caller must send as headers (they are signed, so they cannot be changed). The options are checked
 * against the provider's rules first, so a name or model the pipeline would reject is refused now.
 */
export async function createUpload(
  request: UploadRequestBody,
  dependencies: UploadDependencies,
): Promise<UploadAnswer> {
  refuseUnsendableText(request);
  const provider = request.provider ?? dependencies.defaultProvider;
  const limits = PROVIDER_LIMITS[provider];
  const tags = Array.isArray(request.tags) ? request.tags.join(',') : request.tags;
  const displayName = request.displayName ?? displayNameFromFileName(request.fileName);
  const { issues } = checkOptions(limits, {
    displayName,
    model: request.model ?? dependencies.defaultModels[provider],
    language: request.language,
    accent: request.accent,
    description: request.description,
    tags,
  });
  if (request.sizeBytes !== undefined && request.sizeBytes > limits.maxBytes) {
    issues.unshift({
      code: 'file_too_large',
      message: `The file is ${request.sizeBytes} bytes; ${limits.title} accepts at most ${limits.maxBytes} bytes.`,
    });
  }
  if (request.sizeBytes === 0)
    issues.unshift({ code: 'empty_file', message: 'The file is empty (0 bytes).' });
  const [first] = issues;
  if (first) {
    throw new ApiError(422, first.code, issues.map((issue) => issue.message).join(' '));
  }

  const metadata: Record<string, string> = {};
  // Metadata travels as ASCII headers: the pipeline decodes percent-encoded UTF-8.
  const put = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') metadata[name] = encodeURIComponent(value);
  };
  put('display-name', request.displayName);
  put('language', request.language);
  put('model', request.model);
  put('accent', request.accent);
  put('description', request.description);
  put('tags', tags);

  const key = `incoming/${provider}/${request.fileName}`;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
  if (request.contentType) headers['content-type'] = request.contentType;
  if (request.sizeBytes !== undefined) headers['content-length'] = String(request.sizeBytes);
  const url = await dependencies.s3.presignUrl({
    method: 'PUT',
    bucket: dependencies.bucket,
    key,
    expiresInSeconds: dependencies.uploadUrlTtlSeconds,
    // Signed as headers (not hoisted into the query string), so S3 stores the metadata with the object
    // and refuses a PUT without exactly these values. No checksum parameters: they would be the empty
    // body's, and S3 would refuse every real upload.
    headers,
  });
  return {
    url,
    method: 'PUT',
    headers,
    key,
    expiresAt: new Date(
      dependencies.now().getTime() + dependencies.uploadUrlTtlSeconds * 1_000,
    ).toISOString(),
  };
}

// A Content-Type header value: printable ASCII, `type/subtype`, optional parameters.
const CONTENT_TYPE = /^[!-~]+\/[!-~]+(;[ -~]*)?$/;

/**
 * JSON strings may hold lone UTF-16 surrogates ("\ud800"), which have no UTF-8 form: as an S3 key or
 * percent-encoded metadata they would make signing throw (a 500). A Content-Type goes back to the caller
 * as a header to send, so it must be one a client can send. Both are the caller's mistake: a 400.
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
