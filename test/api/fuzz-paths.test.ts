import { METHODS } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decoded, expectCleanAnswer, oddText, percentEncode, useFuzzedApi } from './fuzz-support';

// API fuzzing of paths, methods and query strings (what the fuzz tests check: fuzz-support.ts).
const { voices, providerRequests, callInProcess, callRaw, realId } = useFuzzedApi();

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
