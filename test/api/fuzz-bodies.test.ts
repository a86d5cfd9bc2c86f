import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectCleanAnswer,
  JSON_HEADERS,
  oddCharacter,
  oddText,
  refusedByProvider,
  useFuzzedApi,
} from './fuzz-support';

// API fuzzing of request bodies: malformed, huge, wrongly typed, and JSON fields with odd values.
const { voices, providerRequests, callInProcess, realId } = useFuzzedApi();

/** Bodies that are not the JSON the route wants: malformed, not an object, or valid JSON of the wrong shape. */
const malformedBody = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '{"text": "unterminated',
    '{"text": "x",}',
    "{'text': 'x'}",
    '{"text": "x"} trailing',
    '\uFEFF{"text": "x"}',
    'null',
    'true',
    '0',
    '-0',
    '1e309',
    '"text"',
    '[]',
    '[{"text": "x"}]',
    '{"text": null}',
    '{"text": 5}',
    '{"text": ["x"]}',
    '{"text": {"toString": "x"}}',
    '{"__proto__": {"text": "x"}}',
    '{"constructor": {"prototype": {}}}',
    'text=hello&format=wav',
    '\u0000',
    '{"text": "\\ud800"}',
    '{"text": "\\u0000"}',
  ),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: oddCharacter, maxLength: 50 }),
  fc.json().map((json) => json.slice(0, Math.max(1, Math.floor(json.length / 2)))),
  fc.jsonValue().map((value) => JSON.stringify(value)),
);

/** Huge bodies: megabytes of text in a field or an unknown key, and deeply nested arrays or objects. */
const hugeBody = fc.oneof(
  fc
    .record({
      megabytes: fc.integer({ min: 1, max: 6 }),
      field: fc.constantFrom('text', 'fileName', 'displayName', 'description', 'language', 'tags', 'x'),
      character: fc.constantFrom('a', ' ', '\u{1F600}', 'e\u0301', '\u200B'),
    })
    .map(({ megabytes, field, character }) =>
      JSON.stringify({ [field]: character.repeat(Math.ceil((megabytes * 1_000_000) / character.length)) }),
    ),
  fc
    .record({ depth: fc.integer({ min: 1_000, max: 100_000 }), kind: fc.constantFrom('array', 'object') })
    .map(({ depth, kind }) =>
      kind === 'array'
        ? `{"text": ${'['.repeat(depth)}${']'.repeat(depth)}}`
        : `${'{"text":'.repeat(depth)}"x"${'}'.repeat(depth)}`,
    ),
  fc
    .integer({ min: 10_000, max: 100_000 })
    .map((count) => JSON.stringify({ tags: Array.from({ length: count }, (_, index) => `t${index}`) })),
  // An unknown key of a megabyte, and tens of thousands of unknown keys.
  fc
    .integer({ min: 1, max: 2 })
    .map((megabytes) => JSON.stringify({ ['k'.repeat(megabytes * 1_000_000)]: 1 })),
  fc
    .integer({ min: 10_000, max: 50_000 })
    .map((count) =>
      JSON.stringify(Object.fromEntries(Array.from({ length: count }, (_, index) => [`k${index}`, index]))),
    ),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'audio/wav',
  'application/octet-stream',
  '',
  'application/json\u00FF',
);

/** A POST target: speech for a ready, rejected, unknown or malformed voice, or the uploads route. */
const postPath = fc.oneof(
  realId().map((id) => `/voices/${id}/speech`),
  fc.constantFrom('/voices/vc_aaaaaaaaaaaaaaaaaaaaaaaaaa/speech', '/voices/..%2Fx/speech', '/uploads'),
);

