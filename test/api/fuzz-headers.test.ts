import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expectCleanAnswer, oddText, useFuzzedApi } from './fuzz-support';

// API fuzzing of header values.
const { voices, callInProcess } = useFuzzedApi();

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
