/**
 * Local mode's providers: live where a key or base URL is configured, the built-in simulators otherwise,
 * seeded with the clones the data folder remembers (local mode and `npm run retention -- --local` alike).
 */
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { readProviderSettings } from '../functions/shared/providers/settings';
import type { ProviderName } from '../functions/shared/providers/types';
import { DOCUMENT_TRANSLATION } from '../functions/shared/voices/repository';
import { CLONE_HELD_STATUSES } from '../functions/shared/voices/status';
import type { SpeechLatencyOptions } from '../simulators/latency';
import {
  type SmallestDeleteMode,
  type SmallestSimulator,
  startSmallestSimulator,
} from '../simulators/smallest/simulator';
import { startTypecastSimulator, type TypecastSimulator } from '../simulators/typecast/simulator';
import type { localDynamoClient } from './servers';

export type ProviderMode = 'live' | 'sim';

const LOCAL_SIMULATOR_CLONE_SLOTS = 10_000;

export const SIMULATOR_KEYS: Readonly<Record<ProviderName, string>> = {
  smallest: 'sk_test_simulator',
  typecast: 'tc_test_simulator',
};

export interface LocalProviderOptions {
  readonly dynamoClient: ReturnType<typeof localDynamoClient>;
  /** The voices table, whose ready voices the simulators get back. */
  readonly tableName: string;
  readonly configured: Readonly<Record<ProviderName, { key?: string; baseUrlSet: boolean }>>;
  readonly forceSimulators?: boolean;
  readonly smallestDeleteMode?: SmallestDeleteMode;
  readonly simulatorLatency: SpeechLatencyOptions;
  readonly settings: ReturnType<typeof readProviderSettings>;
  /** Where the simulators' close functions go. */
  readonly closers: (() => Promise<void>)[];
}

export async function startLocalProviders(options: LocalProviderOptions) {
  const modes = {} as Record<ProviderName, ProviderMode>;
  const keys: Partial<Record<ProviderName, string>> = {};
  const baseUrls = {} as Record<ProviderName, string>;
  const simulatorUrls: Partial<Record<ProviderName, string>> = {};
  for (const provider of ['smallest', 'typecast'] as const) {
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
      const simulator =
        provider === 'smallest'
          ? await startSmallestSimulator({ ...simulated, deleteMode: options.smallestDeleteMode })
          : await startTypecastSimulator(simulated);
      options.closers.push(() => simulator.close());
      // The simulators keep clones in memory: give them back the clones of the voices this data
      // folder remembers, so voices made before a restart still speak.
      for (const voice of await rememberedClones(options.dynamoClient, options.tableName, provider)) {
        if (provider === 'smallest') {
          (simulator as SmallestSimulator).seedClone({
            voiceId: voice.providerVoiceId,
            displayName: voice.displayName || 'voice',
            tags: [voice.voiceId],
            createdAt: voice.createdAt,
          });
        } else {
          (simulator as TypecastSimulator).seedClone({
            voice_id: voice.providerVoiceId,
            name: voice.displayName || 'voice',
            model: voice.model === 'ssfm-v21' ? 'ssfm-v21' : 'ssfm-v30',
            createdAt: voice.createdAt,
          });
        }
      }
      keys[provider] = SIMULATOR_KEYS[provider];
      baseUrls[provider] = simulator.url;
      simulatorUrls[provider] = simulator.url;
    }
  }
  return { modes, keys, baseUrls, simulatorUrls };
}

/** Voices with a live clone at `provider`, read from the local table (a scan: local mode only). */
async function rememberedClones(
  client: ReturnType<typeof localDynamoClient>,
  tableName: string,
  provider: ProviderName,
) {
  const documents = DynamoDBDocumentClient.from(client, DOCUMENT_TRANSLATION);
  const voices: {
    voiceId: string;
    providerVoiceId: string;
    displayName?: string;
    model?: string;
    createdAt?: string;
  }[] = [];
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
