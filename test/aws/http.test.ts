import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type AwsSettings,
  awsSettingsFromEnvironment,
  serviceEndpoint,
} from '../../functions/shared/aws/config';
import {
  AwsNetworkError,
  AwsServiceError,
  isAwsError,
  jsonErrorDetails,
  xmlErrorDetails,
} from '../../functions/shared/aws/errors';
import { awsRequest } from '../../functions/shared/aws/http';
import { ConfigurationError } from '../../functions/shared/errors';
import {
  type SignatureCheckingServer,
  startSignatureCheckingServer,
  useSignatureCheckingServer,
} from '../support/signature-checking-server';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/key+1', sessionToken: 'token+/=' };
let server: SignatureCheckingServer;
let settings: AwsSettings;

useSignatureCheckingServer({ credentials, region: 'eu-central-1' }, (started, startedSettings) => {
  server = started;
  settings = startedSettings;
});

beforeEach(() => {
  server.requests.length = 0;
  server.answer(() => ({ body: {} }));
});

function post(body = '{"Key":"value"}', extra: { signal?: AbortSignal; timeoutMs?: number } = {}) {
  return awsRequest(settings, 'testservice', {
    method: 'POST',
    url: `${server.endpoint}/`,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'Test_2024.Operation' },
    body,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('Function: awsRequest', () => {
  it('signs the request so that the AWS SDK signer computes the same signature', async () => {
    const response = await post('{"Name":"ünïcödé ✓"}');

    expect(response.status).toBe(200);
    const [request] = server.requests;
    expect(request?.signatureProblem).toBeUndefined();
    expect(request?.service).toBe('testservice');
    expect(request?.region).toBe('eu-central-1');
    expect(request?.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(request?.signedHeaders).toEqual(['host', 'x-amz-date', 'x-amz-security-token', 'x-amz-target']);
    expect(request?.json).toEqual({ Name: 'ünïcödé ✓' });
  });

  it('is checked by a server that does notice a wrong signature', async () => {
    const wrongSecret = { ...settings, credentials: { ...credentials, secretAccessKey: 'another' } };

    const error = await failure(
      awsRequest(wrongSecret, 'testservice', { method: 'POST', url: `${server.endpoint}/`, body: '{}' }),
    );

    expect(error).toMatchObject({ name: 'InvalidSignatureException', statusCode: 403 });
    expect(server.requests[0]?.signatureProblem).toBe('signature does not match');
  });

  it('signs query strings and byte bodies', async () => {
    await awsRequest(settings, 'testservice', {
      method: 'PUT',
      url: `${server.endpoint}/some/path?b=2&a=1&list=x%20y`,
      body: new TextEncoder().encode('bytes'),
    });

    expect(server.requests[0]?.signatureProblem).toBeUndefined();
    expect(server.requests[0]?.body).toBe('bytes');
  });

  it('sends no security token header when the credentials have none', async () => {
    const { sessionToken: _, ...longTerm } = credentials;
    const plain = await startSignatureCheckingServer({ credentials: longTerm });
    try {
      await awsRequest({ ...settings, endpoint: plain.endpoint, credentials: longTerm }, 'testservice', {
        method: 'POST',
        url: `${plain.endpoint}/`,
        body: '{}',
      });
      expect(plain.requests[0]?.signatureProblem).toBeUndefined();
      expect(plain.requests[0]?.headers['x-amz-security-token']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it('maps a JSON error to AwsServiceError named by the code without its namespace', async () => {
    server.answer(() => ({
      status: 400,
      body: { __type: 'com.amazonaws.test#ValidationException', message: 'Key is wrong' },
    }));

    const error = await failure(post());

    expect(error).toBeInstanceOf(AwsServiceError);
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Key is wrong',
      statusCode: 400,
      requestId: 'request-1',
      retryable: false,
      service: 'testservice',
    });
    expect(isAwsError(error, 'ValidationException')).toBe(true);
    expect(isAwsError(error, 'ResourceNotFoundException')).toBe(false);
  });

  it('does not retry a 400 that is not throttling', async () => {
    server.answer(() => ({ status: 400, body: { __type: 'ValidationException', message: 'no' } }));

    await failure(post());

    expect(server.requests).toHaveLength(1);
  });

  it('retries a 500, signing each attempt afresh, and returns the answer that follows', async () => {
    server.answer((_, index) =>
      index === 0
        ? { status: 500, body: { __type: 'InternalServerError', message: 'oops' } }
        : { body: { ok: 1 } },
    );

    const response = await post();

    expect(await response.json()).toEqual({ ok: 1 });
    expect(server.requests).toHaveLength(2);
    expect(server.requests.every((request) => request.signatureProblem === undefined)).toBe(true);
  });

  it.each([
    ['ThrottlingException', 400],
    ['ProvisionedThroughputExceededException', 400],
    ['RequestLimitExceeded', 400],
    ['TooManyRequestsException', 400],
    ['SlowDown', 503],
    ['Anything', 429],
    ['Anything', 502],
  ])('retries %s (%i)', async (code, status) => {
    server.answer((_, index) => (index < 2 ? { status, body: { __type: code } } : { body: {} }));

    const response = await post();

    expect(response.status).toBe(200);
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after 3 attempts and throws the last error, marked retryable', async () => {
    server.answer(() => ({ status: 400, body: { __type: 'ThrottlingException', message: 'slow down' } }));

    const error = await failure(post());

    expect(server.requests).toHaveLength(3);
    expect(error).toMatchObject({ name: 'ThrottlingException', retryable: true, requestId: 'request-3' });
  });

  it('names an error without a code after its status, even when the body is not JSON', async () => {
    server.answer(() => ({
      status: 404,
      body: '<html>not here</html>',
      headers: { 'content-type': 'text/html' },
    }));

    const error = await failure(post());

    expect(error).toMatchObject({ name: 'NotFound', statusCode: 404, retryable: false });
  });

  it('does not send a request when the signal is already aborted', async () => {
    const error = await failure(post(undefined, { signal: AbortSignal.abort() }));

    expect((error as Error).name).toBe('AbortError');
    expect(server.requests).toHaveLength(0);
  });

  it('stops at an abort during a slow answer and does not retry', async () => {
    const controller = new AbortController();
    server.answer(() => {
      setTimeout(() => controller.abort(), 50);
      return { delayMs: 2_000, body: {} };
    });

    const error = await failure(post(undefined, { signal: controller.signal }));

    expect((error as Error).name).toBe('AbortError');
    expect(server.requests).toHaveLength(1);
  });

  it('stops at an abort during the backoff', async () => {
    const controller = new AbortController();
    server.answer(() => {
      // The answer arrives well before this abort, which then falls into the ~5 s backoff.
      setTimeout(() => controller.abort(), 100);
      return { status: 503, body: {} };
    });
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const slowRetries = { ...settings, retry: { baseDelayMs: 5_000, maxDelayMs: 5_000 } };
    const started = Date.now();

    try {
      const error = await failure(
        awsRequest(slowRetries, 'testservice', {
          method: 'POST',
          url: `${server.endpoint}/`,
          body: '{}',
          signal: controller.signal,
        }),
      );

      expect((error as Error).name).toBe('AbortError');
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(server.requests).toHaveLength(1);
    } finally {
      random.mockRestore();
    }
  });

  it('abandons an attempt after timeoutMs and retries it', async () => {
    server.answer((_, index) =>
      index === 0 ? { delayMs: 5_000, body: { late: true } } : { body: { late: false } },
    );

    const response = await post(undefined, { timeoutMs: 400 });

    expect(await response.json()).toEqual({ late: false });
    expect(server.requests).toHaveLength(2);
  });

  it('throws AwsNetworkError after 3 failed connections', async () => {
    const closed = await startSignatureCheckingServer({ credentials });
    await closed.close();

    const error = await failure(
      awsRequest({ ...settings, endpoint: closed.endpoint }, 'testservice', {
        method: 'POST',
        url: `${closed.endpoint}/`,
        body: '{}',
      }),
    );

    expect(error).toBeInstanceOf(AwsNetworkError);
    expect(error).toMatchObject({ retryable: true, service: 'testservice' });
    expect((error as Error).cause).toBeDefined();
  });

  it('sends a stream body once, without retries', async () => {
    server.answer(() => ({ status: 500, body: {} }));
    const stream = new Blob(['streamed']).stream();

    const error = await failure(
      awsRequest(settings, 'testservice', {
        method: 'PUT',
        url: `${server.endpoint}/object`,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        body: stream,
      }),
    );

    expect(error).toMatchObject({ statusCode: 500 });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.body).toBe('streamed');
    expect(server.requests[0]?.signatureProblem).toBeUndefined();
  });

  it('returns statuses the caller accepts instead of throwing', async () => {
    server.answer(() => ({ status: 304 }));

    const response = await awsRequest(settings, 'testservice', {
      method: 'GET',
      url: `${server.endpoint}/object`,
      acceptStatus: (status) => status === 304 || (status >= 200 && status < 300),
    });

    expect(response.status).toBe(304);
  });

  it('refuses to send without credentials', async () => {
    const error = await failure(
      awsRequest({ region: 'eu-central-1' }, 'testservice', { method: 'GET', url: server.endpoint }),
    );

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(server.requests).toHaveLength(0);
  });

  it('waits a random time below the capped exponential bound between attempts', async () => {
    server.answer(() => ({ status: 500, body: {} }));
    const timed = { ...settings, retry: { baseDelayMs: 100, maxDelayMs: 150 } };
    const started = Date.now();

    await failure(
      awsRequest(timed, 'testservice', { method: 'POST', url: `${server.endpoint}/`, body: '{}' }),
    );

    // Backoffs are at most 100 ms and then min(150, 200) ms: under 250 ms in all, plus the requests.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(3);
  });
});

describe('Function: jsonErrorDetails', () => {
  it('reads the code from __type, then code, then the x-amzn-errortype header', () => {
    const headers = new Headers({
      'x-amzn-errortype': 'HeaderCode:http://internal.amazon.com/',
      'x-amzn-requestid': 'r',
    });
    expect(jsonErrorDetails('{"__type":"ns.v1#BodyCode","Message":"M"}', headers)).toEqual({
      code: 'BodyCode',
      message: 'M',
      requestId: 'r',
    });
    expect(jsonErrorDetails('{"code":"Plain"}', headers).code).toBe('Plain');
    expect(jsonErrorDetails('', headers).code).toBe('HeaderCode');
    expect(jsonErrorDetails('not json', new Headers()).code).toBeUndefined();
  });
});

describe('Function: xmlErrorDetails', () => {
  it('reads Code, Message and RequestId from an S3 error document', () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The key &amp; more</Message><RequestId>R1</RequestId></Error>';
    expect(xmlErrorDetails(body, new Headers())).toEqual({
      code: 'NoSuchKey',
      message: 'The key & more',
      requestId: 'R1',
    });
    expect(xmlErrorDetails('', new Headers({ 'x-amz-request-id': 'R2' }))).toEqual({
      code: undefined,
      message: undefined,
      requestId: 'R2',
    });
  });
});

describe('Function: awsSettingsFromEnvironment', () => {
  it('reads the region and the Lambda credentials', () => {
    expect(
      awsSettingsFromEnvironment({
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'A',
        AWS_SECRET_ACCESS_KEY: 'S',
        AWS_SESSION_TOKEN: 'T',
      }),
    ).toEqual({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' },
    });
  });

  it('falls back to AWS_DEFAULT_REGION and leaves out an absent session token', () => {
    expect(
      awsSettingsFromEnvironment(
        { AWS_DEFAULT_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' },
        { endpoint: 'http://127.0.0.1:8000/' },
      ),
    ).toEqual({
      region: 'us-west-2',
      endpoint: 'http://127.0.0.1:8000',
      credentials: { accessKeyId: 'A', secretAccessKey: 'S' },
    });
  });

  it('throws naming every missing variable', () => {
    expect(() => awsSettingsFromEnvironment({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: ' ' })).toThrow(
      'AWS settings are incomplete: AWS_REGION (or AWS_DEFAULT_REGION) is required; AWS_SECRET_ACCESS_KEY is required.',
    );
  });
});

describe('Function: serviceEndpoint', () => {
  it('builds the regional endpoint unless the settings name one', () => {
    expect(serviceEndpoint({ region: 'eu-central-1' }, 'sqs')).toBe('https://sqs.eu-central-1.amazonaws.com');
    expect(serviceEndpoint({ region: 'cn-north-1' }, 'dynamodb')).toBe(
      'https://dynamodb.cn-north-1.amazonaws.com.cn',
    );
    expect(serviceEndpoint({ region: 'eu-central-1', endpoint: 'http://localhost:4566/' }, 'sqs')).toBe(
      'http://localhost:4566',
    );
  });
});
