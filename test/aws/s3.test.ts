import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client as SdkS3Client,
} from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsSettings } from '../../functions/shared/aws/config';
import { AwsServiceError } from '../../functions/shared/aws/errors';
import { createS3Client, parseListVersionsResult, type S3Client, s3Url } from '../../functions/shared/aws/s3';
import { parseXml, XmlSyntaxError } from '../../functions/shared/aws/s3-xml';
import { LOCAL_CREDENTIALS, LOCAL_REGION, localS3Client } from '../../local/servers';

const BUCKET = 'voicedrop-s3-test';
const ODD_KEY = 'incoming/smallest/Zoë Ünal 東京 (take 2)+%#?.wav';

/** What the tests reach through: a thin client and an SDK client on the same s3rver. */
interface Harness {
  readonly endpoint: string;
  readonly settings: AwsSettings;
  readonly client: S3Client;
  readonly sdk: SdkS3Client;
  /** Requests the SigV4 check refused, and why. */
  readonly refusals: string[];
  stop(): Promise<void>;
}

/**
 * s3rver checks the access key and the clock but not SigV4 signatures (its V4 check is a stub), so a
 * check written from the SigV4 specification runs in front of it. It refuses any request whose
 * signature, signed payload hash or signed headers do not hold up, as S3 does. The AWS SDK's requests
 * go through the same check (the parity tests), which keeps the check itself honest.
 */
