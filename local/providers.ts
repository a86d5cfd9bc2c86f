/**
 * Local mode's providers: live where a key or base URL is configured, the built-in simulators otherwise,
 * seeded with the clones the data folder remembers (local mode and `npm run retention -- --local` alike).
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { EnvironmentReader } from '../functions/shared/config';
import { PROVIDER_ENV } from '../functions/shared/contract';
import type { readProviderSettings } from '../functions/shared/providers/settings';
import { PROVIDER_NAMES, type ProviderName } from '../functions/shared/providers/types';
import { DOCUMENT_TRANSLATION } from '../functions/shared/voices/repository';
import { CLONE_HELD_STATUSES } from '../functions/shared/voices/status';
import {
  type SimulatorHandle,
  type SmallestDeleteMode,
  startSmallestSimulator,
  startTypecastSimulator,
  TYPECAST_MODELS,
} from '../simulators';
import type { SpeechLatencyOptions } from '../simulators/latency';
import type { Closer, localDynamoClient } from './servers';

export type ProviderMode = 'live' | 'sim';

const LOCAL_SIMULATOR_CLONE_SLOTS = 10_000;

export const SIMULATOR_KEYS: Readonly<Record<ProviderName, string>> = {
  smallest: 'sk_test_simulator',
  typecast: 'tc_test_simulator',
};

/** Where local mode's provider keys come from, as a missing key's error names it. */
export const LOCAL_KEY_SOURCE = `the environment (${PROVIDER_NAMES.map((name) => PROVIDER_ENV[name].apiKey).join(' / ')})`;

/** What the environment configures for one provider: its key, and whether a base URL is set. */
export interface ConfiguredProvider {
  readonly key?: string;
  readonly baseUrlSet: boolean;
}

/**
 * Each provider's key and base URL as the environment sets them (SMALLEST_API_KEY, …, by PROVIDER_ENV). A
 * provider is live when either is set (a base URL without a key then fails every clone with a clear
 * provider_key_missing), simulated otherwise or with --sim.
 */
export function configuredProviders(reader: EnvironmentReader): Record<ProviderName, ConfiguredProvider> {
  const value = (name: string) => reader.optional(name, '') || undefined;
  return Object.fromEntries(
    PROVIDER_NAMES.map((provider) => [
      provider,
      {
        key: value(PROVIDER_ENV[provider].apiKey),
        baseUrlSet: value(PROVIDER_ENV[provider].baseUrl) !== undefined,
      },
    ]),
  ) as Record<ProviderName, ConfiguredProvider>;
}

export interface LocalProviderOptions {
  readonly dynamoClient: ReturnType<typeof localDynamoClient>;
  /** The voices table, whose ready voices the simulators get back. */
  readonly tableName: string;
  readonly configured: Readonly<Record<ProviderName, ConfiguredProvider>>;
  readonly forceSimulators?: boolean;
  readonly smallestDeleteMode?: SmallestDeleteMode;
  readonly simulatorLatency: SpeechLatencyOptions;
  readonly settings: ReturnType<typeof readProviderSettings>;
  /** Where the simulators' close functions go. */
  readonly closers: Closer[];
}

export async function startLocalProviders(options: LocalProviderOptions) {
  const modes = {} as Record<ProviderName, ProviderMode>;
  const keys: Partial<Record<ProviderName, string>> = {};
  const baseUrls = {} as Record<ProviderName, string>;
  const simulatorUrls: Partial<Record<ProviderName, string>> = {};
  for (const provider of PROVIDER_NAMES) {
    const { key, baseUrlSet } = options.configured[provider];
    const live = !options.forceSimulators && (key !== undefined || baseUrlSet);
    modes[provider] = live ? 'live' : 'sim';
    if (live) {
      keys[provider] = key;
      baseUrls[provider] = options.settings.baseUrls[provider];
    } else {
      // Generous clone slots: a newcomer trying local mode should not meet a plan's clone limit. The
      // account's concurrency is the configured plan's (it allows both settings), as the provider would
      // enforce it.
      const simulated = {
        ...options.simulatorLatency,
        cloneSlots: LOCAL_SIMULATOR_CLONE_SLOTS,
        concurrency: Math.max(
          options.settings.cloneConcurrency[provider],
          options.settings.speechConcurrency[provider],
        ),
      };
      const remembered = await rememberedClones(options.dynamoClient, options.tableName, provider);
      const simulator = await START_SIMULATOR[provider](
        { ...simulated, smallestDeleteMode: options.smallestDeleteMode },
        remembered,
      );
      options.closers.push(() => simulator.close());
      keys[provider] = SIMULATOR_KEYS[provider];
      baseUrls[provider] = simulator.url;
      simulatorUrls[provider] = simulator.url;
    }
  }
  return { modes, keys, baseUrls, simulatorUrls };
}

/** A voice whose clone the simulator must hold again (read from the local table). */
interface RememberedClone {
  readonly voiceId: string;
  readonly providerVoiceId: string;
  readonly displayName?: string;
  readonly model?: string;
  readonly createdAt?: string;
}

interface SimulatorSettings extends SpeechLatencyOptions {
  readonly cloneSlots: number;
  readonly concurrency: number;
  readonly smallestDeleteMode?: SmallestDeleteMode;
}

/** Starts one provider's simulator, holding again the clones it is given. */
type StartSimulator = (
  settings: SimulatorSettings,
  remembered: readonly RememberedClone[],
) => Promise<Pick<SimulatorHandle<unknown>, 'url' | 'close'>>;

/**
 * Each provider's simulator, given back the clones of the voices this data folder remembers: the
 * simulators keep clones in memory, and voices made before a restart should still speak.
 */
const START_SIMULATOR: Readonly<Record<ProviderName, StartSimulator>> = {
  smallest: async (settings, remembered) => {
    const { smallestDeleteMode, ...simulated } = settings;
    const simulator = await startSmallestSimulator({ ...simulated, deleteMode: smallestDeleteMode });
    for (const voice of remembered) {
      simulator.seedClone({
        voiceId: voice.providerVoiceId,
        displayName: voice.displayName || 'voice',
        tags: [voice.voiceId],
        createdAt: voice.createdAt,
      });
    }
    return simulator;
  },
  typecast: async (settings, remembered) => {
    const { smallestDeleteMode: _smallestOnly, ...simulated } = settings;
    const simulator = await startTypecastSimulator(simulated);
    for (const voice of remembered) {
      simulator.seedClone({
        voice_id: voice.providerVoiceId,
        name: voice.displayName || 'voice',
        // A voice made without a model (none recorded) is bound to the simulator's default.
        model: TYPECAST_MODELS.find((model) => model === voice.model),
        createdAt: voice.createdAt,
      });
    }
    return simulator;
  },
};

/** Voices with a live clone at `provider`, read from the local table (a scan: local mode only). */
async function rememberedClones(
  client: ReturnType<typeof localDynamoClient>,
  tableName: string,
  provider: ProviderName,
) {
  const documents = DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION);
  const voices: RememberedClone[] = [];
  const held = Object.fromEntries([...CLONE_HELD_STATUSES].map((status, index) => [`:held${index}`, status]));
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: `#provider = :provider AND attribute_exists(providerVoiceId) AND #status IN (${Object.keys(held).join(', ')})`,
        ExpressionAttributeNames: { '#provider': 'provider', '#status': 'status' },
        ExpressionAttributeValues: { ':provider': provider, ...held },
        ExclusiveStartKey: startKey,
      }),
    );
    voices.push(...((page.Items ?? []) as typeof voices));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return voices;
}
