import type { EnvironmentReader } from '../config';
import { ENV, PROVIDER_ENV } from '../contract';
import type { KeyStore } from '../keys';
import { PROVIDER_LIMITS } from './limits';
import { createProvider } from './registry';
import { PROVIDER_NAMES, type ProviderClientOptions, type ProviderName, type VoiceProvider } from './types';

/** How both functions (and local mode) reach the providers: one reading of the environment. */
export interface ProviderSettings {
  readonly defaultProvider: ProviderName;
  /** Deadline of one provider HTTP request (PROVIDER_TIMEOUT_MS). */
  readonly timeoutMs: number;
  readonly baseUrls: Readonly<Record<ProviderName, string>>;
  /** Model used when an upload names none (SMALLEST_DEFAULT_MODEL, TYPECAST_DEFAULT_MODEL). */
  readonly defaultModels: Readonly<Record<ProviderName, string>>;
  /**
   * Clone requests allowed in flight at each provider at once, across every invocation
   * (SMALLEST_CLONE_CONCURRENCY, TYPECAST_CLONE_CONCURRENCY; defaults: the limits' `clone.concurrency`).
   */
  readonly cloneConcurrency: Readonly<Record<ProviderName, number>>;
  /**
   * Synthesis requests one speech request keeps in flight at each provider
   * (SMALLEST_SPEECH_CONCURRENCY, TYPECAST_SPEECH_CONCURRENCY; defaults: the limits' `speech.concurrency`).
   */
  readonly speechConcurrency: Readonly<Record<ProviderName, number>>;
}

/** Each provider's environment variables (SMALLEST_…, TYPECAST_…), as functions/shared/contract.ts names them. */
export const PROVIDER_ENV_NAMES: Readonly<
  Record<
    ProviderName,
    {
      readonly apiKey: string;
      readonly baseUrl: string;
      readonly defaultModel: string;
      readonly cloneConcurrency: string;
      readonly speechConcurrency: string;
    }
  >
> = PROVIDER_ENV;

function perProvider<T>(value: (name: ProviderName) => T): Record<ProviderName, T> {
  return Object.fromEntries(PROVIDER_NAMES.map((name) => [name, value(name)])) as Record<ProviderName, T>;
}

export function readProviderSettings(environment: EnvironmentReader): ProviderSettings {
  return {
    defaultProvider: environment.provider(ENV.defaultProvider, 'smallest'),
    timeoutMs: environment.positiveInteger(ENV.providerTimeoutMs, 60_000),
    baseUrls: perProvider((name) =>
      environment.url(PROVIDER_ENV_NAMES[name].baseUrl, PROVIDER_LIMITS[name].baseUrl),
    ),
    defaultModels: perProvider((name) =>
      environment.optional(PROVIDER_ENV_NAMES[name].defaultModel, PROVIDER_LIMITS[name].models.default),
    ),
    cloneConcurrency: perProvider((name) =>
      environment.positiveInteger(
        PROVIDER_ENV_NAMES[name].cloneConcurrency,
        PROVIDER_LIMITS[name].clone.concurrency,
      ),
    ),
    speechConcurrency: perProvider((name) =>
      environment.positiveInteger(
        PROVIDER_ENV_NAMES[name].speechConcurrency,
        PROVIDER_LIMITS[name].speech.concurrency,
      ),
    ),
  };
}

/** One client per provider, with keys from `keys` and the settings' base URLs and deadline. */
export function createProviders(
  keys: KeyStore,
  settings: Pick<ProviderSettings, 'baseUrls' | 'timeoutMs'>,
  retry?: ProviderClientOptions['retry'],
): Record<ProviderName, VoiceProvider> {
  const providers = {} as Record<ProviderName, VoiceProvider>;
  for (const name of PROVIDER_NAMES) {
    providers[name] = createProvider(name, {
      apiKey: keys.supplier(name),
      baseUrl: settings.baseUrls[name],
      timeoutMs: settings.timeoutMs,
      retry,
    });
  }
  return providers;
}
