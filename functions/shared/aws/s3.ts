import { AwsV4Signer } from 'aws4fetch';
import { ConfigurationError } from '../errors';
import type { AwsSettings } from './config';
import { AwsServiceError, errorCodeForStatus } from './errors';
import { type AwsCallOptions, awsRequest, RETRYABLE_ERROR_CODES } from './http';
import { childElements, childText, parseXml, type XmlElement } from './s3-xml';

/**
 * The S3 calls voicedrop makes, over `awsRequest` (SigV4 by aws4fetch) instead of @aws-sdk/client-s3
 * and @aws-sdk/s3-request-presigner. Requests carry no checksum headers or parameters (the SDK's
 * `requestChecksumCalculation: 'WHEN_REQUIRED'`): none of these calls requires one.
 *
 * Errors are `AwsServiceError`s named like the SDK's (`NotFound` for a HEAD of a missing object,
 * `NoSuchKey`, `NoSuchVersion`, `InvalidRange`, `AccessDenied`, …), or `AwsNetworkError`.
 */
export interface S3Client {
  headObject(input: HeadObjectInput): Promise<HeadObjectOutput>;
  getObject(input: GetObjectInput): Promise<GetObjectOutput>;
  putObject(input: PutObjectInput): Promise<PutObjectOutput>;
  deleteObject(input: DeleteObjectInput): Promise<DeleteObjectOutput>;
  listObjectVersions(input: ListObjectVersionsInput): Promise<ListObjectVersionsOutput>;
  listObjects(input: ListObjectsInput): Promise<ListObjectsOutput>;
  presignUrl(input: PresignUrlInput): Promise<string>;
}

export interface ObjectAddress extends AwsCallOptions {
  readonly bucket: string;
  /** The object key, decoded (S3 event keys arrive URL-encoded: decode them first). */
  readonly key: string;
}

export interface HeadObjectInput extends ObjectAddress {
  readonly versionId?: string | undefined;
}

export interface ObjectFacts {
  readonly contentLength: number;
  readonly contentType: string | undefined;
  /** As S3 sends it, in double quotes. */
  readonly etag: string | undefined;
  /** Absent in buckets that never had versioning (and in s3rver). */
  readonly versionId: string | undefined;
  readonly lastModified: Date | undefined;
  /** User metadata: `x-amz-meta-*` headers without the prefix, names lower-cased, values as stored. */
  readonly metadata: Readonly<Record<string, string>>;
}

export type HeadObjectOutput = ObjectFacts;

export interface GetObjectInput extends ObjectAddress {
  readonly versionId?: string | undefined;
  /** Byte offsets of the first and last byte wanted (`Range: bytes=start-end`, both inclusive). */
  readonly range?: readonly [start: number, endInclusive: number] | undefined;
}

export interface GetObjectOutput extends ObjectFacts {
  /**
   * The object's bytes (an async iterable of Uint8Array in Node). Read it, or `bytes()`, exactly
   * once; an unread body holds its connection until it is cancelled.
   */
  readonly body: ReadableStream<Uint8Array>;
  /** `bytes start-end/size` for a ranged GET. */
  readonly contentRange: string | undefined;
  bytes(): Promise<Uint8Array>;
}

export interface PutObjectInput extends ObjectAddress {
  readonly body: Uint8Array;
  /** @default S3's `binary/octet-stream` */
  readonly contentType?: string | undefined;
  /**
   * Stored as `x-amz-meta-<name>` headers. Names are lower-cased by S3; values must be printable ASCII
   * (percent-encode anything else, as the upload API does).
   */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
}

export interface PutObjectOutput {
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
}

export interface DeleteObjectInput extends ObjectAddress {
  /** Deletes that version for good; without it a versioned bucket gets a delete marker. */
  readonly versionId?: string | undefined;
}

export interface DeleteObjectOutput {
  /** The version removed, or the delete marker created. */
  readonly versionId: string | undefined;
  /** Whether the version deleted (or created) is a delete marker. */
  readonly deleteMarker: boolean;
}

export interface ListObjectVersionsInput extends AwsCallOptions {
  readonly bucket: string;
  readonly prefix: string;
  /** From the previous page's `nextKeyMarker`. */
  readonly keyMarker?: string | undefined;
  /** From the previous page's `nextVersionIdMarker`. */
  readonly versionIdMarker?: string | undefined;
}

