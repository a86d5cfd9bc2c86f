import { createSmallestProvider } from './smallest/client';
import { createTypecastProvider } from './typecast/client';
import type { ProviderClientOptions, ProviderName, VoiceProvider } from './types';

const FACTORIES: Readonly<Record<ProviderName, (options: ProviderClientOptions) => VoiceProvider>> = {
  smallest: createSmallestProvider,
  typecast: createTypecastProvider,
};

/** The client for one provider; `options.baseUrl` comes from configuration or the limits' `baseUrl`. */
export function createProvider(name: ProviderName, options: ProviderClientOptions): VoiceProvider {
  return FACTORIES[name]({ ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') });
}
