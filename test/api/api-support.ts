import { handle } from 'hono/aws-lambda';
import { parseBuffer } from 'music-metadata';
import { afterAll, beforeAll, expect } from 'vitest';
import { type ApiDependencies, createApiApp } from '../../functions/api/app';
import { streamingHandler } from '../../functions/api/lambda-stream';
import { silentLog } from '../../functions/shared/logger';
import { type ApiHandler, type LocalApiGateway, startLocalApiGateway } from '../../local/api-gateway';
import { localResponseStreamRuntime } from '../../local/api-gateway/response-stream';
import { startPipelineFixture } from '../support/pipeline-fixture';

/** What the API tests share: the API over real servers and simulators, five voices, two ways to call it. */

export type Requester = (path: string, init?: RequestInit) => Promise<Response>;

/**
 * Every test runs twice: in-process (the Hono app) and over HTTP through the local API Gateway, which
 * builds real REST API proxy events for the Lambda handler and returns binary bodies as API Gateway does.
 */
export const MODES = ['in-process', 'over HTTP through the API Gateway adapter'] as const;
export type Mode = (typeof MODES)[number];

type PipelineFixture = Awaited<ReturnType<typeof startPipelineFixture>>;

/**
 * Starts the pipeline fixture and the API around the calling test file and clones five voices (alice and
 * carol on Smallest, bob and dave on Typecast, one rejected). The returned fixture, dependencies and
 * voice ids are filled in once they exist (beforeAll).
 */
export function useApi() {
  const fixture = {} as PipelineFixture;
  const dependencies = {} as ApiDependencies;
  let app: ReturnType<typeof createApiApp>;
  const voiceIds = { alice: '', bob: '', carol: '', rejected: '', dave: '' };
  const gateways: LocalApiGateway[] = [];

  async function requesterFor(target: ReturnType<typeof createApiApp>, mode: Mode): Promise<Requester> {
    if (mode === 'in-process') return (path, init) => Promise.resolve(target.request(path, init));
    // Speech streams as the speech function does in AWS; the other routes are buffered.
    const gateway = await startLocalApiGateway({
      port: 0,
      handler: handle(target) as unknown as ApiHandler,
      streamingHandler: streamingHandler(target, localResponseStreamRuntime, silentLog),
    });
    gateways.push(gateway);
    return (path, init) => fetch(`${gateway.url}${path}`, init);
  }

  beforeAll(async () => {
    Object.assign(fixture, await startPipelineFixture());
    Object.assign(
      dependencies,
      fixture.apiDependencies({
        logger: process.env.DEBUG_API
          ? { ...silentLog, error: (m: string, a?: Record<string, unknown>) => console.error(m, a) }
          : silentLog,
      }),
    );
    app = createApiApp(dependencies);
    voiceIds.alice = await fixture.cloneVoice('incoming/smallest/Alice.wav');
    voiceIds.bob = await fixture.cloneVoice('incoming/typecast/Bob.wav');
    voiceIds.carol = await fixture.cloneVoice('incoming/smallest/Carol.wav');
    voiceIds.rejected = await fixture.cloneVoice(
      'incoming/smallest/noise.wav',
      new Uint8Array(1_000).fill(7),
    );
    voiceIds.dave = await fixture.cloneVoice('incoming/typecast/Dave.wav');
  }, 60_000);

  afterAll(async () => {
    for (const gateway of gateways) await gateway.close();
    await fixture.stop?.();
  });

  return {
    fixture,
    dependencies,
    voiceIds,
    requesterFor,
    /** The API app of the shared dependencies, called in `mode`. */
    appRequester: (mode: Mode) => requesterFor(app, mode),
  };
}

export const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string; retryable: boolean } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'retryable']);
  return body.error;
}

export async function wavDuration(bytes: Uint8Array): Promise<number> {
  const metadata = await parseBuffer(bytes, { mimeType: 'audio/wav' }, { duration: true });
  return metadata.format.duration ?? 0;
}
