import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { startTypecastSimulator } from '../../simulators/typecast/simulator';
import { clientTarget, describeProviderContract } from './contract';

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50 };

describeProviderContract('Typecast client against its simulator', async () => {
  const simulator = await startTypecastSimulator();
  return clientTarget({
    provider: 'typecast',
    baseUrl: simulator.url,
    apiKey: 'tc_test_simulator',
    badApiKey: 'tc_not_a_key',
    timeoutMs: 5_000,
    retry: FAST_RETRY,
    model: 'ssfm-v30',
    language: 'eng',
    deletion: 'succeeds',
    streams: { wav: true, mp3: true },
    close: () => simulator.close(),
  });
});

const liveKey = process.env.TYPECAST_API_KEY?.trim();
const liveBaseUrl = process.env.TYPECAST_API_BASE_URL?.trim() || PROVIDER_LIMITS.typecast.baseUrl;

describeProviderContract(
  'Typecast client against the real Typecast',
  async () =>
    clientTarget({
      provider: 'typecast',
      baseUrl: liveBaseUrl,
      apiKey: liveKey ?? '',
      badApiKey: 'tc_voicedrop_contract_invalid',
      timeoutMs: 60_000,
      model: 'ssfm-v30',
      language: 'eng',
      deletion: 'succeeds',
      close: async () => {},
    }),
  { skip: !liveKey, timeoutMs: 120_000 },
);
