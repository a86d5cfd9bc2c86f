import { request as httpRequest, METHODS } from 'node:http';
import fc from 'fast-check';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api/app';
import { type ApiHandler, type LocalApiGateway, startLocalApiGateway } from '../../local/api-gateway';
import type { SimulatorRouteOrOther } from '../../simulators/faults';
import { startPipelineFixture } from '../support/pipeline-fixture';

/**
 * Property-based fuzzing of the HTTPS API with bad input on every route: malformed and huge bodies, wrong
 * content types, odd Unicode in text, ids, query strings and headers, and path tricks. Every answer is a
 * success or a clean 4xx in the documented error shape (never a 5xx, a hang or a leak of internals), and
 * a refused request never reaches a provider. A failing case prints its seed and shrunk counterexample.
 */

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let app: ReturnType<typeof createApiApp>;
let gateway: LocalApiGateway;
const voices = { smallest: '', typecast: '', rejected: '' };

beforeAll(async () => {
  fixture = await startPipelineFixture({ bucket: 'fuzz-api', table: 'fuzz-api-voices' });
  app = createApiApp(fixture.apiDependencies());
  gateway = await startLocalApiGateway({ port: 0, handler: handle(app) as unknown as ApiHandler });
  voices.smallest = await fixture.cloneVoice('incoming/smallest/Fuzz Alice.wav');
  voices.typecast = await fixture.cloneVoice('incoming/typecast/Fuzz Bob.wav');
  voices.rejected = await fixture.cloneVoice('incoming/smallest/noise.wav', new Uint8Array(1_000).fill(7));
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await fixture?.stop();
});

// Generous: a hang shows up as the test timeout or as seconds here; honest answers take milliseconds.
const ANSWER_TIME_LIMIT_MS = 10_000;
// Internals that must never reach a caller: stack frames, source files, class names of errors, paths.
const INTERNALS =
  /\n\s+at |\bat [\w$.<>]+ \(|\.[cm]?[jt]s:\d+|node_modules|\/work\/|file:\/\/|[A-Z][A-Za-z]*Error\b|ECONNREFUSED/;

/** Requests every provider simulator has received, whatever the route. */
function providerRequests(): number {
  const total = (counts: Record<SimulatorRouteOrOther, number>) =>
    Object.values(counts).reduce((sum, count) => sum + count, 0);
  return total(fixture.smallest.state.counts) + total(fixture.typecast.state.counts);
}

interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly ms: number;
}

async function callInProcess(path: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const response = await app.request(path, init);
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
    ms: performance.now() - started,
  };
}

/** Over HTTP with the path exactly as given (fetch would resolve `..` and re-encode before sending). */
function callRaw(method: string, path: string): Promise<Answer> {
  const started = performance.now();
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: url.hostname, port: url.port, method, path }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () =>
        resolve({
          status: incoming.statusCode ?? 0,
          contentType: incoming.headers['content-type'] ?? null,
          text: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }),
      );
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Whether the provider itself refused (after a call), as opposed to the API refusing before any call. */
function refusedByProvider(answer: Answer): boolean {
  return answer.text.includes('"code":"provider_');
}

/**
 * The answer is a success (2xx, or the speech route's 303 to stored audio) or a clean 4xx whose body is
 * exactly `{ error: { code, message, retryable } }` with nothing internal in it. Returns whether it was
 * refused.
 */
function expectCleanAnswer(answer: Answer, method = 'GET'): boolean {
  expect(answer.ms, 'answers in bounded time').toBeLessThan(ANSWER_TIME_LIMIT_MS);
  expect(answer.status, answer.text.slice(0, 300)).toBeGreaterThanOrEqual(200);
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  if (answer.status < 400) return false;
  // HEAD answers carry no body by definition.
  if (method === 'HEAD') return true;
  expect(answer.contentType).toMatch(/^application\/json/);
  const body = JSON.parse(answer.text) as { error: { code: unknown; message: unknown; retryable: unknown } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'retryable']);
  expect(body.error.code).toEqual(expect.stringMatching(/^[a-z][a-z_]*$/));
  expect(typeof body.error.retryable).toBe('boolean');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message).not.toMatch(INTERNALS);
  return true;
}

