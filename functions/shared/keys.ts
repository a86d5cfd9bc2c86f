import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigurationError, ProviderKeyMissingError } from './errors';
import type { ApiKeySupplier, ProviderName } from './providers/types';

/** Where the provider API keys come from: the Secrets Manager secret in AWS, the environment locally. */
export interface KeyStore {
  /** A supplier for one provider's key; throws ProviderKeyMissingError when there is none. */
  supplier(provider: ProviderName): ApiKeySupplier;
}

interface CachedSecret {
  readonly keys: Readonly<Record<string, unknown>>;
  readonly fetchedAt: number;
}

/**
 * Reads the one JSON secret `{ "smallest": "...", "typecast": "..." }`, caches it for `ttlMs` and
 * re-reads it on demand (a provider answering 401 asks for `refresh: true` once, so a rotated key is
 * picked up without a cold start). The secret's value is never logged.
 */
export function createSecretsManagerKeyStore(options: {
  readonly client: SecretsManagerClient;
  readonly secretId: string;
  readonly ttlMs?: number;
  readonly now?: () => number;
}): KeyStore {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let cached: CachedSecret | undefined;
  let inFlight: Promise<CachedSecret> | undefined;

  const load = async (): Promise<CachedSecret> => {
    const response = await options.client.send(new GetSecretValueCommand({ SecretId: options.secretId }));
    let keys: Record<string, unknown> = {};
    if (response.SecretString) {
      try {
        const parsed: unknown = JSON.parse(response.SecretString);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          keys = parsed as Record<string, unknown>;
        else throw new Error('not an object');
      } catch {
        throw new ConfigurationError(
          `The provider-keys secret ${options.secretId} must hold a JSON object like {"smallest":"sk_…","typecast":"…"}.`,
        );
      }
    }
    return { keys, fetchedAt: now() };
  };

  const read = async (refresh: boolean): Promise<CachedSecret> => {
    if (!refresh && cached && now() - cached.fetchedAt < ttlMs) return cached;
    // Concurrent callers share one GetSecretValue call.
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    cached = await inFlight;
    return cached;
  };

  return {
    supplier(provider) {
      return async (supplierOptions) => {
        const secret = await read(supplierOptions?.refresh === true);
        const key = secret.keys[provider];
        if (typeof key !== 'string' || key.trim() === '') {
          throw new ProviderKeyMissingError(provider, `the secret ${options.secretId} (key "${provider}")`);
        }
        return key.trim();
      };
    },
  };
}

/** Local mode: keys from fixed values (the environment or the simulators' test keys). */
export function createStaticKeyStore(keys: Partial<Record<ProviderName, string>>, where: string): KeyStore {
  return {
    supplier(provider) {
      return async () => {
        const key = keys[provider];
        if (!key) throw new ProviderKeyMissingError(provider, where);
        return key;
      };
    },
  };
}
