import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { type SmallestDeleteMode, startSmallestSimulator } from '../../simulators/smallest/simulator';
import { type ContractTarget, clientTarget, describeProviderContract } from './contract';

const FAST_RETRY = { baseDelayMs: 5, maxDelayMs: 50 };

function againstSimulator(deleteMode: SmallestDeleteMode) {
  return async (): Promise<ContractTarget> => {
    const simulator = await startSmallestSimulator({ deleteMode });
    return clientTarget({
      provider: 'smallest',
      baseUrl: simulator.url,
      apiKey: 'sk_test_simulator',
      badApiKey: 'sk_not_a_key',
      timeoutMs: 5_000,
      retry: FAST_RETRY,
      model: 'lightning-v3.1',
      language: 'en',
      deletion: deleteMode === 'api-key-refused' ? 'refused' : 'succeeds',
      // The live route speaks PCM (as WAV); MP3 comes from the plain route.
      streams: { wav: true, mp3: false },
      close: () => simulator.close(),
    });
  };
}

// As Smallest answers today: API keys cannot delete (the simulator's default).
describeProviderContract(
  'Smallest client against its simulator (deletes refused)',
  againstSimulator('api-key-refused'),
);
// As the guide documents it (the fallback to the newer route is in smallest.voices.test.ts).
describeProviderContract(
  'Smallest client against its simulator (the guide’s delete route)',
  againstSimulator('lightning-large'),
);

const liveKey = process.env.SMALLEST_API_KEY?.trim();
const liveBaseUrl = process.env.SMALLEST_API_BASE_URL?.trim() || PROVIDER_LIMITS.smallest.baseUrl;

describeProviderContract(
  'Smallest client against the real Smallest AI Waves',
  async () =>
    clientTarget({
      provider: 'smallest',
      baseUrl: liveBaseUrl,
      apiKey: liveKey ?? '',
      badApiKey: 'sk_voicedrop_contract_invalid',
      timeoutMs: 60_000,
      model: 'lightning-v3.1',
      language: 'en',
      // Smallest refuses API-key deletes since July 2026 (docs/providers.md#smallest-delete); the client
      // must then say so.
      deletion: 'either',
      close: async () => {},
    }),
  { skip: !liveKey, timeoutMs: 120_000 },
);
