import type { S3Client } from '@aws-sdk/client-s3';
import type { ClonePipelineDependencies } from '../../functions/clone/dependencies';
import type { KeyStore } from '../../functions/shared/keys';
import { silentLog } from '../../functions/shared/logger';
import { createProvider } from '../../functions/shared/providers/registry';
import type {
  ProviderClientOptions,
  ProviderName,
  VoiceProvider,
} from '../../functions/shared/providers/types';
import type { VoiceRepository } from '../../functions/shared/voices/repository';

/**
 * The clone pipeline as the tests and the memory benchmark run it: the real provider clients on the
 * simulators' URLs, the repository's default models, three deliveries and no grace after a lost answer.
 * One home, so a new dependency of the pipeline is given in one place.
 */

/** The simulators' accepted keys (simulators/*: the key a test configures them with). */
export const SIMULATOR_KEYS = { smallest: 'sk_test_simulator', typecast: 'tc_test_simulator' } as const;

/** The models an upload gets when it names none, as cdk.json sets them. */
export const TEST_DEFAULT_MODELS = { smallest: 'lightning-v3.1', typecast: 'ssfm-v30' } as const;

export interface TestProviderOptions {
  readonly urls: Readonly<Record<ProviderName, string>>;
  readonly keys: KeyStore;
  readonly timeoutMs: number;
  readonly retry?: ProviderClientOptions['retry'];
}

/** Both vendors' real clients on the given URLs, their keys from `keys`. */
export function testProviders(options: TestProviderOptions): Record<ProviderName, VoiceProvider> {
  const make = (name: ProviderName): VoiceProvider =>
    createProvider(name, {
      apiKey: options.keys.supplier(name),
      baseUrl: options.urls[name],
      timeoutMs: options.timeoutMs,
      retry: options.retry,
    });
  return { smallest: make('smallest'), typecast: make('typecast') };
}

export interface TestCloneWorld {
  readonly s3: S3Client;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  readonly keys: KeyStore;
}

/** The clone pipeline's dependencies on a test's servers; `overrides` win. */
export function testCloneDependencies(
  world: TestCloneWorld,
  overrides: Partial<ClonePipelineDependencies> = {},
): ClonePipelineDependencies {
  return {
    ...world,
    defaultProvider: 'smallest',
    defaultModels: TEST_DEFAULT_MODELS,
    maxReceiveCount: 3,
    logger: silentLog,
    lostAnswerGraceMs: 0,
    ...overrides,
  };
}
