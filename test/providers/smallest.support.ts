import { ProviderError } from '../../functions/shared/providers/errors';
import { createProvider } from '../../functions/shared/providers/registry';
import type { CloneRequest, ProviderClientOptions } from '../../functions/shared/providers/types';
import {
  type SmallestSimulator,
  type SmallestSimulatorOptions,
  startSmallestSimulator,
} from '../../simulators/smallest/simulator';
import { makeWav } from '../support/audio';

/** What the Smallest client tests share: a client on its own simulator, a clone request, its failure. */

export const KEY = 'sk_test_simulator';
const simulators: SmallestSimulator[] = [];

/** Closes every simulator `setup` started (each test file calls it after each test). */
export async function closeSimulators(): Promise<void> {
  await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
}

export async function setup(
  simulatorOptions: SmallestSimulatorOptions = {},
  clientOptions: Partial<ProviderClientOptions> = {},
) {
  const simulator = await startSmallestSimulator(simulatorOptions);
  simulators.push(simulator);
  const provider = createProvider('smallest', {
    apiKey: async () => KEY,
    baseUrl: simulator.url,
    timeoutMs: 2_000,
    retry: { baseDelayMs: 40, maxDelayMs: 200 },
    ...clientOptions,
  });
  return { simulator, provider };
}

export const SAMPLE = makeWav({ durationSec: 6, sampleRate: 16_000 });

export function cloneRequest(overrides: Partial<CloneRequest> = {}): CloneRequest {
  return {
    audio: SAMPLE,
    format: 'wav',
    displayName: 'Alice',
    model: 'lightning-v3.1',
    language: 'en',
    description: 'Test voice',
    accent: 'general',
    tags: ['friendly', 'test'],
    voiceRecordId: 'vc_abcdefghijklmnopqrstuvwxyz',
    ...overrides,
  };
}

export async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
