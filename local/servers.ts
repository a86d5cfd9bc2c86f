import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { DeadlineBoundHttpHandler } from '../functions/shared/aws-deadline';
import { VOICES_TABLE, VOICES_TABLE_INDEXES, voicesTableKeyAttributes } from '../functions/shared/contract';
import { sleep } from '../functions/shared/retry';
import { createDynaliteWithStore, type DynaliteStore } from './table-stream';

/** A started part's close function; whoever started the parts runs them in reverse start order. */
export type Closer = () => Promise<void>;

/** s3rver accepts only its own key pair; dynalite accepts any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';
/** Local mode's bucket and voices table. */
export const LOCAL_BUCKET = 'voicedrop-local';
export const LOCAL_TABLE = 'voicedrop-voices';

export interface LocalS3 {
  readonly endpoint: string;
  readonly server: S3rver;
  close(): Promise<void>;
}

export interface LocalDynamo {
  readonly endpoint: string;
  /** dynalite's store, for the table stream stand-in (local/table-stream.ts). */
  readonly store: DynaliteStore;
  close(): Promise<void>;
}

/** An S3-compatible server in-process; objects live under `directory` and survive restarts. */
export async function startLocalS3(options: {
  port: number;
  directory: string;
  bucket: string;
}): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    port: options.port,
    address: '127.0.0.1',
    silent: true,
    directory: options.directory,
    configureBuckets: [{ name: options.bucket, configs: [] }],
    allowMismatchedSignatures: false,
  });
  // Runs before s3rver's own middleware (Koa composes the list when the server starts listening).
  (server as unknown as { middleware: KoaMiddleware[] }).middleware.unshift(decodeAwsChunkedUploads);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    server,
    close: () => server.close(),
  };
}

type KoaMiddleware = (context: KoaContext, next: () => Promise<void>) => Promise<void>;
interface KoaContext {
  method: string;
  req: NodeJS.ReadableStream;
  get(header: string): string;
}

/**
 * Current AWS SDKs and CLI v2 send uploads with `aws-chunked` framing and a checksum trailer
 * (`x-amz-content-sha256: STREAMING-…`). s3rver predates that and would store the framing as object
 * bytes, so local mode unwraps such bodies before s3rver sees them.
 */
const decodeAwsChunkedUploads: KoaMiddleware = async (context, next) => {
  const payload = context.get('x-amz-content-sha256');
  const encoding = context.get('content-encoding');
  if (context.method === 'PUT' && (payload.startsWith('STREAMING-') || encoding.includes('aws-chunked'))) {
    const framed = context.req;
    context.req = Readable.from(unframeAwsChunked(framed));
  }
  await next();
};

async function* unframeAwsChunked(body: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  let buffer = Buffer.alloc(0);
  let finished = false;
  for await (const piece of body) {
    // After the last chunk come the trailers: read them to the end (returning early would destroy the
    // request stream and with it the response).
    if (finished) continue;
    buffer = Buffer.concat([buffer, Buffer.isBuffer(piece) ? piece : Buffer.from(piece)]);
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n');
      if (lineEnd < 0) break;
      // "<hex size>[;chunk-signature=…]"
      const size = Number.parseInt(buffer.subarray(0, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
      if (!Number.isFinite(size)) throw new Error('malformed aws-chunked body');
      if (size === 0) {
        finished = true;
        break;
      }
      if (buffer.length < lineEnd + 2 + size + 2) break;
      yield buffer.subarray(lineEnd + 2, lineEnd + 2 + size);
      buffer = buffer.subarray(lineEnd + 2 + size + 2);
    }
  }
}

/** A DynamoDB-compatible server in-process; with `directory` the data survives restarts. */
export async function startLocalDynamo(options: { port: number; directory?: string }): Promise<LocalDynamo> {
  if (options.directory) mkdirSync(options.directory, { recursive: true });
  const { server, store } = createDynaliteWithStore(dynalite, {
    path: options.directory,
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    store,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function localS3Client(endpoint: string): S3Client {
  // As in both functions: requests that end by the invocation's deadline.
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new DeadlineBoundHttpHandler(),
  });
}

export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new DeadlineBoundHttpHandler(),
  });
}

/** The voices table, with the same key schema and indexes as the deployed one (both from contract.ts). */
export async function ensureVoicesTable(client: DynamoDBClient, tableName: string): Promise<void> {
  if (!(await tableExists(client, tableName))) await createVoicesTable(client, tableName);
  // CreateTable answers while the table is still CREATING (dynalite too, for a moment): the first reads
  // and writes would meet ResourceNotFoundException.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within 10 s`);
    await sleep(10);
  }
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

async function createVoicesTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        // From the definition the stack builds its table from (functions/shared/contract.ts): every key
        // attribute a string, every index projecting all attributes.
        AttributeDefinitions: voicesTableKeyAttributes().map((name) => ({
          AttributeName: name,
          AttributeType: 'S' as const,
        })),
        KeySchema: [{ AttributeName: VOICES_TABLE.partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: VOICES_TABLE_INDEXES.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
            { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
          ],
          Projection: { ProjectionType: 'ALL' as const },
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

export function dataPaths(dataDir: string) {
  return {
    s3: join(dataDir, 's3'),
    dynamodb: join(dataDir, 'dynamodb'),
    inbox: join(dataDir, 'inbox'),
    deadLetters: join(dataDir, 'dead-letters.jsonl'),
    /** Clone queue dead letters moved back by `npm run redrive -- --local`, until local mode sends them. */
    redrive: join(dataDir, 'redrive'),
    events: join(dataDir, 'events.jsonl'),
    webhookOutbox: join(dataDir, 'webhooks'),
    webhookDeadLetters: join(dataDir, 'webhook-dead-letters.jsonl'),
    /** Webhook dead letters moved back by `npm run redrive -- --local --webhooks`. */
    webhookRedrive: join(dataDir, 'webhook-redrive'),
  };
}
