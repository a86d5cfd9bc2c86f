import { createProvider, DEFAULT_BASE_URLS } from '../../functions/shared/providers/registry';
import type { ProviderClientOptions } from '../../functions/shared/providers/types';
import { startSmallestSimulator } from '../../simulators/smallest/simulator';
import { describeProviderContract } from './contract';

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50 };

describeProviderContract('Smallest client against its simulator', async () => {
  const simulator = await startSmallestSimulator();
  const options = (key: string): ProviderClientOptions => ({
    apiKey: async () => key,
    baseUrl: simulator.url,
    timeoutMs: 5_000,
    retry: FAST_RETRY,
  });
  return {
    provider: createProvider('smallest', options('sk_test_simulator')),
    providerWithBadKey: createProvider('smallest', options('sk_not_a_key')),
    model: 'lightning-v3.1',
    language: 'en',
    deletionMustSucceed: true,
    close: () => simulator.close(),
  };
});

const liveKey = process.env.SMALLEST_API_KEY?.trim();
const liveBaseUrl = process.env.SMALLEST_API_BASE_URL?.trim() || DEFAULT_BASE_URLS.smallest;

describeProviderContract(
  'Smallest client against the real Smallest AI Waves',
  async () => {
    const options = (key: string): ProviderClientOptions => ({
      apiKey: async () => key,
      baseUrl: liveBaseUrl,
      timeoutMs: 60_000,
    });
    return {
      provider: createProvider('smallest', options(liveKey ?? '')),
      providerWithBadKey: createProvider('smallest', options('sk_voicedrop_contract_invalid')),
      model: 'lightning-v3.1',
      language: 'en',
      // Smallest refuses API-key deletes since July 2026 (docs/providers.md#smallest-delete); the client must say so.
      deletionMustSucceed: false,
      close: async () => {},
    };
  },
  { skip: !liveKey, timeoutMs: 120_000 },
);