export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  /** In double quotes, as S3 sends it. */
  readonly etag: string | undefined;
  readonly size: number | undefined;
  readonly lastModified: Date | undefined;
}

export interface DeleteMarker {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly lastModified: Date | undefined;
}

export interface ListObjectVersionsOutput {
  readonly versions: readonly ObjectVersion[];
  readonly deleteMarkers: readonly DeleteMarker[];
  readonly isTruncated: boolean;
  readonly nextKeyMarker: string | undefined;
  readonly nextVersionIdMarker: string | undefined;
}

export interface ListObjectsInput extends AwsCallOptions {
  readonly bucket: string;
  readonly prefix?: string | undefined;
  /** From the previous page's `nextContinuationToken`. */
  readonly continuationToken?: string | undefined;
}

export interface ListedObject {
  readonly key: string;
  readonly etag: string | undefined;
  readonly size: number | undefined;
  readonly lastModified: Date | undefined;
}

export interface ListObjectsOutput {
  readonly objects: readonly ListedObject[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken: string | undefined;
}

export interface PresignUrlInput {
  readonly method: 'GET' | 'PUT';
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  /** 1 s to 7 days. The URL also stops working when the credentials that signed it expire. */
  readonly expiresInSeconds: number;
  /**
   * Headers the request must carry exactly as given (`content-type`, `content-length`,
   * `x-amz-meta-*`): they are signed as headers, not moved into the query string, so whoever uses the
   * URL must send them and S3 stores them as the object's metadata.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** @default now */
  readonly signedAt?: Date | undefined;
}

const SERVICE = 's3';
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/**
 * An S3 client for `settings`: virtual-hosted addressing (`https://<bucket>.s3.<region>.amazonaws.com/`)
 * in AWS, path-style (`<endpoint>/<bucket>/`) when `settings.endpoint` is set (s3rver in local mode).
 */
export function createS3Client(settings: AwsSettings): S3Client {
  const send = (
    method: string,
    bucket: string,
    key: string | undefined,
    options: {
      query?: readonly (readonly [string, string | undefined])[];
      headers?: Record<string, string>;
      body?: Uint8Array;
      call: AwsCallOptions;
    },
  ) => sendS3Request(settings, { method, bucket, key, ...options });

  return {
    async headObject(input) {
      const response = await send('HEAD', input.bucket, input.key, {
        query: [['versionId', input.versionId]],
        call: input,
      });
      return objectFacts(response.headers);
    },

    async getObject(input) {
      const headers: Record<string, string> = {};
      if (input.range) headers.range = rangeHeader(input.range);
      const response = await send('GET', input.bucket, input.key, {
        query: [['versionId', input.versionId]],
        headers,
        call: input,
      });
      const body = response.body ?? new Response(new Uint8Array(0)).body;
      if (!body) throw new Error('fetch gave no body stream');
      return {
        ...objectFacts(response.headers),
        body,
        contentRange: response.headers.get('content-range') ?? undefined,
        bytes: async () => new Uint8Array(await new Response(body).arrayBuffer()),
      };
    },

    async putObject(input) {
      const headers: Record<string, string> = {
        // The body's hash is signed, so S3 refuses bytes changed on the way (XAmzContentSHA256Mismatch).
        'x-amz-content-sha256': await sha256Hex(input.body),
      };
      if (input.contentType !== undefined) headers['content-type'] = input.contentType;
      Object.assign(headers, metadataHeaders(input.metadata));
      const response = await send('PUT', input.bucket, input.key, {
        headers,
        body: input.body,
        call: input,
      });
      await response.body?.cancel();
      return {
        etag: response.headers.get('etag') ?? undefined,
        versionId: response.headers.get('x-amz-version-id') ?? undefined,
      };
    },

    async deleteObject(input) {
      const response = await send('DELETE', input.bucket, input.key, {
        query: [['versionId', input.versionId]],
        call: input,
      });
      await response.body?.cancel();
      return {
        versionId: response.headers.get('x-amz-version-id') ?? undefined,
        deleteMarker: response.headers.get('x-amz-delete-marker') === 'true',
      };
    },

    async listObjectVersions(input) {
      const response = await send('GET', input.bucket, undefined, {
        query: [
          ['versions', ''],
          // Keys may hold characters XML 1.0 cannot carry: S3 then percent-encodes them in the answer.
          ['encoding-type', 'url'],
          ['key-marker', input.keyMarker],
          ['prefix', input.prefix],
          ['version-id-marker', input.versionIdMarker],
        ],
        call: input,
      });
      return parseListVersionsResult(await response.text());
    },

    async listObjects(input) {
      const response = await send('GET', input.bucket, undefined, {
        query: [
          ['list-type', '2'],
          ['continuation-token', input.continuationToken],
          ['encoding-type', 'url'],
          ['prefix', input.prefix],
        ],
        call: input,
      });
      return parseListBucketResult(await response.text());
    },

    presignUrl: (input) => presignS3Url(settings, input),
  };
}

/**
 * The URL of a bucket (key undefined) or object, with the query parameters whose value is defined
 * (`''` gives a bare `name`, as S3's subresources are written). Each key segment is percent-encoded as
 * RFC 3986 asks ('/' kept), which is also how SigV4 canonicalizes S3 paths.
 */
export function s3Url(
  settings: AwsSettings,
  bucket: string,
  key: string | undefined,
  query: readonly (readonly [string, string | undefined])[] = [],
): URL {
  const path = key === undefined ? '' : `/${encodeKey(key)}`;
  let base: string;
  if (settings.endpoint) {
    base = `${settings.endpoint.replace(/\/+$/, '')}/${encodeSegment(bucket)}${path}`;
  } else {
    const suffix = settings.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    const host = `s3.${settings.region}.${suffix}`;
    // Bucket names with dots do not match S3's wildcard TLS certificate: those go path-style.
    base = VIRTUAL_HOSTABLE.test(bucket)
      ? `https://${bucket}.${host}${path || '/'}`
      : `https://${host}/${encodeSegment(bucket)}${path}`;
  }
  const parameters = query
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(([name, value]) =>
      value === '' ? encodeSegment(name) : `${encodeSegment(name)}=${encodeSegment(value)}`,
    );
  return new URL(parameters.length > 0 ? `${base}?${parameters.join('&')}` : base);
}

const VIRTUAL_HOSTABLE = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

function encodeKey(key: string): string {
  if (key === '') throw new RangeError('An S3 object key cannot be empty.');
  if (!key.isWellFormed()) {
    throw new RangeError(
      `S3 key ${JSON.stringify(key)} holds a lone UTF-16 surrogate, which has no UTF-8 form.`,
    );
  }
  // URLs resolve "." and ".." segments (written plainly or as %2E): such a key would address another one.
  if (hasDotSegment(key)) {
    throw new RangeError(
      `S3 key ${JSON.stringify(key)} has a "." or ".." segment, which a URL cannot carry.`,
    );
  }
  return key.split('/').map(encodeSegment).join('/');
}

/** True for keys with a "." or ".." segment: S3 allows them, but no URL can address them. */
export function hasDotSegment(key: string): boolean {
  return key.split('/').some((segment) => segment === '.' || segment === '..');
}

/** RFC 3986 unreserved characters stay; everything else, UTF-8 percent-encoded. */
function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

interface S3Request {
  readonly method: string;
  readonly bucket: string;
  readonly key: string | undefined;
  readonly query?: readonly (readonly [string, string | undefined])[];
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  readonly call: AwsCallOptions;
}

async function sendS3Request(settings: AwsSettings, request: S3Request): Promise<Response> {
  const url = s3Url(settings, request.bucket, request.key, request.query);
  const hasBody = request.body !== undefined;
  try {
    const response = await awsRequest(settings, SERVICE, {
      method: request.method,
      url,
      ...(request.headers ? { headers: request.headers } : {}),
      ...(hasBody ? { body: request.body } : {}),
      signal: request.call.signal,
      timeoutMs: request.call.timeoutMs,
      errorFormat: 'xml',
      // Client errors are read here, where the response headers are at hand (x-amz-bucket-region for a
      // wrong region, a HEAD's only clue). 429 and 5xx stay with awsRequest, which retries them; so does
      // a 400 to a request with a body (S3's retryable RequestTimeout).
      acceptStatus: (status) => status < 500 && status !== 429 && !(hasBody && status === 400),
    });
    if (response.status >= 200 && response.status < 300) return response;
    throw await s3ServiceError(settings, request, response);
  } catch (error) {
    throw withRegionHint(settings, request.bucket, error);
  }
}

async function s3ServiceError(
  settings: AwsSettings,
  request: S3Request,
  response: Response,
): Promise<AwsServiceError> {
  const status = response.status;
  let document: XmlElement | undefined;
  if (request.method !== 'HEAD') {
    const text = await response.text().catch(() => '');
    try {
      document = text.trim() ? parseXml(text) : undefined;
    } catch {
      // A proxy's HTML page or a cut-off body: the status still says what happened.
    }
  } else {
    await response.body?.cancel();
  }
  const error = document?.name === 'Error' ? document : undefined;
  const code = (error && childText(error, 'Code')) || REDIRECT_CODES[status] || errorCodeForStatus(status);
  const where = `${request.method} s3://${request.bucket}${request.key === undefined ? '' : `/${request.key}`}`;
  const bucketRegion = response.headers.get('x-amz-bucket-region') ?? (error && childText(error, 'Region'));
  let message = (error && childText(error, 'Message')) || `S3 answered ${status} ${code} to ${where}`;
  if (
    bucketRegion &&
    bucketRegion !== settings.region &&
    (status === 400 || (status >= 300 && status < 400))
  ) {
    message = wrongRegionMessage(settings, request.bucket, bucketRegion);
  }
  return new AwsServiceError({
    code,
    message,
    service: SERVICE,
    statusCode: status,
    requestId:
      response.headers.get('x-amz-request-id') ?? (error && childText(error, 'RequestId')) ?? undefined,
    retryable: RETRYABLE_ERROR_CODES.has(code),
  });
}

const REDIRECT_CODES: Readonly<Record<number, string>> = {
  301: 'PermanentRedirect',
  307: 'TemporaryRedirect',
};

/**
 * A 400 that awsRequest read itself (requests with a body) names the bucket's region only in its
 * message: "the region 'us-east-1' is wrong; expecting 'eu-west-1'".
 */
function withRegionHint(settings: AwsSettings, bucket: string, error: unknown): unknown {
  if (!(error instanceof AwsServiceError) || error.code !== 'AuthorizationHeaderMalformed') return error;
  const expected = /expecting '([a-z0-9-]+)'/.exec(error.message)?.[1];
  if (!expected || expected === settings.region) return error;
  return new AwsServiceError({
    code: error.code,
    message: wrongRegionMessage(settings, bucket, expected),
    service: SERVICE,
    statusCode: error.statusCode,
    requestId: error.requestId,
    retryable: false,
  });
}

function wrongRegionMessage(settings: AwsSettings, bucket: string, bucketRegion: string): string {
  return (
    `Bucket ${bucket} is in region ${bucketRegion}, but requests are signed for ${settings.region}: ` +
    `set AWS_REGION to ${bucketRegion} or use a bucket in ${settings.region}.`
  );
}

function objectFacts(headers: Headers): ObjectFacts {
  const metadata: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  }
  const lastModified = headers.get('last-modified');
  return {
    contentLength: Number(headers.get('content-length') ?? 0),
    contentType: headers.get('content-type') ?? undefined,
    etag: headers.get('etag') ?? undefined,
    versionId: headers.get('x-amz-version-id') ?? undefined,
    lastModified: lastModified ? new Date(lastModified) : undefined,
    metadata,
  };
}

