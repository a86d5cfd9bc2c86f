import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, expect } from 'vitest';
import { createApiApp } from '../../functions/api/app';
import { type ApiHandler, type LocalApiGateway, startLocalApiGateway } from '../../local/api-gateway';
import type { SimulatorRouteOrOther } from '../../simulators/faults';
import { collectAfterResponse } from '../support/after-response';
import { startPipelineFixture } from '../support/pipeline-fixture';

/**
 * Property-based fuzzing of the HTTPS API with bad input on every route: malformed and huge bodies, wrong
 * content types, odd Unicode in text, ids, query strings and headers, and path tricks. Every answer is a
 * success or a clean 4xx in the documented error shape (never a 5xx, a hang or a leak of internals), and
 * a refused request never reaches a provider. A failing case prints its seed and shrunk counterexample.
 *
 * What the fuzz tests share: the API over real servers and simulators, the ways to call it, what a clean
 * answer is, and odd text.
 */

/**
 * Starts the pipeline fixture, the API app and the local API gateway around the calling test file, with
 * three voices (Smallest, Typecast, rejected), and returns the ways to call them.
 */
export function useFuzzedApi() {
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

  /** Requests every provider simulator has received, whatever the route. */
  function providerRequests(): number {
    const total = (counts: Record<SimulatorRouteOrOther, number>) =>
      Object.values(counts).reduce((sum, count) => sum + count, 0);
    return total(fixture.smallest.state.counts) + total(fixture.typecast.state.counts);
  }

  /**
   * Through the app itself. The work a route leaves for after its answer (speech's usage record) is
   * awaited before returning, as the Lambda adapter does, so none of it meets the servers' shutdown.
   */
  async function callInProcess(path: string, init: RequestInit = {}): Promise<Answer> {
    const started = performance.now();
    const after = collectAfterResponse();
    const response = await app.request(path, init, undefined, after.executionContext);
    const text = await response.text();
    const ms = performance.now() - started;
    await after.settled();
    return { status: response.status, contentType: response.headers.get('content-type'), text, ms };
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

  const realId = () =>
    fc.constantFrom<keyof typeof voices>('smallest', 'typecast', 'rejected').map((name) => voices[name]);

  return { voices, providerRequests, callInProcess, callRaw, realId };
}

// Generous: a hang shows up as the test timeout or as seconds here; honest answers take milliseconds.
const ANSWER_TIME_LIMIT_MS = 10_000;
// Internals that must never reach a caller: stack frames, source files, class names of errors, paths.
const INTERNALS =
  /\n\s+at |\bat [\w$.<>]+ \(|\.[cm]?[jt]s:\d+|node_modules|\/work\/|file:\/\/|[A-Z][A-Za-z]*Error\b|ECONNREFUSED/;

export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly ms: number;
}

/** Whether the provider itself refused (after a call), as opposed to the API refusing before any call. */
export function refusedByProvider(answer: Answer): boolean {
  return answer.text.includes('"code":"provider_');
}

/**
 * The answer is a success (2xx, or the speech route's 303 to stored audio) or a clean 4xx whose body is
 * exactly `{ error: { code, message, retryable } }` with nothing internal in it. Returns whether it was
 * refused.
 */
export function expectCleanAnswer(answer: Answer, method = 'GET'): boolean {
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
export const oddCharacter = fc.oneof(
  fc.constantFrom(...ODD_CHARACTERS),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
);
export const oddText = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: oddCharacter, minLength: 1, maxLength }),
    fc.tuple(fc.string({ unit: 'grapheme', maxLength }), oddCharacter).map(([text, odd]) => `${text}${odd}`),
  );

/** UTF-8 percent-encoding that survives lone surrogates (encodeURIComponent throws on them). */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

export function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' };
