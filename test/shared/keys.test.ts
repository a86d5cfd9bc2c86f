// Secrets Manager has no local implementation here, so this is the one place it is mocked.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, ProviderKeyMissingError } from '../../functions/shared/errors';
import { createSecretsManagerKeyStore, createStaticKeyStore } from '../../functions/shared/keys';

const secrets = mockClient(SecretsManagerClient);

afterEach(() => secrets.reset());

describe('createSecretsManagerKeyStore', () => {
  it('reads the JSON secret once and serves both providers from the cache', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"smallest":"sk_1","typecast":"tc_1"}' });
    const store = createSecretsManagerKeyStore({
      client: new SecretsManagerClient({}),
      secretId: 'arn:keys',
    });
    expect(await store.supplier('smallest')()).toBe('sk_1');
    expect(await store.supplier('typecast')()).toBe('tc_1');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads the secret again when asked to refresh (after a 401) or when the cache expired', async () => {
    let clock = 0;
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: '{"smallest":"sk_old"}' })
      .resolves({ SecretString: '{"smallest":"sk_new"}' });
    const store = createSecretsManagerKeyStore({
      client: new SecretsManagerClient({}),
      secretId: 'keys',
      ttlMs: 1_000,
      now: () => clock,
    });
    expect(await store.supplier('smallest')()).toBe('sk_old');
    expect(await store.supplier('smallest')({ refresh: true })).toBe('sk_new');
    clock = 2_000;
    await store.supplier('smallest')();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('throws ProviderKeyMissingError naming the provider and the secret when the key is empty', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"smallest":"","typecast":"tc"}' });
    const store = createSecretsManagerKeyStore({
      client: new SecretsManagerClient({}),
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
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'sk_plain' });
    const store = createSecretsManagerKeyStore({ client: new SecretsManagerClient({}), secretId: 'keys' });
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