/** Characters that trip up text handling: lone surrogates, NUL, bidi overrides, zero-width, combining, emoji, non-NFC. */
const ODD_CHARACTERS = [
  '\uD800',
  '\uDFFF',
  '\uDBFF',
  '\u0000',
  '\u202E',
  '\u200F',
  '\u200B',
  '\u200D',
  '\uFEFF',
  'e\u0301',
  'A\u030A',
  '\u0301',
  '\u{1F600}',
  '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}',
  '\u{1F1FA}\u{1F1F8}',
  '\uFB03',
  '\u1E9B\u0323',
  '\u0130',
  '\u00DF',
  '\uFFFD',
  '\uFFFF',
  '\u{10FFFF}',
  '\u0085',
  '\u2028',
  '\n',
  '\t',
  '"',
  '\\',
  '/',
  '..',
  '%',
  '%00',
];
const oddCharacter = fc.oneof(
  fc.constantFrom(...ODD_CHARACTERS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
);
const oddText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: oddCharacter, minLength: 1, maxLength }),
    fc.tuple(fc.string({ unit: 'grapheme', maxLength }), oddCharacter).map(([text, odd]) => `${text}${odd}`),
  );

/** UTF-8 percent-encoding that survives lone surrogates (encodeURIComponent throws on them). */
function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const realId = () =>
  fc.constantFrom<keyof typeof voices>('smallest', 'typecast', 'rejected').map((name) => voices[name]);

/** Path segments where an id goes: traversal, encodings, near misses of real ids, odd Unicode, huge. */
const idSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '%2e%2e',
    '%2E%2E',
    '%252e%252e',
    '..%2F..%2Fetc%2Fpasswd',
    '%2F',
    '%252F',
    '%5C..%5C',
    '%00',
    '%',
    '%zz',
    '%E0%A4%A',
    '%ED%A0%80',
    '%C0%AE%C0%AE',
    'vc_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    'VC_AAAAAAAAAAAAAAAAAAAAAAAAAA',
    'vc_',
    '',
    '*',
    '$%7Bjndi:ldap%7D',
    '%3Cscript%3E',
  ),
  realId().map((id) => id.toUpperCase()),
  realId().map((id) => `${id}%00`),
  realId().map((id) => `${id}.`),
  realId().map((id) => `${id.slice(0, -1)}1`),
  realId().map((id) => `%${[...id].map((character) => character.charCodeAt(0).toString(16)).join('%')}`),
  oddText(20).map(percentEncode),
  fc.integer({ min: 1_000, max: 20_000 }).map((length) => 'a'.repeat(length)),
);

const route = fc.constantFrom('/voices', '/voices/{id}', '/voices/{id}/speech', '/uploads');
const method = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO');
const pathTrick = fc.constantFrom('', '/', '//', '/..', '/%2e%2e', '/.', '?', '#fragment', ';x=1', '/extra');

/** A path built from a route template with an odd id, a trick at the end, and sometimes a prefix trick. */
const trickyPath = fc
  .record({
    route,
    id: idSegment,
    trick: pathTrick,
    prefix: fc.constantFrom('', '', '/v1', '/.', '//', '/voices/..', '/%2e'),
  })
  .map(({ route: template, id, trick, prefix }) => `${prefix}${template.replace('{id}', id)}${trick}`);

