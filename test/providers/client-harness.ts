import { afterEach, vi } from 'vitest';
import { ProviderError } from '../../functions/shared/providers/errors';
import { createProvider } from '../../functions/shared/providers/registry';
import type {
  CloneRequest,
  ProviderClientOptions,
  VoiceProvider,
} from '../../functions/shared/providers/types';
import {
  type SmallestSimulator,
  type SmallestSimulatorOptions,
  startSmallestSimulator,
} from '../../simulators/smallest/simulator';
import {
  startTypecastSimulator,
  type TypecastSimulator,
  type TypecastSimulatorOptions,
} from '../../simulators/typecast/simulator';
import { makeWav } from '../support/audio';

/**
 * The one harness of the provider-client tests, for either vendor: the real client on its own simulator
 * over HTTP (port 0), a clone request the vendor accepts, and the failure a call ends in. Calling
 * `clientHarness` at a test file's top level closes every simulator it started after each test.
 */

interface Vendors {
  readonly smallest: { readonly options: SmallestSimulatorOptions; readonly simulator: SmallestSimulator };
  readonly typecast: { readonly options: TypecastSimulatorOptions; readonly simulator: TypecastSimulator };
}
type Vendor = keyof Vendors;

const VENDORS: {
  readonly [V in Vendor]: {
    readonly key: string;
    readonly start: (options: Vendors[V]['options']) => Promise<Vendors[V]['simulator']>;
    readonly request: Omit<CloneRequest, 'audio' | 'format'>;
  };
} = {
  smallest: {
    key: 'sk_test_simulator',
    start: startSmallestSimulator,
    request: {
      displayName: 'Alice',
      model: 'lightning-v3.1',
      language: 'en',
      description: 'Test voice',
      accent: 'general',
      tags: ['friendly', 'test'],
      voiceRecordId: 'vc_abcdefghijklmnopqrstuvwxyz',
    },
  },
  typecast: {
    key: 'tc_test_simulator',
    start: startTypecastSimulator,
    request: { displayName: 'Alice', model: 'ssfm-v30', voiceRecordId: 'vc_abcdefghijklmnopqrstuvwxyz' },
  },
};

/** A 6 s, 16 kHz WAV: within both vendors' rules. */
export const SAMPLE = makeWav({ durationSec: 6, sampleRate: 16_000 });

export function clientHarness<V extends Vendor>(vendor: V) {
  const spec = VENDORS[vendor];
  const simulators: Vendors[V]['simulator'][] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(simulators.splice(0).map((simulator) => simulator.close()));
  });

  return {
    /** The key the simulator accepts and the client is given. */
    KEY: spec.key,
    async setup(
      simulatorOptions: Vendors[V]['options'] = {},
      clientOptions: Partial<ProviderClientOptions> = {},
    ): Promise<{ simulator: Vendors[V]['simulator']; provider: VoiceProvider }> {
      const simulator = await spec.start(simulatorOptions);
      simulators.push(simulator);
      const provider = createProvider(vendor, {
        apiKey: async () => spec.key,
        baseUrl: simulator.url,
        timeoutMs: 2_000,
        retry: { baseDelayMs: 40, maxDelayMs: 200 },
        ...clientOptions,
      });
      return { simulator, provider };
    },
    cloneRequest(overrides: Partial<CloneRequest> = {}): CloneRequest {
      return { audio: SAMPLE, format: 'wav', ...spec.request, ...overrides };
    },
  };
}

/** The `ProviderError` a call ends in; anything else (or success) fails the test. */
export async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}
