import { createProvider, DEFAULT_BASE_URLS } from '../../functions/shared/providers/registry';
import type { ProviderClientOptions } from '../../functions/shared/providers/types';
import { startTypecastSimulator } from '../../simulators/typecast/simulator';
import { describeProviderContract } from './contract';

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50 };

describeProviderContract('Typecast client against its simulator', async () => {
  const simulator = await startTypecastSimulator();
  const options = (key: string): ProviderClientOptions => ({
    apiKey: async () => key,
    baseUrl: simulator.url,
    timeoutMs: 5_000,
    retry: FAST_RETRY,
  });
  return {
    provider: createProvider('typecast', options('tc_test_simulator')),
    providerWithBadKey: createProvider('typecast', options('tc_not_a_key')),
    model: 'ssfm-v30',
    language: 'eng',
    deletionMustSucceed: true,
    close: () => simulator.close(),
  };
});

const liveKey = process.env.TYPECAST_API_KEY?.trim();
const liveBaseUrl = process.env.TYPECAST_API_BASE_URL?.trim() || DEFAULT_BASE_URLS.typecast;

describeProviderContract(
  'Typecast client against the real Typecast',
  async () => {
    const options = (key: string): ProviderClientOptions => ({
      apiKey: async () => key,
      baseUrl: liveBaseUrl,
      timeoutMs: 60_000,
    });
    return {
      provider: createProvider('typecast', options(liveKey ?? '')),
      providerWithBadKey: createProvider('typecast', options('tc_voicedrop_contract_invalid')),
      model: 'ssfm-v30',
      language: 'eng',
      deletionMustSucceed: true,
      close: async () => {},
    };
  },
  { skip: !liveKey, timeoutMs: 120_000 },
);
