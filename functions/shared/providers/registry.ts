import { createSmallestProvider } from './smallest/client';
import { createTypecastProvider } from './typecast/client';
import type { ProviderClientOptions, ProviderName, VoiceProvider } from './types';

/** The providers' production endpoints, in one place (override with `<PROVIDER>_API_BASE_URL`). */
export const DEFAULT_BASE_URLS: Readonly<Record<ProviderName, string>> = {
  smallest: 'https://api.smallest.ai',
  typecast: 'https://api.typecast.ai',
};

const FACTORIES: Readonly<Record<ProviderName, (options: ProviderClientOptions) => VoiceProvider>> = {
  smallest: createSmallestProvider,
  typecast: createTypecastProvider,
};

/** The client for one provider; `options.baseUrl` comes from configuration or DEFAULT_BASE_URLS. */
export function createProvider(name: ProviderName, options: ProviderClientOptions): VoiceProvider {
  return FACTORIES[name]({ ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') });
}
