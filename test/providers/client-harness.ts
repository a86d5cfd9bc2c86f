import { afterEach, vi } from 'vitest';
import { ProviderError } from '../../functions/shared/providers/errors';
import { createProvider } from '../../functions/shared/providers/registry';
import type {
  CloneRequest,
  ProviderClientOptions,
  SpeechRequest,
  VoiceProvider,
} from '../../functions/shared/providers/types';
import {
  type SmallestSimulator,
  type SmallestSimulatorOptions,
  startSmallestSimulator,
  startTypecastSimulator,
  type TypecastSimulator,
  type TypecastSimulatorOptions,
} from '../../simulators';
import { makeWav } from '../support/audio';
import { LONG_TEXT } from './stream-support';

/**
 * The one harness of the provider-client tests, for either vendor: the real client on its own simulator
 * over HTTP (port 0), a clone request the vendor accepts, a voice to speak with, and the failure a call
 * ends in. Calling
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
    /** Seeds a clone named Alice that speaks `speechModel`; its provider voice id. */
    readonly seedVoice: (simulator: Vendors[V]['simulator']) => string;
    readonly speechModel: string;
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
    seedVoice: (simulator) => simulator.seedClone({ displayName: 'Alice' }).voiceId,
    speechModel: 'lightning-v3.1',
  },
  typecast: {
    key: 'tc_test_simulator',
    start: startTypecastSimulator,
    request: { displayName: 'Alice', model: 'ssfm-v30', voiceRecordId: 'vc_abcdefghijklmnopqrstuvwxyz' },
    seedVoice: (simulator) => simulator.seedClone({ name: 'Alice', model: 'ssfm-v30' }).voice_id,
    speechModel: 'ssfm-v30',
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

  async function setup(
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
  }

  return {
    /** The key the simulator accepts and the client is given. */
    KEY: spec.key,
    setup,
    /** `setup` with a seeded voice, and speech requests for it: `LONG_TEXT` as WAV unless overridden. */
    async withVoice(
      simulatorOptions: Vendors[V]['options'] = {},
      clientOptions: Partial<ProviderClientOptions> = {},
    ) {
      const context = await setup(simulatorOptions, clientOptions);
      const providerVoiceId = spec.seedVoice(context.simulator);
      const request = (overrides: Partial<SpeechRequest> = {}): SpeechRequest => ({
        providerVoiceId,
        text: LONG_TEXT,
        format: 'wav',
        model: spec.speechModel,
        ...overrides,
      });
      return { ...context, request };
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