async function startVerifiedS3(): Promise<Harness> {
  const directory = mkdtempSync(join(tmpdir(), 'voicedrop-s3-test-'));
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET, configs: [] }],
    allowMismatchedSignatures: false,
  });
  const refusals: string[] = [];
  (server as unknown as { middleware: KoaMiddleware[] }).middleware.unshift(sigV4Check(refusals));
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const settings: AwsSettings = {
    region: LOCAL_REGION,
    endpoint,
    credentials: LOCAL_CREDENTIALS,
    retry: { baseDelayMs: 1 },
  };
  const sdk = localS3Client(endpoint);
  return {
    endpoint,
    settings,
    client: createS3Client(settings),
    sdk,
    refusals,
    async stop() {
      sdk.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

interface KoaContext {
  method: string;
  url: string;
  req: IncomingMessage | Readable;
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  set(name: string, value: string): void;
}
type KoaMiddleware = (context: KoaContext, next: () => Promise<void>) => Promise<void>;

function sigV4Check(refusals: string[]): KoaMiddleware {
  return async (context, next) => {
    const problem = await verifySigV4(context);
    if (problem) {
      refusals.push(`${context.method} ${context.url}: ${problem.message}`);
      context.status = problem.status;
      context.set('Content-Type', 'application/xml');
      context.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${problem.code}</Code><Message>${problem.message}</Message><RequestId>verifier</RequestId></Error>`;
      return;
    }
    await next();
  };
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

const UNRESERVED = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function verifySigV4(context: KoaContext): Promise<Refusal | undefined> {
  const headerOf = (name: string) => {
    const value = context.headers[name];
    return Array.isArray(value) ? value.join(',') : value;
  };
  const [rawPath = '', rawQuery = ''] = splitOnce(context.url, '?');
  const query =
    rawQuery === '' ? [] : rawQuery.split('&').map((pair) => splitOnce(pair, '=').map(decodeQuery));
  const queryValue = (name: string) => query.find(([key]) => key === name)?.[1];
  const authorization = headerOf('authorization');
  const presigned = queryValue('X-Amz-Algorithm') !== undefined;
  if (!authorization && !presigned) return undefined; // anonymous: s3rver answers for itself

  let credential: string;
  let signedHeaders: string;
  let signature: string;
  let amzDate: string;
  let payloadHash: string;
  if (presigned) {
    credential = queryValue('X-Amz-Credential') ?? '';
    signedHeaders = queryValue('X-Amz-SignedHeaders') ?? '';
    signature = queryValue('X-Amz-Signature') ?? '';
    amzDate = queryValue('X-Amz-Date') ?? '';
    payloadHash = queryValue('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  } else {
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
        authorization ?? '',
      );
    if (!match)
      return { status: 400, code: 'AuthorizationHeaderMalformed', message: 'malformed Authorization' };
    [, credential = '', signedHeaders = '', signature = ''] = match;
    amzDate = headerOf('x-amz-date') ?? '';
    payloadHash = headerOf('x-amz-content-sha256') ?? '';
    if (!signedHeaders.split(';').includes('x-amz-content-sha256')) {
      return { status: 403, code: 'AccessDenied', message: 'x-amz-content-sha256 is not signed' };
    }
  }
  const [accessKeyId, date, region, service, terminator] = credential.split('/');
  if (accessKeyId !== LOCAL_CREDENTIALS.accessKeyId) return undefined; // s3rver answers InvalidAccessKeyId
  if (
    date !== amzDate.slice(0, 8) ||
    region !== LOCAL_REGION ||
    service !== 's3' ||
    terminator !== 'aws4_request'
  ) {
    return {
      status: 400,
      code: 'AuthorizationHeaderMalformed',
      message: `bad credential scope ${credential}`,
    };
  }
  const signed = signedHeaders.split(';');
  if (!signed.includes('host')) return { status: 403, code: 'AccessDenied', message: 'host is not signed' };
  const unsigned = Object.keys(context.headers).filter(
    (name) => name.startsWith('x-amz-') && !signed.includes(name),
  );
  if (unsigned.length > 0) {
    return {
      status: 403,
      code: 'AccessDenied',
      message: `There were headers present in the request which were not signed: ${unsigned.join(', ')}`,
    };
  }

  if (/^[0-9a-f]{64}$/.test(payloadHash)) {
    const chunks: Buffer[] = [];
    for await (const chunk of context.req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (sha256(body) !== payloadHash) {
      return {
        status: 400,
        code: 'XAmzContentSHA256Mismatch',
        message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
      };
    }
    context.req = Readable.from([body]);
  }

  const canonicalUri = rawPath
    .split('/')
    .map((segment) => UNRESERVED(decodeURIComponent(segment)))
    .join('/');
  const canonicalQuery = query
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name = '', value = '']) => [UNRESERVED(name), UNRESERVED(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const canonicalHeaders = signed
    .map((name) => `${name}:${(headerOf(name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    context.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${LOCAL_CREDENTIALS.secretAccessKey}`, date), region), service),
    'aws4_request',
  );
  if (createHmac('sha256', signingKey).update(stringToSign).digest('hex') !== signature) {
    return {
      status: 403,
      code: 'SignatureDoesNotMatch',
      message: `The request signature we calculated does not match the signature you provided. Canonical request: ${JSON.stringify(canonicalRequest)}`,
    };
  }
  return undefined;
}

function splitOnce(text: string, separator: string): string[] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function decodeQuery(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '));
}

/** `length` bytes where every byte tells its offset (mod 251), so a misplaced range shows. */
function patternBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = index % 251;
  return bytes;
}

async function caught(promise: Promise<unknown>): Promise<AwsServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AwsServiceError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('Function: createS3Client, against s3rver with SigV4 checked', () => {
  let s3: Harness;

  beforeAll(async () => {
    s3 = await startVerifiedS3();
  });
  afterAll(async () => {
    expect(s3.refusals).toEqual([]);
    await s3.stop();
  });

  it('puts, heads and gets an object under a key with spaces, +, %, #, ?, parentheses and non-Latin letters', async () => {
    const body = new TextEncoder().encode('RIFF fake wave');
    const metadata = { 'display-name': encodeURIComponent('Zoë Ünal'), tags: 'warm,calm' };

    await s3.client.putObject({ bucket: BUCKET, key: ODD_KEY, body, contentType: 'audio/wav', metadata });
    const head = await s3.client.headObject({ bucket: BUCKET, key: ODD_KEY });
    const got = await s3.client.getObject({ bucket: BUCKET, key: ODD_KEY });

    expect(head).toMatchObject({
      contentLength: body.length,
      contentType: 'audio/wav',
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      metadata: { 'display-name': 'Zo%C3%AB%20%C3%9Cnal', tags: 'warm,calm' },
    });
    expect(decodeURIComponent(head.metadata['display-name'] ?? '')).toBe('Zoë Ünal');
    expect(got.contentLength).toBe(body.length);
    expect(got.metadata).toEqual(head.metadata);
    expect(await got.bytes()).toEqual(body);
  });

  it('reads the first 64 KiB of a 1 MiB object with a ranged GET, and streams the body', async () => {
    const object = patternBytes(1024 * 1024);
    await s3.client.putObject({ bucket: BUCKET, key: 'ranged/one-mebibyte.bin', body: object });

    const first = await s3.client.getObject({
      bucket: BUCKET,
      key: 'ranged/one-mebibyte.bin',
      range: [0, 65_535],
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of first.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);

    expect(first.contentLength).toBe(65_536);
    expect(first.contentRange).toBe(`bytes 0-65535/${object.length}`);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(object.subarray(0, 65_536)));
  });

  it('answers a range ending past the end with the bytes there are', async () => {
    const tail = await s3.client.getObject({
      bucket: BUCKET,
      key: 'ranged/one-mebibyte.bin',
      range: [1024 * 1024 - 10, 1024 * 1024 + 100],
    });
    expect(tail.contentRange).toBe('bytes 1048566-1048575/1048576');
    expect((await tail.bytes()).length).toBe(10);
  });

  it('throws InvalidRange for a range starting past the end', async () => {
    const error = await caught(
      s3.client.getObject({ bucket: BUCKET, key: 'ranged/one-mebibyte.bin', range: [2_000_000, 2_065_535] }),
    );
    expect(error).toMatchObject({ name: 'InvalidRange', statusCode: 416, retryable: false });
  });

  it('throws NotFound for a HEAD and NoSuchKey for a GET of a missing key', async () => {
    const head = await caught(s3.client.headObject({ bucket: BUCKET, key: 'incoming/none/missing.wav' }));
    const get = await caught(s3.client.getObject({ bucket: BUCKET, key: 'incoming/none/missing.wav' }));

    expect(head).toMatchObject({ name: 'NotFound', statusCode: 404, service: 's3', retryable: false });
    expect(get).toMatchObject({
      name: 'NoSuchKey',
      statusCode: 404,
      message: 'The specified key does not exist.',
    });
  });

  it('deletes an object, and deleting it again succeeds', async () => {
    await s3.client.putObject({ bucket: BUCKET, key: 'doomed/a b.wav', body: new Uint8Array([1, 2, 3]) });

    await s3.client.deleteObject({ bucket: BUCKET, key: 'doomed/a b.wav' });
    await s3.client.deleteObject({ bucket: BUCKET, key: 'doomed/a b.wav' });

    expect(await caught(s3.client.headObject({ bucket: BUCKET, key: 'doomed/a b.wav' }))).toMatchObject({
      name: 'NotFound',
    });
  });

  it('lists objects under a prefix, odd keys intact', async () => {
    await s3.client.putObject({ bucket: BUCKET, key: 'listing/Zoë & co <1>.wav', body: new Uint8Array(5) });
    await s3.client.putObject({ bucket: BUCKET, key: 'listing/plain+plus.wav', body: new Uint8Array(7) });

    const page = await s3.client.listObjects({ bucket: BUCKET, prefix: 'listing/' });

    expect(page.isTruncated).toBe(false);
    expect(page.objects.map(({ key, size }) => ({ key, size }))).toEqual([
      { key: 'listing/Zoë & co <1>.wav', size: 5 },
      { key: 'listing/plain+plus.wav', size: 7 },
    ]);
  });

  it('reports MethodNotAllowed for listObjectVersions, which s3rver lacks (the delete path falls back on it)', async () => {
    const error = await caught(s3.client.listObjectVersions({ bucket: BUCKET, prefix: 'incoming/' }));
    expect(error).toMatchObject({ name: 'MethodNotAllowed', statusCode: 405 });
  });

  it('sends a presigned PUT with plain fetch and the signed headers; the object has its metadata', async () => {
    const key = 'incoming/typecast/Zoë (presigned).wav';
    const headers = {
      'content-type': 'audio/wav',
      'x-amz-meta-display-name': encodeURIComponent('Zoë'),
      'x-amz-meta-tags': 'warm',
    };
    const url = await s3.client.presignUrl({
      method: 'PUT',
      bucket: BUCKET,
      key,
      expiresInSeconds: 900,
      // The upload API also signs the announced size, so another size is refused.
      headers: { ...headers, 'content-length': '4' },
    });

    const response = await fetch(url, { method: 'PUT', headers, body: new Uint8Array([82, 73, 70, 70]) });
    const tooLong = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(5) });
    const head = await s3.client.headObject({ bucket: BUCKET, key });

    expect(response.status).toBe(200);
    expect(tooLong.status).toBe(403);
    expect(s3.refusals.pop()).toContain('content-length:5');
    expect(new URL(url).searchParams.get('X-Amz-SignedHeaders')).toBe(
      'content-length;content-type;host;x-amz-meta-display-name;x-amz-meta-tags',
    );
    expect(
      [...new URL(url).searchParams.keys()].filter((name) => /^x-amz-meta|checksum|^x-id$/i.test(name)),
    ).toEqual([]);
    expect(head).toMatchObject({
      contentLength: 4,
      contentType: 'audio/wav',
      metadata: { 'display-name': 'Zo%C3%AB', tags: 'warm' },
    });
  });

  it('refuses a presigned PUT whose signed headers are changed or left out', async () => {
    const headers = { 'content-type': 'audio/wav', 'x-amz-meta-tags': 'warm' };
    const url = await s3.client.presignUrl({
      method: 'PUT',
      bucket: BUCKET,
      key: 'incoming/typecast/tampered.wav',
      expiresInSeconds: 900,
      headers,
    });

    const before = s3.refusals.length;
    const changed = await fetch(url, {
      method: 'PUT',
      headers: { ...headers, 'x-amz-meta-tags': 'cold' },
      body: 'x',
    });
    const missing = await fetch(url, { method: 'PUT', headers: { 'content-type': 'audio/wav' }, body: 'x' });

    expect([changed.status, missing.status]).toEqual([403, 403]);
    expect(s3.refusals.splice(before)).toEqual([
      expect.stringContaining('does not match the signature you provided'),
      expect.stringContaining('does not match the signature you provided'),
    ]);
    expect(await changed.text()).toContain('SignatureDoesNotMatch');
  });

  it('fetches a presigned GET, and s3rver refuses it once expired', async () => {
    await s3.client.putObject({ bucket: BUCKET, key: ODD_KEY, body: new TextEncoder().encode('hello') });
    const fresh = await s3.client.presignUrl({
      method: 'GET',
      bucket: BUCKET,
      key: ODD_KEY,
      expiresInSeconds: 60,
    });
    const stale = await s3.client.presignUrl({
      method: 'GET',
      bucket: BUCKET,
      key: ODD_KEY,
      expiresInSeconds: 60,
      signedAt: new Date(Date.now() - 120_000),
    });

    const response = await fetch(fresh);
    const expired = await fetch(stale);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello');
    expect(new URL(fresh).searchParams.get('X-Amz-Expires')).toBe('60');
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('reads what the AWS SDK wrote, and the SDK reads what it wrote (metadata and odd keys included)', async () => {
    const sdkKey = `${ODD_KEY}.sdk`;
    await s3.sdk.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: sdkKey,
        Body: new TextEncoder().encode('from the sdk'),
        ContentType: 'audio/wav',
        Metadata: { 'display-name': 'Zo%C3%AB' },
      }),
    );
    await s3.client.putObject({
      bucket: BUCKET,
      key: ODD_KEY,
      body: new TextEncoder().encode('from the thin client'),
      contentType: 'audio/mpeg',
      metadata: { language: 'de' },
    });

    const thinHead = await s3.client.headObject({ bucket: BUCKET, key: sdkKey });
    const thinGet = await s3.client.getObject({ bucket: BUCKET, key: sdkKey, range: [5, 7] }); // 'from the sdk'
    const sdkHead = await s3.sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: ODD_KEY }));
    const sdkGet = await s3.sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: ODD_KEY }));

    expect(thinHead).toMatchObject({ contentType: 'audio/wav', metadata: { 'display-name': 'Zo%C3%AB' } });
    expect(new TextDecoder().decode(await thinGet.bytes())).toBe('the');
    expect(sdkHead).toMatchObject({ ContentType: 'audio/mpeg', Metadata: { language: 'de' } });
    expect(await sdkGet.Body?.transformToString()).toBe('from the thin client');
    expect(thinHead.etag).toBe(
      (await s3.sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: sdkKey }))).ETag,
    );
  });

  it('is refused with the wrong secret (the SigV4 check is live) and with an unknown access key', async () => {
    const wrongSecret = createS3Client({
      ...s3.settings,
      credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const unknownKey = createS3Client({
      ...s3.settings,
      credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'whatever' },
    });

    const before = s3.refusals.length;
    const signature = await caught(wrongSecret.getObject({ bucket: BUCKET, key: ODD_KEY }));
    const head = await caught(wrongSecret.headObject({ bucket: BUCKET, key: ODD_KEY }));
    const unknown = await caught(unknownKey.getObject({ bucket: BUCKET, key: ODD_KEY }));

    expect(s3.refusals.splice(before)).toHaveLength(2); // the wrong secret's GET and HEAD
    expect(signature).toMatchObject({
      name: 'SignatureDoesNotMatch',
      statusCode: 403,
      requestId: 'verifier',
    });
    expect(head).toMatchObject({ name: 'Forbidden', statusCode: 403 });
    expect(unknown).toMatchObject({ name: 'InvalidAccessKeyId', statusCode: 403 });
  });
});

/** A recorded-shape ListVersionsResult (S3 API reference), one truncated page with a delete marker. */
const LIST_VERSIONS_PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>voicedrop-audio</Name><Prefix>incoming/smallest/Zo%C3%AB+%C3%9Cnal+%26+co.wav</Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><NextKeyMarker>incoming/smallest/Zo%C3%AB+%C3%9Cnal+%26+co.wav</NextKeyMarker><NextVersionIdMarker>Uv3.Rn_xq9eS0e7b8IMHm9uD5mGE0vKb</NextVersionIdMarker><MaxKeys>3</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><Version><Key>incoming/smallest/Zo%C3%AB+%C3%9Cnal+%26+co.wav</Key><VersionId>3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY</VersionId><IsLatest>false</IsLatest><LastModified>2026-11-20T10:15:30.000Z</LastModified><ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></Version><DeleteMarker><Key>incoming/smallest/Zo%C3%AB+%C3%9Cnal+%26+co.wav</Key><VersionId>03jpff543dhffds434rfdsFDN943fdsFkdmqnh892</VersionId><IsLatest>true</IsLatest><LastModified>2026-11-21T08:00:00.000Z</LastModified><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></DeleteMarker><Version><Key>incoming/smallest/Zo%C3%AB+%C3%9Cnal+%26+co.wav</Key><VersionId>Uv3.Rn_xq9eS0e7b8IMHm9uD5mGE0vKb</VersionId><IsLatest>false</IsLatest><LastModified>2026-11-19T09:00:00.000Z</LastModified><ETag>&quot;e1f1b0b7c9e0a1d2f3a4b5c6d7e8f901&quot;</ETag><Size>1024</Size><StorageClass>STANDARD</StorageClass><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner></Version></ListVersionsResult>`;

describe('Function: parseListVersionsResult', () => {
  it('reads versions, delete markers and the next markers of a truncated page, keys url-decoded', () => {
    const page = parseListVersionsResult(LIST_VERSIONS_PAGE);
    const key = 'incoming/smallest/Zoë Ünal & co.wav';

    expect(page).toEqual({
      versions: [
        {
          key,
          versionId: '3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
          isLatest: false,
          etag: '"fba9dede5f27731c9771645a39863328"',
          size: 434_234,
          lastModified: new Date('2026-11-20T10:15:30.000Z'),
        },
        {
          key,
          versionId: 'Uv3.Rn_xq9eS0e7b8IMHm9uD5mGE0vKb',
          isLatest: false,
          etag: '"e1f1b0b7c9e0a1d2f3a4b5c6d7e8f901"',
          size: 1024,
          lastModified: new Date('2026-11-19T09:00:00.000Z'),
        },
      ],
      deleteMarkers: [
        {
          key,
          versionId: '03jpff543dhffds434rfdsFDN943fdsFkdmqnh892',
          isLatest: true,
          lastModified: new Date('2026-11-21T08:00:00.000Z'),
        },
      ],
      isTruncated: true,
      nextKeyMarker: key,
      nextVersionIdMarker: 'Uv3.Rn_xq9eS0e7b8IMHm9uD5mGE0vKb',
    });
  });

  it('leaves keys alone when the answer is not url-encoded, and decodes XML entities in them', () => {
    const page = parseListVersionsResult(
      '<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>a+b &amp; &lt;c&gt; &#x6771;&#20140;%41</Key><VersionId>null</VersionId><IsLatest>true</IsLatest></Version></ListVersionsResult>',
    );
    expect(page.versions).toEqual([
      {
        key: 'a+b & <c> 東京%41',
        versionId: 'null',
        isLatest: true,
        etag: undefined,
        size: undefined,
        lastModified: undefined,
      },
    ]);
    expect(page).toMatchObject({ isTruncated: false, nextKeyMarker: undefined, deleteMarkers: [] });
  });

  it('refuses another document', () => {
    expect(() => parseListVersionsResult('<Error><Code>AccessDenied</Code></Error>')).toThrow(
      'Expected an S3 ListVersionsResult document, got <Error>.',
    );
  });
});

describe('Function: parseXml', () => {
  it('keeps text exactly (spaces included), reads CDATA, skips comments, attributes and self-closing tags', () => {
    const root = parseXml(
      '<?xml version="1.0"?><!-- c --><A x="1>2" y=\'"\'><B>  two  spaces  </B><C/><D><![CDATA[<raw> & ]]></D></A>',
    );
    expect(root.name).toBe('A');
    expect(root.children.map((child) => [child.name, child.text])).toEqual([
      ['B', '  two  spaces  '],
      ['C', ''],
      ['D', '<raw> & '],
    ]);
  });

  it.each([
    ['a document type declaration', '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'],
    ['an unknown entity', '<x>&nbsp;</x>'],
    ['an unterminated entity', '<x>a & b</x>'],
    ['a surrogate character reference', '<x>&#xD800;</x>'],
    ['mismatched tags', '<a><b></a></b>'],
    ['an unclosed element', '<a><b></b>'],
    ['two roots', '<a/><b/>'],
    ['text outside the root', 'junk<a/>'],
    ['an empty document', ''],
  ])('refuses %s', (_, xml) => {
    expect(() => parseXml(xml)).toThrow(XmlSyntaxError);
  });
});

describe('Function: s3Url', () => {
  const aws: AwsSettings = { region: 'eu-central-1' };

  it('encodes each key segment as RFC 3986 asks, keeping the slashes', () => {
    expect(s3Url(aws, 'voicedrop-audio', ODD_KEY).href).toBe(
      'https://voicedrop-audio.s3.eu-central-1.amazonaws.com/incoming/smallest/' +
        'Zo%C3%AB%20%C3%9Cnal%20%E6%9D%B1%E4%BA%AC%20%28take%202%29%2B%25%23%3F.wav',
    );
    expect(s3Url(aws, 'b-1', "a/!'*~_.-/").pathname).toBe('/a/%21%27%2A~_.-/');
  });

  it('addresses buckets virtual-hosted in AWS, path-style with dots, in China, and at a local endpoint', () => {
    expect(s3Url(aws, 'my.dotted.bucket', 'k').href).toBe(
      'https://s3.eu-central-1.amazonaws.com/my.dotted.bucket/k',
    );
    expect(s3Url({ region: 'cn-north-1' }, 'audio', 'k').href).toBe(
      'https://audio.s3.cn-north-1.amazonaws.com.cn/k',
    );
    expect(s3Url({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4569/' }, 'audio', 'a b').href).toBe(
      'http://127.0.0.1:4569/audio/a%20b',
    );
  });

  it('writes subresources bare and other parameters encoded, leaving out undefined ones', () => {
    const url = s3Url(aws, 'audio', undefined, [
      ['versions', ''],
      ['prefix', 'a b+c/é'],
      ['key-marker', undefined],
    ]);
    expect(url.href).toBe('https://audio.s3.eu-central-1.amazonaws.com/?versions&prefix=a%20b%2Bc%2F%C3%A9');
  });

  it.each([
    ['an empty key', ''],
    ['a ".." segment', 'incoming/../secret.wav'],
    ['a "." segment', 'incoming/./a.wav'],
    ['a lone surrogate', 'incoming/\ud800.wav'],
  ])('refuses %s', (_, key) => {
    expect(() => s3Url(aws, 'audio', key)).toThrow(RangeError);
  });
});

describe('Function: createS3Client, requests and error answers (stub server on port 0)', () => {
  interface Recorded {
    method: string;
    url: string;
    headers: IncomingMessage['headers'];
    body: string;
  }
  let server: Server;
  let requests: Recorded[];
  let answer: (request: Recorded) => { status: number; headers?: Record<string, string>; body?: string };
  let client: S3Client;
  const settings = (endpoint: string): AwsSettings => ({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' },
    retry: { baseDelayMs: 1 },
  });

  beforeAll(async () => {
    server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const recorded = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const { status, headers = {}, body = '' } = answer(recorded);
      response.writeHead(status, headers).end(request.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = createS3Client(settings(`http://127.0.0.1:${port}`));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const reset = (next: typeof answer) => {
    requests = [];
    answer = next;
  };

  it('asks for ?versions with the prefix and markers, signed, and reads the page', async () => {
    reset(() => ({ status: 200, headers: { 'content-type': 'application/xml' }, body: LIST_VERSIONS_PAGE }));

    const page = await client.listObjectVersions({
      bucket: 'voicedrop-audio',
      prefix: 'incoming/smallest/Zoë Ünal & co.wav',
      keyMarker: 'incoming/a+b',
      versionIdMarker: 'v1.x',
    });

    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe(
      '/voicedrop-audio?versions&encoding-type=url&key-marker=incoming%2Fa%2Bb' +
        '&prefix=incoming%2Fsmallest%2FZo%C3%AB%20%C3%9Cnal%20%26%20co.wav&version-id-marker=v1.x',
    );
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(request?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(Object.keys(request?.headers ?? {}).filter((name) => name.includes('checksum'))).toEqual([]);
    expect(page.isTruncated).toBe(true);
    expect(page.versions).toHaveLength(2);
    expect(page.deleteMarkers).toHaveLength(1);
  });

  it('signs a PUT body with its SHA-256 and sends no checksum headers', async () => {
    reset(() => ({ status: 200, headers: { etag: '"abc"', 'x-amz-version-id': 'v2' } }));

    const result = await client.putObject({
      bucket: 'voicedrop-audio',
      key: 'speech/v/1.wav',
      body: new TextEncoder().encode('abc'),
      contentType: 'audio/wav',
    });

    expect(result).toEqual({ etag: '"abc"', versionId: 'v2' });
    expect(requests[0]?.headers['x-amz-content-sha256']).toBe(sha256('abc'));
    expect(requests[0]?.headers['content-type']).toBe('audio/wav');
    expect(requests[0]?.body).toBe('abc');
    expect(Object.keys(requests[0]?.headers ?? {}).filter((name) => name.includes('checksum'))).toEqual([]);
  });

  it('sends versionId with HEAD, GET and DELETE and reads the version back', async () => {
    reset((request) => ({
      status: request.method === 'DELETE' ? 204 : 200,
      headers: {
        'x-amz-version-id': 'v.1',
        'x-amz-meta-display-name': 'Zo%C3%AB',
        'x-amz-delete-marker': 'false',
        'last-modified': 'Sat, 21 Nov 2026 07:00:00 GMT',
      },
      body: 'data',
    }));

    const head = await client.headObject({ bucket: 'b-1', key: 'k', versionId: 'v.1' });
    await client.getObject({ bucket: 'b-1', key: 'k', versionId: 'v.1' }).then((object) => object.bytes());
    const deleted = await client.deleteObject({ bucket: 'b-1', key: 'k', versionId: 'v.1' });

    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'HEAD /b-1/k?versionId=v.1',
      'GET /b-1/k?versionId=v.1',
      'DELETE /b-1/k?versionId=v.1',
    ]);
    expect(head).toMatchObject({
      versionId: 'v.1',
      metadata: { 'display-name': 'Zo%C3%AB' },
      lastModified: new Date('2026-11-21T07:00:00Z'),
    });
    expect(deleted).toEqual({ versionId: 'v.1', deleteMarker: false });
  });

  it('throws NoSuchVersion from the XML error body, with its request id', async () => {
    reset(() => ({
      status: 404,
      headers: { 'x-amz-request-id': 'REQ123' },
      body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchVersion</Code><Message>The specified version does not exist.</Message><Key>k</Key><VersionId>v9</VersionId><RequestId>REQ123</RequestId><HostId>h</HostId></Error>',
    }));
    const error = await caught(client.getObject({ bucket: 'b-1', key: 'k', versionId: 'v9' }));
    expect(error).toMatchObject({
      name: 'NoSuchVersion',
      statusCode: 404,
      requestId: 'REQ123',
      message: 'The specified version does not exist.',
    });
  });

  it('names the bucket region when a HEAD (no body) or a GET is answered for another region', async () => {
    reset((request) =>
      request.method === 'HEAD'
        ? { status: 400, headers: { 'x-amz-bucket-region': 'eu-west-1' } }
        : {
            status: 301,
            headers: { 'x-amz-bucket-region': 'eu-west-1' },
            body: '<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Endpoint>audio.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>audio</Bucket></Error>',
          },
    );
    const expected =
      'Bucket audio is in region eu-west-1, but requests are signed for us-east-1: set AWS_REGION to eu-west-1 or use a bucket in us-east-1.';

    const head = await caught(client.headObject({ bucket: 'audio', key: 'k' }));
    const get = await caught(client.getObject({ bucket: 'audio', key: 'k' }));

    expect(head).toMatchObject({ name: 'BadRequest', statusCode: 400, message: expected });
    expect(get).toMatchObject({ name: 'PermanentRedirect', statusCode: 301, message: expected });
  });

  it('names the bucket region when a PUT is refused for a wrong signing region', async () => {
    reset(() => ({
      status: 400,
      headers: { 'x-amz-bucket-region': 'eu-west-1' },
      body: "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>",
    }));
    const error = await caught(client.putObject({ bucket: 'audio', key: 'k', body: new Uint8Array(1) }));
    expect(error).toMatchObject({
      name: 'AuthorizationHeaderMalformed',
      message: expect.stringContaining('Bucket audio is in region eu-west-1'),
    });
  });

  it('retries 503 SlowDown and then succeeds', async () => {
    let calls = 0;
    reset(() => {
      calls += 1;
      return calls === 1
        ? {
            status: 503,
            body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
          }
        : { status: 200, headers: { 'content-length': '0' } };
    });
    await client.headObject({ bucket: 'b-1', key: 'k' });
    expect(requests).toHaveLength(2);
  });

  it('presigns with the session token and no checksum parameters', async () => {
    const url = new URL(
      await client.presignUrl({
        method: 'GET',
        bucket: 'b-1',
        key: 'speech/v/ü.wav',
        expiresInSeconds: 900,
        signedAt: new Date('2026-11-21T07:00:00Z'),
      }),
    );
    expect(url.pathname).toBe('/b-1/speech/v/%C3%BC.wav');
    expect([...url.searchParams.keys()].sort()).toEqual([
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Date',
      'X-Amz-Expires',
      'X-Amz-Security-Token',
      'X-Amz-Signature',
      'X-Amz-SignedHeaders',
    ]);
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261121T070000Z');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    await expect(
      client.presignUrl({ method: 'GET', bucket: 'b-1', key: 'k', expiresInSeconds: 604_801 }),
    ).rejects.toThrow(RangeError);
  });

  it('rejects with the reason of an aborted signal and sends nothing', async () => {
    reset(() => ({ status: 200 }));
    const reason = new Error('the Lambda is out of time');
    await expect(
      client.headObject({ bucket: 'b-1', key: 'k', signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(requests).toEqual([]);
  });

  it('refuses metadata a header cannot carry before sending anything', async () => {
    reset(() => ({ status: 200 }));
    await expect(
      client.putObject({
        bucket: 'b-1',
        key: 'k',
        body: new Uint8Array(1),
        metadata: { 'display-name': 'Zoë' },
      }),
    ).rejects.toThrow(/printable ASCII/);
    expect(requests).toEqual([]);
  });
});

describe('Bundle size', () => {
  it('prints the esbuild-minified bytes of an entry importing only the S3 client', async () => {
    const result = await build({
      stdin: {
        contents: "export { createS3Client } from './functions/shared/aws/s3';",
        resolveDir: join(import.meta.dirname, '../..'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      minify: true,
      write: false,
      metafile: true,
    });
    const bytes = result.outputFiles[0]?.contents.length ?? 0;
    const inputs = Object.entries(result.metafile.outputs)[0]?.[1].inputs ?? {};
    const byInput = Object.entries(inputs)
      .map(([path, { bytesInOutput }]) => `${path.replace(/^.*node_modules\//, '')} ${bytesInOutput} B`)
      .join(', ');
    console.log(`S3 client bundle (esbuild, minified, esm, node): ${bytes} B — ${byInput}`);
    expect(bytes).toBeLessThan(30_000);
  });
});
