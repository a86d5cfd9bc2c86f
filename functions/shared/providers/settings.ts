import type { EnvironmentReader } from '../config';
import type { KeyStore } from '../keys';
import { PROVIDER_LIMITS } from './limits';
import { createProvider, DEFAULT_BASE_URLS } from './registry';
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
   * Clone requests allowed in flight at each provider at once (SMALLEST_CONCURRENCY, TYPECAST_CONCURRENCY:
   * the account plan's concurrency; defaults are the documented minimums, Smallest 1 and Typecast 2).
   */
  readonly concurrency: Readonly<Record<ProviderName, number>>;
}

export function readProviderSettings(environment: EnvironmentReader): ProviderSettings {
  return {
    defaultProvider: environment.provider('DEFAULT_PROVIDER', 'smallest'),
    timeoutMs: environment.positiveInteger('PROVIDER_TIMEOUT_MS', 60_000),
    baseUrls: {
      smallest: environment.url('SMALLEST_API_BASE_URL', DEFAULT_BASE_URLS.smallest),
      typecast: environment.url('TYPECAST_API_BASE_URL', DEFAULT_BASE_URLS.typecast),
    },
    defaultModels: {
      smallest: environment.optional('SMALLEST_DEFAULT_MODEL', PROVIDER_LIMITS.smallest.models.default),
      typecast: environment.optional('TYPECAST_DEFAULT_MODEL', PROVIDER_LIMITS.typecast.models.default),
    },
    concurrency: {
      smallest: environment.positiveInteger(
        'SMALLEST_CONCURRENCY',
        PROVIDER_LIMITS.smallest.speech.concurrency,
      ),
      typecast: environment.positiveInteger(
        'TYPECAST_CONCURRENCY',
        PROVIDER_LIMITS.typecast.speech.concurrency,
      ),
    },
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
