import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api/app';
import { streamingHandler } from '../../../functions/api/lambda-stream';
import { silentLog } from '../../../functions/shared/logger';
import { type ApiHandler, type LocalApiGateway, startLocalApiGateway } from '../../../local/api-gateway';
import { localResponseStreamRuntime } from '../../../local/api-gateway/response-stream';
import { startPipelineFixture } from '../../support/pipeline-fixture';

// A caller that hangs up mid-stream stops the synthesis: over HTTP through the streaming handler, against
// a simulator slow enough (200 ms to the first byte) that most pieces are still to come.
let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let gateway: LocalApiGateway;
let voiceId = '';

beforeAll(async () => {
  fixture = await startPipelineFixture({ simulators: { smallest: { speechFirstByteMs: 200 } } });
  voiceId = await fixture.cloneVoice('incoming/smallest/Hang up.wav');
  const app = createApiApp(fixture.apiDependencies());
  gateway = await startLocalApiGateway({
    port: 0,
    handler: handle(app) as unknown as ApiHandler,
    streamingHandler: streamingHandler(app, localResponseStreamRuntime, silentLog),
    log: silentLog,
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await fixture?.stop();
});

it('stops asking the provider for pieces once the caller has gone', async () => {
  const text = Array.from(
    { length: 20 },
    (_, index) => `Piece ${index} is one of twenty sentences read aloud.`,
  ).join(' ');
  const speech = () => fixture.smallest.state.requests.filter((request) => request.route === 'speech').length;
  const before = speech();
  const caller = new AbortController();
  const response = await fetch(`${gateway.url}/voices/${voiceId}/speech`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text, cache: false }),
    signal: caller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body?.getReader();
  await reader?.read();
  caller.abort();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const afterHangUp = speech() - before;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // Smallest takes one request at a time, 200 ms each: twenty would take four seconds. After the hang-up
  // at most the piece in flight finishes; nothing new starts.
  expect(afterHangUp).toBeLessThan(20);
  expect(speech() - before).toBe(afterHangUp);
});
