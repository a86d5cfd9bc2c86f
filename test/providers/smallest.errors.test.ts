import { describe, expect, it } from 'vitest';
import { mapSmallestError } from '../../functions/shared/providers/smallest/errors';
import {
  smallestCloneListSchema,
  smallestCloneResponseSchema,
} from '../../functions/shared/providers/smallest/wire';
import { itMapsRecordedErrors, type RecordedError } from './recorded-errors';

/** Bodies as Smallest sends them (guide, OpenAPI examples; docs/providers.md), with what each must become. */
const RECORDED: readonly RecordedError[] = [
  {
    name: '400 with a message that ends in a period (quoted without doubling it)',
    status: 400,
    body: '{"error":"The sample rate is not supported."}',
    expected: { kind: 'invalid_request', retryable: false },
    message: /supported\.$/,
  },
  {
    name: '400 No file provided',
    status: 400,
    body: '{"error":"No file provided"}',
    expected: { kind: 'invalid_request', retryable: false },
    message: /No file provided/,
  },
  {
    name: '400 clone limit exceeded',
    status: 400,
    body: '{"error":"clone limit exceeded, consider upgrading"}',
    expected: { kind: 'quota_exceeded', retryable: false },
    message: /delete clones you no longer need, or upgrade/,
  },
  {
    name: '400 invalid language',
    status: 400,
    body: '{"error":"Invalid language. Supported: en, hi, es"}',
    expected: { kind: 'invalid_request', retryable: false },
    message: /Invalid language\. Supported: en, hi, es/,
  },
  {
    name: '400 lightning-v2 deprecated',
    status: 400,
    body: '{"error":"Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1"}',
    expected: { kind: 'invalid_request', retryable: false },
    message: /lightning-v2 is deprecated/,
  },
  {
    name: '400 zod issues from speech',
    status: 400,
    operation: 'speech',
    body: '{"error":[{"code":"too_small","minimum":1,"type":"string","inclusive":true,"exact":false,"message":"String must contain at least 1 character(s)","path":["text"]}]}',
    expected: { kind: 'invalid_request' },
    message: /text: String must contain at least 1 character/,
  },
  {
    name: '400 Invalid Voice ID',
    status: 400,
    operation: 'speech',
    body: '{"error":[{"code":"custom","message":"Invalid Voice ID","path":["voice_id"]}]}',
    expected: { kind: 'not_found', retryable: false },
  },
  {
    name: '400 error and message',
    status: 400,
    operation: 'speech',
    body: '{"error":"InvalidRequest","message":"The \'text\' field is required."}',
    expected: { kind: 'invalid_request' },
    message: /InvalidRequest; The 'text' field is required\./,
  },
  {
    name: '401 unauthorized',
    status: 401,
    body: '{"error":"Unauthorized","message":"Bearer token is missing or invalid."}',
    expected: { kind: 'auth', retryable: false },
  },
  {
    name: '401 without a body',
    status: 401,
    body: '',
    expected: { kind: 'auth', retryable: false, responseBody: undefined },
  },
  {
    name: '500 voice_clone_timeout',
    status: 500,
    operation: 'clone',
    body: '{"error":"Preprocessing or sample generation exceeded the timeout","error_code":"voice_clone_timeout"}',
    expected: {
      kind: 'unavailable',
      retryable: true,
      providerCode: 'voice_clone_timeout',
      outcomeUnknown: true,
    },
  },
  {
    name: '500 voice_clone_error',
    status: 500,
    operation: 'clone',
    body: '{"error":"Model returned an error while processing the sample","error_code":"voice_clone_error"}',
    expected: {
      kind: 'bad_sample',
      retryable: false,
      providerCode: 'voice_clone_error',
      outcomeUnknown: false,
    },
    message: /try a cleaner sample/,
  },
  {
    name: '410 MODEL_DEPRECATED',
    status: 410,
    body: '{"status":"error","error_code":"MODEL_DEPRECATED","message":"lightning-large has been retired"}',
    expected: { kind: 'gone', providerCode: 'MODEL_DEPRECATED', retryable: false },
    message: /lightning-large has been retired/,
  },
  {
    name: '429 with Retry-After',
    status: 429,
    body: '',
    headers: { 'retry-after': '2' },
    expected: { kind: 'rate_limited', retryable: true },
  },
  {
    name: '502 HTML from a proxy',
    status: 502,
    body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
    expected: {
      kind: 'unavailable',
      retryable: true,
      responseBody: '<html><body><h1>502 Bad Gateway</h1></body></html>',
    },
  },
  {
    name: '500 generic',
    status: 500,
    body: '{"error":"InternalServerError","message":"An unexpected error occurred."}',
    expected: { kind: 'unavailable', retryable: true, providerCode: undefined },
  },
  {
    name: '404 unknown route',
    status: 404,
    body: 'Cannot POST /waves/v1/tts',
    expected: { kind: 'not_found' },
  },
];

describe('Function: mapSmallestError', () => {
  itMapsRecordedErrors('smallest', mapSmallestError, RECORDED);
});

describe('Smallest wire schemas', () => {
  const data = {
    voiceId: 'voice_dLP5T67Qw7',
    displayName: 'my-custom-voice',
    status: 'completed',
    language: 'en',
    audioFileNames: ['sample.wav'],
    createdAt: '2026-04-20T09:42:17.103Z',
    organizationId: '69561896a37fd214b9a8d33c',
    samples: [{ text: 'Hello!', audioUrl: 'https://example.invalid/sample.wav' }],
  };

  it('accepts the clone answer with the model as a document (guide example)', () => {
    const parsed = smallestCloneResponseSchema.parse({
      message: 'Voice clone created successfully',
      data: { ...data, model: { _id: 'abc', modelName: 'lightning-v3.1' } },
    });

    expect(parsed.data.model).toEqual({ _id: 'abc', modelName: 'lightning-v3.1' });
  });

  it('accepts the clone answer with the model as a plain string (OpenAPI)', () => {
    expect(smallestCloneResponseSchema.parse({ data: { ...data, model: 'lightning-v3.1' } }).data.model).toBe(
      'lightning-v3.1',
    );
  });

  it('keeps fields it does not know and tolerates nulls', () => {
    const parsed = smallestCloneResponseSchema.parse({
      data: { ...data, model: null, samples: null, extra: 1 },
    });

    expect(parsed.data).toMatchObject({ extra: 1, samples: null });
  });

  it('reads the clone list with tags and compatible models', () => {
    const parsed = smallestCloneListSchema.parse({
      data: [
        {
          _id: '1',
          voiceId: 'voice_abc',
          displayName: 'my-voice',
          tags: ['english', 'vc_x'],
          modelIds: ['lightning-v3.1'],
          cloningType: 'instant',
          createdAt: '2026-04-20T09:42:17.103Z',
        },
      ],
    });

    expect(parsed.data[0]?.tags).toEqual(['english', 'vc_x']);
  });
});
