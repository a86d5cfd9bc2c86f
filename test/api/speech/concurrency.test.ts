import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api/app';
import { PROVIDER_LIMITS } from '../../../functions/shared/providers/limits';
import { collectAfterResponse } from '../../support/after-response';
import { startPipelineFixture } from '../../support/pipeline-fixture';

// An account on a larger plan than the default (Typecast Lite: 5 at once), with speech slow enough that
// pieces of one text overlap whenever the API lets them.
let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let voiceId = '';
/** The usage each answer leaves for afterwards, awaited before the servers stop. */
const after = collectAfterResponse();

beforeAll(async () => {
  fixture = await startPipelineFixture({
    simulators: { typecast: { concurrency: 5, speechLatencyMs: 150 } },
  });
  voiceId = await fixture.cloneVoice('incoming/typecast/Speaker.wav');
}, 60_000);

afterAll(async () => {
  await after.settled();
  await fixture?.stop();
});

/** Twelve sentences: twelve pieces, each one provider request. */
const LONG_TEXT = Array.from(
  { length: 12 },
  (_, index) => `Sentence number ${index} is spoken at an even pace, one piece of its own.`,
).join(' ');

async function peakSpeechInFlight(speechConcurrency?: { smallest: number; typecast: number }) {
  fixture.typecast.state.peakInFlight.speech = 0;
  const before = fixture.typecast.state.requests.length;
  const app = createApiApp(fixture.apiDependencies(speechConcurrency ? { speechConcurrency } : {}));
  const answer = await app.request(
    `/voices/${voiceId}/speech`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      // No cache: every run must reach the provider.
      body: JSON.stringify({ text: LONG_TEXT, delivery: 'url', cache: false }),
    },
    undefined,
    after.executionContext,
  );
  expect(answer.status).toBe(200);
  const spoken = fixture.typecast.state.requests
    .slice(before)
    .filter((request) => request.route === 'speech');
  expect(spoken).toHaveLength(12);
  return fixture.typecast.state.peakInFlight.speech;
}

describe('speech concurrency is its own setting, apart from clone concurrency', () => {
  it('defaults to the provider limits (Typecast: 2 synthesis requests at once)', async () => {
    expect(await peakSpeechInFlight()).toBe(PROVIDER_LIMITS.typecast.speech.concurrency);
  });

  it('follows the configured speech concurrency, up and down', async () => {
    expect(await peakSpeechInFlight({ smallest: 1, typecast: 3 })).toBe(3);
    expect(await peakSpeechInFlight({ smallest: 1, typecast: 1 })).toBe(1);
  });
});
