import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api/app';
import { PROVIDER_LIMITS } from '../../../functions/shared/providers/limits';
import { startPipelineFixture } from '../../support/pipeline-fixture';

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let app: ReturnType<typeof createApiApp>;
const voiceIds = { smallest: '', typecast: '' };

beforeAll(async () => {
  fixture = await startPipelineFixture();
  app = createApiApp(fixture.apiDependencies());
  voiceIds.smallest = await fixture.cloneVoice('incoming/smallest/Speaker.wav');
  voiceIds.typecast = await fixture.cloneVoice('incoming/typecast/Speaker.wav');
}, 60_000);

afterAll(async () => {
  await fixture?.stop();
});

type Provider = keyof typeof voiceIds;

const speech = (provider: Provider, text: string, options: { delivery?: 'url'; cache?: boolean } = {}) =>
  app.request(`/voices/${voiceIds[provider]}/speech`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text, ...options }),
  });

/** The texts the provider's simulator was asked to speak since `from` requests ago. */
function spokenTexts(provider: Provider, from: number): string[] {
  return fixture[provider].state.requests
    .slice(from)
    .filter((request) => request.route === 'speech')
    .map((request) => (request.json as { text: string }).text);
}

/** Plain words exactly `length` code points long, ending in a letter. */
function wordsOf(length: number): string {
  const words = ['the', 'voice', 'cloned', 'speaks', 'quietly', 'again', 'today', 'river', 'north'];
  let text = '';
  for (let index = 0; text.length < length; index++) text += `${words[index % words.length]} `;
  text = text.slice(0, length);
  return text.endsWith(' ') ? `${text.slice(0, -1)}s` : text;
}

const SILENT_RUN = '🎉🤖✨!!👍🏽…🎉?'.repeat(8).slice(0, -1);

describe('POST /voices/{voiceId}/speech: text with runs of emoji or punctuation', () => {
  it.each(['smallest', 'typecast'] as const)(
    'speaks a long text with a silent run at a chunk boundary (%s): no request without words',
    async (provider) => {
      const limit = PROVIDER_LIMITS[provider].speech.maxCharsPerRequest;
      // Found by fuzzing: for Typecast, 2,080 characters whose last 79 fell into a chunk of their own.
      const texts = [
        `${wordsOf(limit)} ${SILENT_RUN}`,
        `${wordsOf(limit)} ${SILENT_RUN}\n${wordsOf(limit + 40)}.`,
      ];
      expect([...(texts[0] as string)]).toHaveLength(limit + 80);
      for (const text of texts) {
        const from = fixture[provider].state.requests.length;

        // Without the cache: both texts start with the same piece, which must be sent each time here.
        const response = await speech(provider, text, { delivery: 'url', cache: false });

        expect(response.status).toBe(200);
        const sent = spokenTexts(provider, from);
        expect(sent.length).toBeGreaterThan(0);
        for (const chunk of sent) {
          expect(chunk).toMatch(/[\p{L}\p{N}]/u);
          expect([...chunk].length).toBeLessThanOrEqual(limit);
        }
        expect(sent[0]).toBe(wordsOf(limit));
      }
    },
  );
});

describe('POST /voices/{voiceId}/speech: text with nothing to speak', () => {
  const silentTexts = [
    '\u0000',
    '\u0000\u0000 \u0000',
    '...',
    '?!',
    ' — ',
    '🎉',
    '👨‍👩‍👧🇯🇵',
    '  \n!\t',
    SILENT_RUN,
  ];

  it.each(['smallest', 'typecast'] as const)(
    'is a 400 in the API error shape before any call to the provider (%s)',
    async (provider) => {
      for (const text of silentTexts) {
        const counts = { ...fixture[provider].state.counts };

        const response = await speech(provider, text);

        expect(response.status, JSON.stringify(text)).toBe(400);
        const body = (await response.json()) as { error: Record<string, unknown> };
        expect(Object.keys(body)).toEqual(['error']);
        expect(body.error).toEqual({
          code: 'invalid_request',
          message: expect.stringMatching(/^text: has nothing to speak/),
          retryable: false,
        });
        expect(fixture[provider].state.counts).toEqual(counts);
      }
    },
  );

  it('is refused even before the voice is looked up, like the other checks of the body', async () => {
    const response = await app.request('/voices/vc_aaaaaaaaaaaaaaaaaaaaaaaaaa/speech', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: '🎉' }),
    });
    expect(response.status).toBe(400);
  });

  it('still speaks a single letter or digit in any script, whatever surrounds it', async () => {
    for (const text of ['🎉 a 🎉', '!!!7!!!', '…音…', '\u0000ж\u0000']) {
      expect((await speech('typecast', text)).status, JSON.stringify(text)).toBe(200);
    }
  });
});

describe("POST /voices/{voiceId}/speech: Typecast's own refusal", () => {
  it('quotes the provider in one sentence, with a single final period', async () => {
    fixture.typecast.injectFault({
      route: 'speech',
      type: 'status',
      status: 400,
      body: {
        error_code: 'TEXT_NOT_SYNTHESIZABLE',
        message: 'The text contains nothing that can be spoken.',
      },
    });

    const response = await speech('typecast', 'Speakable to us, not to the provider.');

    expect(response.status).toBe(422);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('provider_rejected_input');
    expect(error.message).toMatch(/: The text contains nothing that can be spoken\.$/);
    expect(error.message).not.toMatch(/\.\.$/);
  });
});
