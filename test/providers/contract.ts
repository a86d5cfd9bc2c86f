import { randomBytes } from 'node:crypto';
import { parseBuffer } from 'music-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../functions/shared/providers/errors';
import { createProvider } from '../../functions/shared/providers/registry';
import type {
  ClonedVoice,
  CloneHint,
  ProviderClientOptions,
  ProviderName,
  VoiceProvider,
} from '../../functions/shared/providers/types';
import { makeWav, wavPeak } from '../support/audio';
import { collect, decodeWav } from './stream-support';

/**
 * The one behaviour every provider client must show, run over real HTTP against each vendor's
 * simulator and, when its key is in the environment, against the real provider. Steps build on each
 * other (clone → find → speak → delete), so they run in order and clean up after themselves.
 */

export interface ContractTarget {
  readonly provider: VoiceProvider;
  /** A client for the same endpoint whose key is rejected. */
  readonly providerWithBadKey: VoiceProvider;
  readonly model: string;
  readonly language?: string;
  /**
   * What deleting with an API key must do: `succeeds`; `refused`, as Smallest answers since July 2026
   * (docs/providers.md#smallest-delete), when the client must say so in `detail` instead; `either`, for a
   * live provider that may change its mind.
   */
  readonly deletion: 'succeeds' | 'refused' | 'either';
  /**
   * Whether `synthesizeStream` must come through a streaming route (`streamed: true`) for WAV and for
   * MP3; undefined for a live provider, whose routes may come and go (the client falls back).
   */
  readonly streams?: { readonly wav: boolean; readonly mp3: boolean };
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Skips the whole suite (no key for a live run). */
  readonly skip?: boolean;
  /** Per step; live providers take seconds per clone. */
  readonly timeoutMs?: number;
}

export interface ClientTargetOptions extends Omit<ContractTarget, 'provider' | 'providerWithBadKey'> {
  readonly provider: ProviderName;
  readonly baseUrl: string;
  readonly apiKey: string;
  /** A key of the provider's form that it rejects. */
  readonly badApiKey: string;
  readonly timeoutMs: number;
  readonly retry?: ProviderClientOptions['retry'];
}