/** Methods that answer without touching a provider whatever the path (a rejected DELETE may not either). */
describe('API fuzzing: paths and methods', () => {
  it('answers tricky paths and unknown methods on every route in-process with a success or a clean 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        trickyPath,
        method.filter((name) => name !== 'DELETE'),
        async (path, name) => {
          const before = providerRequests();

          const answer = await callInProcess(path, { method: name });

          const refused = expectCleanAnswer(answer, name);
          if (refused) expect(providerRequests()).toBe(before);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers the same over HTTP with the raw path, through the API Gateway adapter', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Node's server answers a request line over its 16 KiB header limit with a bare 431 first.
        trickyPath.filter((path) => path.length < 8_000),
        // Node's HTTP parser itself refuses methods it does not know, before any gateway code runs.
        method.filter((name) => name !== 'DELETE' && METHODS.includes(name)),
        async (path, name) => {
          const before = providerRequests();

          const answer = await callRaw(name, path.replaceAll('#', '%23'));

          const refused = expectCleanAnswer(answer, name);
          if (refused) expect(providerRequests()).toBe(before);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('deletes nothing and calls no provider for ids that are not voices', async () => {
    await fc.assert(
      fc.asyncProperty(idSegment, pathTrick, async (id, trick) => {
        // A percent-encoded real id is that id (RFC 3986): deleting it would be right, and not this test's point.
        fc.pre(!Object.values(voices).some((voice) => decoded(id).startsWith(voice)));
        const before = providerRequests();

        const answer = await callInProcess(`/voices/${id}${trick}`, { method: 'DELETE' });

        expect(expectCleanAnswer(answer, 'DELETE')).toBe(true);
        expect(providerRequests()).toBe(before);
      }),
      { numRuns: 60 },
    );
  });
});

/** Query strings for GET /voices: odd values for every parameter, unknown and repeated ones, bad encodings. */
const queryValue = fc.oneof(
  fc.constantFrom(
    '0',
    '-1',
    '1e3',
    '1.5',
    '100',
    '101',
    'NaN',
    'Infinity',
    '0x10',
    ' 5',
    '',
    '%',
    '%zz',
    '%ED%A0%80',
  ),
  fc.constantFrom('ready', 'READY', 'deleted', 'smallest', 'typecast', 'elevenlabs', 'null', '[]'),
  fc.base64String({ maxLength: 60 }).map((text) => text.replaceAll('+', '-').replaceAll('/', '_')),
  oddText(30).map(percentEncode),
  fc.integer({ min: 2_000, max: 200_000 }).map((length) => 'c'.repeat(length)),
);
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('limit', 'status', 'provider', 'cursor'),
        oddText(10).map(percentEncode),
        fc.constantFrom('__proto__', 'constructor', 'limit[]', 'toString'),
      ),
      queryValue,
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join('&'));

describe('API fuzzing: query strings', () => {
  it('answers any query string on GET /voices with a page or a clean 400, and never calls a provider', async () => {
    await fc.assert(
      fc.asyncProperty(queryString, async (query) => {
        const before = providerRequests();

        const answer = await callInProcess(`/voices?${query}`);

        expectCleanAnswer(answer);
        if (answer.status === 200) {
          const page = JSON.parse(answer.text) as { items: unknown[]; nextCursor: unknown };
          expect(Array.isArray(page.items)).toBe(true);
        }
        expect(providerRequests()).toBe(before);
      }),
      { numRuns: 100 },
    );
  });
});

const JSON_HEADERS = { 'Content-Type': 'application/json' };

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

/** Header values as they arrive on the wire: bytes 0x20–0xFF (UTF-8 text read as Latin-1), or a long run. */
const headerValue = fc.oneof(
  oddText(30).map((text) =>
    Buffer.from(text, 'utf8')
      .toString('latin1')
      .replace(/[\p{Cc}]/gu, ' '),
  ),
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((code) => code !== 0x7f)
      .map((code) => String.fromCharCode(code)),
    maxLength: 40,
  }),
  fc.integer({ min: 1_000, max: 16_000 }).map((length) => 'h'.repeat(length)),
);
const headerName = fc.constantFrom(
  'content-type',
  'accept',
  'accept-language',
  'authorization',
  'x-forwarded-for',
  'x-amz-meta-display-name',
  'x-api-key',
  'cookie',
  'if-none-match',
  'x-fuzz',
);

describe('API fuzzing: headers', () => {
  it('answers valid requests that carry odd header values with a success or a clean 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('list', 'get', 'speech', 'upload'),
        fc.array(fc.tuple(headerName, headerValue), { minLength: 1, maxLength: 4 }),
        async (target, headers) => {
          const init: RequestInit = { headers: Object.fromEntries(headers) };
          let path = '/voices';
          if (target === 'get') path = `/voices/${voices.smallest}`;
          if (target === 'speech') {
            path = `/voices/${voices.typecast}/speech`;
            Object.assign(init, { method: 'POST', body: JSON.stringify({ text: 'Header fuzz.' }) });
          }
          if (target === 'upload') {
            path = '/uploads';
            Object.assign(init, { method: 'POST', body: JSON.stringify({ fileName: 'header fuzz.wav' }) });
          }

          const answer = await callInProcess(path, init);

          expectCleanAnswer(answer, String(init.method ?? 'GET'));
        },
      ),
      { numRuns: 40 },
    );
  });
});
