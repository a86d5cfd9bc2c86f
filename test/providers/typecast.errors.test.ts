import { describe, expect, it } from 'vitest';
import { mapTypecastError } from '../../functions/shared/providers/typecast/errors';
import {
  typecastSpeechRequestSchema,
  typecastVoiceListSchema,
} from '../../functions/shared/providers/typecast/wire';
import { itMapsRecordedErrors, type RecordedError } from './recorded-errors';

/** Bodies as Typecast sends them (OpenAPI examples, SDK fixtures; docs/providers.md), with what each must become. */
const RECORDED: readonly RecordedError[] = [
  {
    name: '400 file too large',
    status: 400,
    body: '{"detail":"File size exceeds maximum limit"}',
    expected: { kind: 'bad_sample', retryable: false },
    message: /larger than Typecast accepts \(25 MB\)/,
  },
  {
    name: '400 too short',
    status: 400,
    body: '{"detail":"Audio duration is below minimum"}',
    expected: { kind: 'bad_sample', retryable: false },
    message: /at least 5 s/,
  },
  {
    name: '400 too long',
    status: 400,
    body: '{"detail":"Audio duration exceeds maximum"}',
    expected: { kind: 'bad_sample', retryable: false },
    message: /at most 150 s/,
  },
  {
    name: '400 unreadable',
    status: 400,
    body: '{"detail":"Failed to read audio metadata"}',
    expected: { kind: 'bad_sample', retryable: false },
    message: /could not read the sample/,
  },
  {
    name: '400 error_code with message (SDK fixture shape)',
    status: 400,
    body: '{"error_code":"CLONING_FILE_TOO_LARGE","message":"File size exceeds maximum limit"}',
    expected: { kind: 'bad_sample', providerCode: 'CLONING_FILE_TOO_LARGE' },
  },
  {
    name: '400 TEXT_NOT_SYNTHESIZABLE',
    status: 400,
    operation: 'speech',
    body: '{"error_code":"TEXT_NOT_SYNTHESIZABLE","message":"The text contains nothing that can be spoken."}',
    expected: { kind: 'invalid_request', retryable: false, providerCode: 'TEXT_NOT_SYNTHESIZABLE' },
    message: /nothing that can be spoken/,
  },
  {
    name: '401 invalid key',
    status: 401,
    body: '{"detail":"Invalid API key"}',
    expected: { kind: 'auth', retryable: false },
    message: /Invalid API key/,
  },
  {
    name: '402 out of credits',
    status: 402,
    operation: 'speech',
    body: '{"detail":"Insufficient credits"}',
    expected: { kind: 'quota_exceeded', retryable: false },
    message: /out of credits/,
  },
  {
    name: '403 cloning not on the plan',
    status: 403,
    body: '{"detail":"Voice cloning is not available on your plan"}',
    expected: { kind: 'forbidden', retryable: false },
    message: /not available on your plan.*upgrade, or delete an unused voice/,
  },
  {
    name: '403 no free custom_voice_slot',
    status: 403,
    body: '{"detail":"No free custom_voice_slot"}',
    expected: { kind: 'quota_exceeded', retryable: false },
    message: /custom voice slot is in use/,
  },
  {
    name: '404 unknown voice',
    status: 404,
    operation: 'speech',
    body: '{"detail":"Voice not found"}',
    expected: { kind: 'not_found', retryable: false },
  },
  {
    name: '422 string detail',
    status: 422,
    body: '{"detail":"Invalid request format"}',
    expected: { kind: 'invalid_request', retryable: false },
    message: /Invalid request format/,
  },
  {
    name: '422 FastAPI issue list',
    status: 422,
    body: '{"detail":[{"type":"string_too_long","loc":["body","name"],"msg":"String should have at most 30 characters","input":"x","ctx":{"max_length":30}},{"type":"missing","loc":["body","file"],"msg":"Field required"}]}',
    expected: { kind: 'invalid_request', retryable: false },
    message: /name: String should have at most 30 characters; file: Field required/,
  },
  {
    name: '429 too many requests',
    status: 429,
    body: '{"detail":"Too many requests"}',
    expected: { kind: 'rate_limited', retryable: true },
  },
  {
    name: '500 empty body',
    status: 500,
    body: '',
    expected: { kind: 'unavailable', retryable: true, outcomeUnknown: true },
  },
  {
    name: '503 HTML',
    status: 503,
    body: '<html>Service Unavailable</html>',
    expected: { kind: 'unavailable', responseBody: '<html>Service Unavailable</html>' },
  },
];

describe('Function: mapTypecastError', () => {
  itMapsRecordedErrors('typecast', mapTypecastError, RECORDED);

  it('reads message before error before detail', () => {
    const error = mapTypecastError({
      status: 400,
      headers: new Headers(),
      body: new TextEncoder().encode('{"message":"first","error":"second","detail":"third"}'),
      operation: 'speech',
    });

    expect(error.message).toContain('first');
    expect(error.message).not.toContain('second');
  });
});

describe('Typecast wire schemas', () => {
  it('reads /v2/voices as a plain array (SDK types)', () => {
    const parsed = typecastVoiceListSchema.parse([
      {
        voice_id: 'uc_1',
        voice_name: 'Alice',
        models: [{ version: 'ssfm-v30', emotions: ['normal'] }],
        gender: null,
      },
    ]);

    expect(Array.isArray(parsed)).toBe(true);
  });

  it('reads /v2/voices as a page with a cursor (SDK mock fixture)', () => {
    const parsed = typecastVoiceListSchema.parse({
      voices: [{ voice_id: 'tc_mock_001', voice_name: 'Mock Voice 1', model: 'ssfm-v30' }],
      next_cursor: null,
    });

    expect(Array.isArray(parsed) ? parsed : parsed.voices).toHaveLength(1);
  });

  it('requires emotion_type in a v30 prompt and accepts the v21 preset prompt', () => {
    const base = { voice_id: 'uc_1', text: 'Hi' };

    expect(
      typecastSpeechRequestSchema.safeParse({
        ...base,
        model: 'ssfm-v30',
        prompt: { emotion_preset: 'normal' },
      }).success,
    ).toBe(false);
    expect(
      typecastSpeechRequestSchema.safeParse({
        ...base,
        model: 'ssfm-v30',
        prompt: { emotion_type: 'preset', emotion_preset: 'normal', emotion_intensity: 1 },
      }).success,
    ).toBe(true);
    expect(
      typecastSpeechRequestSchema.safeParse({
        ...base,
        model: 'ssfm-v21',
        prompt: { emotion_preset: 'normal', emotion_intensity: 1 },
      }).success,
    ).toBe(true);
  });

  it('refuses volume together with target_lufs', () => {
    const result = typecastSpeechRequestSchema.safeParse({
      voice_id: 'uc_1',
      text: 'Hi',
      model: 'ssfm-v30',
      output: { volume: 100, target_lufs: -14 },
    });

    expect(result.success).toBe(false);
  });
});
