import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll } from 'vitest';
import type { AwsSettings } from '../../functions/shared/aws/config';

/**
 * A stand-in for AWS services that have no local implementation (Secrets Manager, SQS): an HTTP server
 * on port 0 that checks every request's SigV4 signature by recomputing it with @smithy/signature-v4 (the
 * AWS SDK's own signer, independent of the aws4fetch signer under test) from what actually arrived, then
 * lets the test answer like the service. A request with a bad signature gets AWS's 403
 * `InvalidSignatureException` and is recorded with `signatureProblem`.
 */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** From the credential scope: `secretsmanager`, `sqs`, … */
  readonly service: string | undefined;
  readonly region: string | undefined;
  readonly signedHeaders: readonly string[];
  /** Why the signature did not verify; `undefined` when it did. */
  readonly signatureProblem: string | undefined;
  /** The parsed JSON body, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

export interface Reply {
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Objects are sent as JSON. */
  readonly body?: unknown;
  /** Waits this long before answering (to test timeouts and aborts). */
  readonly delayMs?: number;
}

export interface SignatureCheckingServer {
  readonly endpoint: string;
  readonly requests: ReceivedRequest[];
  /** Replaces how the server answers; the default answers 200 `{}`. */
  answer(handler: (request: ReceivedRequest, index: number) => Reply | Promise<Reply>): void;
  close(): Promise<void>;
}

/**
 * One stub for a test file: started before its tests, closed after them, and handed over with settings
 * that point the thin clients at it (a 1 ms retry backoff keeps retry tests fast).
 */
export function useSignatureCheckingServer(
  options: {
    readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
    readonly region: string;
  },
  started: (server: SignatureCheckingServer, settings: AwsSettings) => void,
): void {
  let server: SignatureCheckingServer | undefined;
  beforeAll(async () => {
    server = await startSignatureCheckingServer({ credentials: options.credentials });
    started(server, {
      region: options.region,
      endpoint: server.endpoint,
      credentials: options.credentials,
      retry: { baseDelayMs: 1 },
    });
  });
  afterAll(async () => {
    await server?.close();
  });
}

export async function startSignatureCheckingServer(expected: {
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}): Promise<SignatureCheckingServer> {
  const requests: ReceivedRequest[] = [];
  let handler: (request: ReceivedRequest, index: number) => Reply | Promise<Reply> = () => ({ body: {} });

  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const body = await readBody(incoming);
      const received = await verify(incoming, body, expected.credentials);
      const index = requests.push(received) - 1;
      const reply: Reply = received.signatureProblem
        ? {
            status: 403,
            body: { __type: 'InvalidSignatureException', message: received.signatureProblem },
          }
        : await handler(received, index);
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (outgoing.destroyed) return;
      const text =
        reply.body === undefined
          ? ''
          : typeof reply.body === 'string'
            ? reply.body
            : JSON.stringify(reply.body);
      outgoing.writeHead(reply.status ?? 200, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `request-${index + 1}`,
        ...reply.headers,
      });
      outgoing.end(text);
    })().catch((error: unknown) => {
      outgoing.writeHead(599);
      outgoing.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    answer(next) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(incoming: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

async function verify(
  incoming: IncomingMessage,
  body: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<ReceivedRequest> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (typeof value === 'string') headers[name] = value;
  }
  const url = new URL(incoming.url ?? '/', 'http://placeholder');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const base = { method: incoming.method ?? 'GET', path: url.pathname, headers, body, json };

  const match = AUTHORIZATION.exec(headers.authorization ?? '');
  if (!match) {
    return {
      ...base,
      service: undefined,
      region: undefined,
      signedHeaders: [],
      signatureProblem: 'no SigV4 Authorization header',
    };
  }
  const [, accessKeyId, day, region, service, signedHeaderList = '', signature] = match;
  const signedHeaders = signedHeaderList.split(';');
  const result = { ...base, service, region, signedHeaders };
  const amzDate = headers['x-amz-date'] ?? '';
  if (accessKeyId !== credentials.accessKeyId) return { ...result, signatureProblem: 'unknown access key' };
  if (!amzDate.startsWith(day ?? '-'))
    return { ...result, signatureProblem: 'x-amz-date is not the scope date' };
  for (const required of ['host', 'x-amz-date']) {
    if (!signedHeaders.includes(required))
      return { ...result, signatureProblem: `${required} is not signed` };
  }

  const toSign: Record<string, string> = {};
  for (const name of signedHeaders) {
    if (name !== 'x-amz-date') toSign[name] = headers[name] ?? '';
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
    },
    region: region ?? '',
    service: service ?? '',
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: base.method,
      protocol: 'http:',
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers: toSign,
      body,
    },
    { signingDate: parseAmzDate(amzDate) },
  );
  const recomputed = AUTHORIZATION.exec(String(signed.headers.authorization));
  if (recomputed?.[5] !== signedHeaderList) {
    return { ...result, signatureProblem: `signed headers differ: ${recomputed?.[5]} expected` };
  }
  if (recomputed?.[6] !== signature) return { ...result, signatureProblem: 'signature does not match' };
  return { ...result, signatureProblem: undefined };
}

function parseAmzDate(value: string): Date {
  const parts = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!parts) return new Date(Number.NaN);
  const [, year, month, day, hour, minute, second] = parts.map(Number) as number[];
  return new Date(Date.UTC(year ?? 0, (month ?? 1) - 1, day, hour, minute, second));
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape @smithy/signature-v4 wants. */
class NodeSha256 {
  private readonly hash;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {}
}
