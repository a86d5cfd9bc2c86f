// Secrets Manager has no local implementation here: a stub server checks each request's signature and
// answers GetSecretValue the way the service does.
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsSettings } from '../../functions/shared/aws/config';
import { ConfigurationError, ProviderKeyMissingError } from '../../functions/shared/errors';
import { createSecretsManagerKeyStore, createStaticKeyStore } from '../../functions/shared/keys';
import {
  type SignatureCheckingServer,
  useSignatureCheckingServer,
} from '../support/signature-checking-server';

const credentials = { accessKeyId: 'AKIDKEYS', secretAccessKey: 'keys-secret', sessionToken: 'keys-session' };
let server: SignatureCheckingServer;
let settings: AwsSettings;

useSignatureCheckingServer({ credentials, region: 'eu-west-1' }, (started, startedSettings) => {
  server = started;
  settings = startedSettings;
});

beforeEach(() => {
  server.requests.length = 0;
});

/** Answers the n-th GetSecretValue with the n-th string, and every later one with the last. */
function secretStrings(...values: string[]) {
  server.answer((request, index) => {
    if (request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      return { status: 400, body: { __type: 'UnknownOperationException' } };
    }
    const { SecretId } = request.json as { SecretId: string };
    return {
      headers: { 'content-type': 'application/x-amz-json-1.1' },
      body: { Name: SecretId, SecretString: values[Math.min(index, values.length - 1)] },
    };
  });
}

/** The GetSecretValue calls the stub received, all correctly signed. */
function getSecretValueCalls() {
  const calls = server.requests.filter(
    (request) => request.headers['x-amz-target'] === 'secretsmanager.GetSecretValue',
  );
  for (const call of calls) expect(call.signatureProblem).toBeUndefined();
  return calls;
}

describe('createSecretsManagerKeyStore', () => {
  it('reads the JSON secret once and serves both providers from the cache', async () => {
    secretStrings('{"smallest":"sk_1","typecast":"tc_1"}');
    const store = createSecretsManagerKeyStore({
      settings,
      secretId: 'arn:keys',
    });
    expect(await store.supplier('smallest')()).toBe('sk_1');
    expect(await store.supplier('typecast')()).toBe('tc_1');
    expect(getSecretValueCalls()).toHaveLength(1);
    expect(getSecretValueCalls()[0]?.json).toEqual({ SecretId: 'arn:keys' });
  });

  it('reads the secret again when asked to refresh (after a 401) or when the cache expired', async () => {
    let clock = 0;
    secretStrings('{"smallest":"sk_old"}', '{"smallest":"sk_new"}');
    const store = createSecretsManagerKeyStore({
      settings,
      secretId: 'keys',
      ttlMs: 1_000,
      now: () => clock,
    });
    expect(await store.supplier('smallest')()).toBe('sk_old');
    expect(await store.supplier('smallest')({ refresh: true })).toBe('sk_new');
    clock = 2_000;
    await store.supplier('smallest')();
    expect(getSecretValueCalls()).toHaveLength(3);
  });

  it('throws ProviderKeyMissingError naming the provider and the secret when the key is empty', async () => {
    secretStrings('{"smallest":"","typecast":"tc"}');
    const store = createSecretsManagerKeyStore({
      settings,
      secretId: 'voicedrop-keys',
    });
    const error = await store
      .supplier('smallest')()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderKeyMissingError);
    expect((error as Error).message).toContain('smallest');
    expect((error as Error).message).toContain('voicedrop-keys');
  });

  it('explains the expected shape when the secret is not a JSON object', async () => {
    secretStrings('sk_plain');
    const store = createSecretsManagerKeyStore({ settings, secretId: 'keys' });
    await expect(store.supplier('smallest')()).rejects.toBeInstanceOf(ConfigurationError);
  });
});

describe('createStaticKeyStore', () => {
  it('throws a clear error for a provider without a key', async () => {
    const store = createStaticKeyStore({ smallest: 'sk' }, 'the environment');
    expect(await store.supplier('smallest')()).toBe('sk');
    await expect(store.supplier('typecast')()).rejects.toThrow(/No API key for typecast/);
  });
});