function rangeHeader([start, end]: readonly [number, number]): string {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`Invalid byte range [${start}, ${end}]: want whole numbers with 0 ≤ start ≤ end.`);
  }
  return `bytes=${start}-${end}`;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const METADATA_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function metadataHeaders(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (!METADATA_NAME.test(name)) throw new RangeError(`Invalid S3 metadata name ${JSON.stringify(name)}.`);
    if (!PRINTABLE_ASCII.test(value)) {
      throw new RangeError(
        `S3 metadata ${name} must be printable ASCII (percent-encode other characters): ${JSON.stringify(value)}`,
      );
    }
    headers[`x-amz-meta-${name.toLowerCase()}`] = value;
  }
  return headers;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/**
 * A presigned URL (SigV4 query parameters, `UNSIGNED-PAYLOAD`). The headers given are signed as
 * headers: S3 refuses the request unless it carries them with exactly these values.
 */
export async function presignS3Url(settings: AwsSettings, input: PresignUrlInput): Promise<string> {
  const credentials = settings.credentials;
  if (!credentials) throw new ConfigurationError('No AWS credentials to presign the S3 URL with.');
  const seconds = input.expiresInSeconds;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(
      `expiresInSeconds must be a whole number from 1 to ${MAX_PRESIGN_SECONDS}: ${seconds}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (!PRINTABLE_ASCII.test(value)) {
      throw new RangeError(`Header ${name} must be printable ASCII to be signed: ${JSON.stringify(value)}`);
    }
    headers[name.toLowerCase()] = value;
  }
  const url = s3Url(settings, input.bucket, input.key, [
    ['versionId', input.versionId],
    ['X-Amz-Expires', String(seconds)],
  ]);
  const signed = await new AwsV4Signer({
    method: input.method,
    url: url.toString(),
    headers,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    service: SERVICE,
    region: settings.region,
    signQuery: true,
    // aws4fetch leaves content-type and content-length unsigned unless told to sign every header given.
    allHeaders: true,
    ...(input.signedAt ? { datetime: amzDate(input.signedAt) } : {}),
  }).sign();
  return signed.url.toString();
}

function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/** A ListVersionsResult document (GET ?versions), keys decoded when S3 url-encoded them. */
export function parseListVersionsResult(xml: string): ListObjectVersionsOutput {
  const root = expectRoot(xml, 'ListVersionsResult');
  const decode = keyDecoder(root);
  const versions: ObjectVersion[] = [];
  const deleteMarkers: DeleteMarker[] = [];
  for (const child of root.children) {
    if (child.name !== 'Version' && child.name !== 'DeleteMarker') continue;
    const common = {
      key: decode(requiredText(child, 'Key')),
      versionId: requiredText(child, 'VersionId'),
      isLatest: childText(child, 'IsLatest') === 'true',
      lastModified: optionalDate(childText(child, 'LastModified')),
    };
    if (child.name === 'Version') {
      versions.push({
        ...common,
        etag: childText(child, 'ETag'),
        size: optionalNumber(childText(child, 'Size')),
      });
    } else {
      deleteMarkers.push(common);
    }
  }
  const nextKeyMarker = childText(root, 'NextKeyMarker');
  return {
    versions,
    deleteMarkers,
    isTruncated: childText(root, 'IsTruncated') === 'true',
    nextKeyMarker: nextKeyMarker === undefined ? undefined : decode(nextKeyMarker),
    nextVersionIdMarker: childText(root, 'NextVersionIdMarker'),
  };
}

/** A ListBucketResult document (GET ?list-type=2). */
export function parseListBucketResult(xml: string): ListObjectsOutput {
  const root = expectRoot(xml, 'ListBucketResult');
  const decode = keyDecoder(root);
  return {
    objects: childElements(root, 'Contents').map((contents) => ({
      key: decode(requiredText(contents, 'Key')),
      etag: childText(contents, 'ETag'),
      size: optionalNumber(childText(contents, 'Size')),
      lastModified: optionalDate(childText(contents, 'LastModified')),
    })),
    isTruncated: childText(root, 'IsTruncated') === 'true',
    nextContinuationToken: childText(root, 'NextContinuationToken') || undefined,
  };
}

function expectRoot(xml: string, name: string): XmlElement {
  const root = parseXml(xml);
  if (root.name !== name) throw new Error(`Expected an S3 ${name} document, got <${root.name}>.`);
  return root;
}

/**
 * With `encoding-type=url` S3 percent-encodes keys and writes spaces as '+'. Servers that ignore the
 * parameter (s3rver) send no EncodingType and plain keys, which are left alone.
 */
function keyDecoder(root: XmlElement): (text: string) => string {
  if (childText(root, 'EncodingType') !== 'url') return (text) => text;
  return (text) => decodeURIComponent(text.replace(/\+/g, ' '));
}

function requiredText(element: XmlElement, name: string): string {
  const text = childText(element, name);
  if (text === undefined) throw new Error(`S3 listed a <${element.name}> without <${name}>.`);
  return text;
}

function optionalNumber(text: string | undefined): number | undefined {
  return text === undefined || text === '' ? undefined : Number(text);
}

function optionalDate(text: string | undefined): Date | undefined {
  return text ? new Date(text) : undefined;
}
