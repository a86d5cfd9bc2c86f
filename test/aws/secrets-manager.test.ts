import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsSettings } from '../../functions/shared/aws/config';
import { isAwsError } from '../../functions/shared/aws/errors';
import { getSecretString } from '../../functions/shared/aws/secrets-manager';
import {
  type SignatureCheckingServer,
  useSignatureCheckingServer,
} from '../support/signature-checking-server';

const credentials = {
  accessKeyId: 'AKIDSECRETS',
  secretAccessKey: 'secrets-secret',
  sessionToken: 'session',
};
const SECRET_ID = 'voicedrop/provider-keys';
let server: SignatureCheckingServer;
let settings: AwsSettings;

/** Answers GetSecretValue the way Secrets Manager does, for one known secret. */
function secretsManager(secrets: Record<string, { SecretString?: string; SecretBinary?: string }>) {
  server.answer((request) => {
    const input = request.json as { SecretId?: string };
    const secret = input.SecretId === undefined ? undefined : secrets[input.SecretId];
    if (!secret) {
      return {
        status: 400,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: {
          __type: 'ResourceNotFoundException',
          Message: "Secrets Manager can't find the specified secret.",
        },
      };
    }
    return {
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: {
        ARN: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${input.SecretId}-AbCdEf`,
        Name: input.SecretId,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1.7e9,
        ...secret,
      },
    };
  });
}

useSignatureCheckingServer({ credentials, region: 'eu-central-1' }, (started, startedSettings) => {
  server = started;
  settings = startedSettings;
});

beforeEach(() => {
  server.requests.length = 0;
  secretsManager({ [SECRET_ID]: { SecretString: '{"smallest":"sk_1"}' } });
});

describe('Function: getSecretString', () => {
  it('reads the secret string with a signed GetSecretValue call', async () => {
    expect(await getSecretString(settings, SECRET_ID)).toBe('{"smallest":"sk_1"}');

    const [request] = server.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/',
      service: 'secretsmanager',
      region: 'eu-central-1',
      signatureProblem: undefined,
      json: { SecretId: SECRET_ID },
    });
    expect(request?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request?.headers['x-amz-security-token']).toBe('session');
  });

  it('sends what the AWS SDK sends', async () => {
    const sdk = new SecretsManagerClient({ region: 'eu-central-1', endpoint: server.endpoint, credentials });
    try {
      await sdk.send(new GetSecretValueCommand({ SecretId: SECRET_ID }));
    } finally {
      sdk.destroy();
    }
    await getSecretString(settings, SECRET_ID);

    const [fromSdk, fromUs] = server.requests;
    expect(fromSdk?.signatureProblem).toBeUndefined();
    expect(fromUs?.json).toEqual(fromSdk?.json);
    expect(fromUs?.path).toBe(fromSdk?.path);
    for (const header of ['x-amz-target', 'content-type']) {
      expect(fromUs?.headers[header]).toBe(fromSdk?.headers[header]);
    }
    expect(fromUs?.service).toBe(fromSdk?.service);
  });

  it('returns undefined for a secret that holds binary data only', async () => {
    secretsManager({ [SECRET_ID]: { SecretBinary: 'AAEC' } });

    expect(await getSecretString(settings, SECRET_ID)).toBeUndefined();
  });

  it('throws ResourceNotFoundException for a secret that does not exist', async () => {
    const error = await getSecretString(settings, 'missing').catch((caught: unknown) => caught);

    expect(isAwsError(error, 'ResourceNotFoundException')).toBe(true);
    expect(error).toMatchObject({
      message: "Secrets Manager can't find the specified secret.",
      statusCode: 400,
      retryable: false,
      service: 'secretsmanager',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('retries an internal error and then returns the secret', async () => {
    const healthy = { [SECRET_ID]: { SecretString: 'value' } };
    server.answer((_, index) =>
      index === 0
        ? { status: 500, body: { __type: 'InternalServiceError', Message: 'try again' } }
        : { body: healthy[SECRET_ID] },
    );

    expect(await getSecretString(settings, SECRET_ID)).toBe('value');
    expect(server.requests).toHaveLength(2);
  });

  it('passes the signal on: an aborted call is not retried', async () => {
    // As a Lambda deadline would: the signal times out while Secrets Manager is still answering.
    const deadline = new AbortController();
    server.answer(() => {
      setTimeout(() => deadline.abort(new DOMException('deadline', 'TimeoutError')), 50);
      return { delayMs: 2_000, body: {} };
    });

    const error = await getSecretString(settings, SECRET_ID, { signal: deadline.signal }).catch(
      (caught: unknown) => caught,
    );

    expect((error as Error).name).toBe('TimeoutError');
    expect(server.requests).toHaveLength(1);
  });
});