describe('API fuzzing: request bodies', () => {
  it('refuses malformed bodies and wrong content types with a clean 4xx before any provider call', async () => {
    await fc.assert(
      fc.asyncProperty(postPath, malformedBody, contentType, async (path, body, type) => {
        const before = providerRequests();

        const answer = await callInProcess(path, { method: 'POST', headers: { 'Content-Type': type }, body });

        const refused = expectCleanAnswer(answer, 'POST');
        // Well-formed JSON can still be text a provider refuses to speak (Typecast: no letters or digits).
        if (refused && !refusedByProvider(answer)) expect(providerRequests()).toBe(before);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses huge and deeply nested bodies with a clean 4xx, quickly, before any provider call', async () => {
    await fc.assert(
      fc.asyncProperty(postPath, hugeBody, async (path, body) => {
        const before = providerRequests();

        const answer = await callInProcess(path, { method: 'POST', headers: JSON_HEADERS, body });

        expect(expectCleanAnswer(answer, 'POST')).toBe(true);
        expect(providerRequests()).toBe(before);
        // The answer is about the request, not an echo of it.
        expect(answer.text.length).toBeLessThan(10_000);
      }),
      {
        numRuns: 12,
        examples: [
          // Found by this property: the error listed every unknown key, echoing the body back (109 KB here).
          [
            '/uploads',
            JSON.stringify(
              Object.fromEntries(Array.from({ length: 10_000 }, (_, index) => [`k${index}`, 0])),
            ),
          ],
        ],
      },
    );
  });
});

/** Speech requests with odd Unicode in the text and odd values in every other field. */
const speechRequest = fc.record(
  {
    text: oddText(60),
    format: fc.constantFrom('wav', 'mp3', 'WAV', 'ogg', ''),
    language: fc.oneof(fc.constantFrom('en', 'eng', 'auto', 'EN', 'e\u0301n', ''), oddText(4)),
    speed: fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0.5, 1, 2)),
    sampleRate: fc.constantFrom(8_000, 16_000, 44_100, 0, -1, 8_000.5),
    delivery: fc.constantFrom('inline', 'url', 'INLINE', 'email'),
  },
  { requiredKeys: ['text'] },
);

/** Upload requests with odd Unicode in names and metadata, and odd sizes. */
const uploadRequest = fc.record(
  {
    fileName: fc.oneof(
      oddText(40),
      fc.constantFrom('..', '.', 'a/b.wav', 'a\\b.wav', ' ', 'x.wav', '%2e%2e'),
    ),
    provider: fc.constantFrom('smallest', 'typecast', 'Smallest', 'elevenlabs', ''),
    displayName: oddText(40),
    language: oddText(5),
    model: fc.oneof(fc.constantFrom('ssfm-v30', 'lightning-v3.1', 'lightning-v2'), oddText(10)),
    accent: oddText(20),
    description: oddText(60),
    tags: fc.oneof(oddText(40), fc.array(oddText(10), { maxLength: 5 })),
    sizeBytes: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, 1, 5_242_880, 26_214_401, 2 ** 53)),
    contentType: fc.oneof(fc.constantFrom('audio/wav', 'audio/mpeg', ''), oddText(20)),
  },
  { requiredKeys: ['fileName'] },
);

describe('API fuzzing: odd Unicode and odd values in JSON fields', () => {
  it('speaks odd text with a ready voice or refuses it cleanly; a refusal before the provider costs no call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<keyof typeof voices>('smallest', 'typecast', 'rejected'),
        speechRequest,
        async (voice, request) => {
          const before = providerRequests();

          const answer = await callInProcess(`/voices/${voices[voice]}/speech`, {
            method: 'POST',
            headers: JSON_HEADERS,
            body: JSON.stringify(request),
          });

          const refused = expectCleanAnswer(answer, 'POST');
          // Only the provider's own refusal (422 provider_rejected_input, 429) may follow a provider call.
          if (refused && !refusedByProvider(answer)) expect(providerRequests()).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('issues an upload URL for odd but valid names or refuses them cleanly, never calling a provider', async () => {
    await fc.assert(
      fc.asyncProperty(uploadRequest, async (request) => {
        const before = providerRequests();

        const answer = await callInProcess('/uploads', {
          method: 'POST',
          headers: JSON_HEADERS,
          body: JSON.stringify(request),
        });

        expectCleanAnswer(answer, 'POST');
        if (answer.status === 201) {
          const upload = JSON.parse(answer.text) as {
            url: string;
            key: string;
            headers: Record<string, string>;
          };
          expect(upload.key.startsWith('incoming/')).toBe(true);
          expect(upload.key.slice('incoming/'.length).split('/')).toHaveLength(2);
          // The headers the caller must send are valid HTTP header values.
          expect(() => new Headers(upload.headers)).not.toThrow();
        }
        expect(providerRequests()).toBe(before);
      }),
      {
        numRuns: 150,
        examples: [
          // Found by this property: a lone surrogate (valid JSON) made presigning or percent-encoding throw: 500.
          [{ fileName: '\ud800' }],
          [{ fileName: 'x.wav', description: '\ud800' }],
          [{ fileName: 'x.wav', tags: ['ok', '\udfff'] }],
          // …and a Content-Type the caller could never send came back as a header to send.
          [{ fileName: 'x.wav', contentType: 'audio/wav\r\nx-injected: 1' }],
        ],
      },
    );
  });
});