/** The provider's own client at `baseUrl`, once with an accepted key and once with a rejected one. */
export function clientTarget(options: ClientTargetOptions): ContractTarget {
  const { provider, baseUrl, apiKey, badApiKey, timeoutMs, retry, ...target } = options;
  const client = (key: string) =>
    createProvider(provider, { apiKey: async () => key, baseUrl, timeoutMs, retry });
  return { ...target, provider: client(apiKey), providerWithBadKey: client(badApiKey) };
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function randomRecordId(): string {
  return `vc_${[...randomBytes(26)].map((byte) => BASE32[byte % 32]).join('')}`;
}

export function describeProviderContract(
  name: string,
  setup: () => Promise<ContractTarget>,
  options: ContractOptions = {},
): void {
  const timeout = options.timeoutMs ?? 20_000;

  describe.skipIf(options.skip === true)(`Contract: ${name}`, () => {
    let target: ContractTarget | undefined;
    let voice: ClonedVoice | undefined;
    let deleted = false;
    const startedAt = new Date();
    // Short enough for Typecast's 30 code points, unique enough for a shared live account.
    const displayName = `vd-contract-${randomBytes(4).toString('hex')}`;
    const voiceRecordId = randomRecordId();

    const ready = () => {
      if (!target) throw new Error('setup did not finish');
      return target;
    };
    const cloned = () => {
      if (!voice) throw new Error('the clone step failed; later steps need its voice');
      return voice;
    };
    const hint = (): CloneHint => ({ voiceRecordId, displayName, model: ready().model, startedAt });

    beforeAll(async () => {
      target = await setup();
    }, timeout);

    afterAll(async () => {
      // A live run must not leave a clone (and a paid slot) behind when a step failed.
      if (target && voice && !deleted)
        await target.provider.deleteVoice(voice.providerVoiceId).catch(() => undefined);
      await target?.close();
    }, timeout);

    it(
      'clones a voice from a 7 s speech-like WAV',
      async () => {
        const { provider, model, language } = ready();
        voice = await provider.cloneVoice({
          audio: makeWav({ durationSec: 7 }),
          format: 'wav',
          displayName,
          model,
          language,
          tags: ['voicedrop-contract'],
          voiceRecordId,
        });

        expect(voice.providerVoiceId).toMatch(provider.name === 'typecast' ? /^uc_/ : /^voice_/);
        expect(voice.displayName).toBe(displayName);
        expect(voice.model).toBe(model);
      },
      timeout,
    );

    it(
      'finds the clone again from what a retry knows',
      async () => {
        const lookup = await ready().provider.findClone(hint());

        expect(lookup.outcome).toBe('found');
        if (lookup.outcome === 'found') expect(lookup.voice.providerVoiceId).toBe(cloned().providerVoiceId);
      },
      timeout,
    );

    it(
      'speaks text as a playable 16-bit WAV that is not silence',
      async () => {
        const { provider, model, language } = ready();
        const speech = await provider.synthesize({
          providerVoiceId: cloned().providerVoiceId,
          text: 'Hello from voicedrop. This sentence checks that the cloned voice can speak.',
          format: 'wav',
          model,
          language,
        });

        expect(speech.format).toBe('wav');
        expect(speech.contentType).toBe('audio/wav');
        const metadata = await parseBuffer(speech.audio, { mimeType: 'audio/wav' }, { duration: true });
        expect(metadata.format.container).toBe('WAVE');
        expect(metadata.format.bitsPerSample).toBe(16);
        expect(metadata.format.duration).toBeGreaterThan(0.5);
        expect(wavPeak(speech.audio)).toBeGreaterThan(1000);
      },
      timeout,
    );

    it(
      'speaks text as a playable MP3',
      async () => {
        const { provider, model, language } = ready();
        const speech = await provider.synthesize({
          providerVoiceId: cloned().providerVoiceId,
          text: 'The same voice, compressed as MP3 this time.',
          format: 'mp3',
          model,
          language,
        });

        expect(speech.format).toBe('mp3');
        expect(speech.contentType).toBe('audio/mpeg');
        const metadata = await parseBuffer(speech.audio, { mimeType: 'audio/mpeg' }, { duration: true });
        expect(metadata.format.container).toBe('MPEG');
        expect(metadata.format.duration).toBeGreaterThan(0.5);
      },
      timeout,
    );

    it(
      'streams speech whose chunks join into a playable 16-bit WAV that is not silence',
      async () => {
        const { provider, model, language, streams } = ready();
        const stream = await provider.synthesizeStream({
          providerVoiceId: cloned().providerVoiceId,
          text: 'Streaming speech from voicedrop, one piece after another.',
          format: 'wav',
          model,
          language,
        });
        const { whole } = await collect(stream);

        expect(stream).toMatchObject({ format: 'wav', contentType: 'audio/wav' });
        if (streams) expect(stream.streamed).toBe(streams.wav);
        const wav = decodeWav(whole);
        expect(wav).toMatchObject({ channels: 1, bitsPerSample: 16 });
        expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(0.5);
        expect(wavPeak(whole)).toBeGreaterThan(1000);
      },
      timeout,
    );

    it(
      'streams speech as a playable MP3',
      async () => {
        const { provider, model, language, streams } = ready();
        const stream = await provider.synthesizeStream({
          providerVoiceId: cloned().providerVoiceId,
          text: 'The same stream, compressed as MP3.',
          format: 'mp3',
          model,
          language,
        });
        const { whole } = await collect(stream);

        expect(stream).toMatchObject({ format: 'mp3', contentType: 'audio/mpeg' });
        if (streams) expect(stream.streamed).toBe(streams.mp3);
        const metadata = await parseBuffer(whole, { mimeType: 'audio/mpeg' }, { duration: true });
        expect(metadata.format.container).toBe('MPEG');
        expect(metadata.format.duration).toBeGreaterThan(0.5);
      },
      timeout,
    );

    it(
      'deletes the clone, or says exactly why it could not',
      async () => {
        const result = await ready().provider.deleteVoice(cloned().providerVoiceId);

        const expected = ready().deletion;
        if (expected !== 'either') expect(result.deleted).toBe(expected === 'succeeds');
        if (!result.deleted) expect(result.detail).toContain(cloned().providerVoiceId);
        deleted = result.deleted;
      },
      timeout,
    );

    it(
      'deletes again without error (idempotent)',
      async () => {
        const result = await ready().provider.deleteVoice(cloned().providerVoiceId);

        expect(result.deleted).toBe(deleted);
      },
      timeout,
    );

    it(
      'reports the deleted clone as absent',
      async () => {
        if (!deleted) return;
        const lookup = await ready().provider.findClone(hint());

        expect(lookup).toEqual({ outcome: 'absent' });
      },
      timeout,
    );

    it(
      'answers a rejected key with a non-retryable auth error',
      async () => {
        const failure = await ready()
          .providerWithBadKey.findClone(hint())
          .catch((error: unknown) => error);

        expect(failure).toBeInstanceOf(ProviderError);
        expect(failure).toMatchObject({ kind: 'auth', retryable: false, statusCode: 401 });
      },
      timeout,
    );
  });
}
