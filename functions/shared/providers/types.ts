import type { AudioFormat } from '../audio/types';

export const PROVIDER_NAMES = ['smallest', 'typecast'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(value);
}

/** A provider's documented rules, as data (one place per provider: `<vendor>/limits.ts`). */
export interface ProviderLimits {
  readonly provider: ProviderName;
  /** Human name for messages ("Smallest AI Waves"). */
  readonly title: string;
  /** The production API origin (override with `<PROVIDER>_API_BASE_URL` or `providers.<name>.baseUrl`). */
  readonly baseUrl: string;
  readonly formats: readonly AudioFormat[];
  readonly maxBytes: number;
  readonly minDurationSec: number;
  readonly maxDurationSec: number;
  /** Display-name length rule; `codePoints` counts Unicode code points, not UTF-16 units. */
  readonly name: { readonly minChars: number; readonly maxChars: number };
  readonly models: {
    readonly default: string;
    readonly accepted: readonly string[];
    /** Model → the provider's own rejection message (e.g. lightning-v2 is deprecated). */
    readonly rejected: Readonly<Record<string, string>>;
  };
  /** Clone-time language option: accepted shape and an example for messages. */
  readonly language: { readonly pattern: RegExp; readonly description: string };
  /** Which optional clone metadata the provider itself stores (others are kept only in voicedrop). */
  readonly cloneOptions: readonly ('language' | 'description' | 'accent' | 'tags')[];
  /**
   * How the provider's clones can be recognised after a clone request's answer was lost (findClone):
   * `tag`: by voicedrop's record id, sent as a tag, so a stray clone made by a lost request can also be
   * found and deleted later; `name-and-time`: by name, model and creation time only, so the clones of
   * other voices of ours with the same name must be ruled out.
   */
  readonly cloneLookup: 'tag' | 'name-and-time';
  readonly clone: {
    /**
     * Clone requests in flight at once on the smallest plan: the default of the clone slots
     * (`providers.<name>.cloneConcurrency`); an account on a larger plan configures its own.
     */
    readonly concurrency: number;
  };
  readonly speech: {
    /** Characters per synthesis request (documented guidance or hard limit). */
    readonly maxCharsPerRequest: number;
    /**
     * Synthesis requests in flight at once per key on the smallest plan: the default of
     * `providers.<name>.speechConcurrency`, how many pieces of one long text are spoken side by side.
     */
    readonly concurrency: number;
  };
}

export interface CloneRequest {
  readonly audio: Uint8Array;
  /** Detected container: decides the file extension and MIME type sent to the provider. */
  readonly format: AudioFormat;
  readonly displayName: string;
  readonly model: string;
  readonly language?: string;
  readonly description?: string;
  readonly accent?: string;
  readonly tags?: readonly string[];
  /** voicedrop's voice record id; Smallest gets it as a tag so a later retry can find the clone. */
  readonly voiceRecordId: string;
}

export interface VoiceSample {
  readonly text: string;
  readonly audioUrl: string;
}

export const CLONE_STATES = ['ready', 'processing', 'failed'] as const;
export type CloneState = (typeof CLONE_STATES)[number];

export interface ClonedVoice {
  readonly providerVoiceId: string;
  readonly displayName: string;
  readonly model: string;
  readonly language?: string;
  /**
   * Whether the clone can speak, as each client reads its provider's answer: `ready` once it can;
   * `processing` while it exists but cannot yet (look it up again later); `failed` when the provider gave
   * up on it (nothing usable was made).
   */
  readonly state: CloneState;
  readonly createdAt?: string;
  readonly samples: readonly VoiceSample[];
  readonly tags?: readonly string[];
}

export interface SpeechRequest {
  readonly providerVoiceId: string;
  readonly text: string;
  readonly format: 'wav' | 'mp3';
  readonly model: string;
  readonly language?: string;
  readonly speed?: number;
  readonly sampleRate?: number;
}

export interface SpeechResult {
  readonly audio: Uint8Array;
  /** The format that was requested (Smallest labels everything audio/wav, so trust the request). */
  readonly format: 'wav' | 'mp3';
  readonly contentType: 'audio/wav' | 'audio/mpeg';
  readonly requestId?: string;
}

/**
 * Speech arriving as the provider produces it. The chunks, in order, are the bytes of one complete audio
 * file in `format` (a WAV's RIFF and data sizes may be 0xFFFFFFFF placeholders, as streamed WAV carries).
 */
export interface SpeechStream {
  readonly format: 'wav' | 'mp3';
  readonly contentType: 'audio/wav' | 'audio/mpeg';
  readonly chunks: AsyncIterable<Uint8Array>;
  /** True when a streaming route made it; false when the plain route did (then one chunk). */
  readonly streamed: boolean;
  readonly requestId?: string;
}

export interface DeleteResult {
  /** True when the provider confirmed deletion or already did not know the voice. */
  readonly deleted: boolean;
  /** Present when the provider could not delete with an API key: what happened and what to do. */
  readonly detail?: string;
}

/** What a later attempt knows about an earlier clone request whose answer was lost. */
export interface CloneHint {
  readonly voiceRecordId: string;
  readonly displayName: string;
  readonly model: string;
  /** When the earlier attempt started; clones created before this are not it. */
  readonly startedAt: Date;
  /**
   * Provider voice ids already bound to other voicedrop records. Never reported as this clone: a
   * provider whose list has no creation time (Typecast) cannot otherwise tell an older voice of the
   * same name from the one the lost answer created.
   */
  readonly knownProviderVoiceIds?: readonly string[];
  /**
   * The clone already known to be this record's (one the provider was still processing). When the list
   * holds it, it is the answer, whatever else matches: a stray clone of an earlier lost request beside
   * it does not make the lookup ambiguous.
   */
  readonly providerVoiceId?: string;
}

/** `found`: the clone exists; `absent`: it certainly does not; `ambiguous`: cannot tell (mark for review). */
export type CloneLookup =
  | { readonly outcome: 'found'; readonly voice: ClonedVoice }
  | { readonly outcome: 'absent' }
  | { readonly outcome: 'ambiguous'; readonly reason: string };

export interface CallOptions {
  /** Aborted when the caller gives up (e.g. the Lambda's remaining time); never retried. */
  readonly signal?: AbortSignal;
  /**
   * When the caller gives up, in epoch milliseconds (e.g. the Lambda's remaining time minus a margin).
   * Retries never sleep past it: a `Retry-After` longer than what remains ends the call at once.
   */
  readonly deadline?: number;
}

/** The one interface both vendors implement. Vendor details stay behind it. */
export interface VoiceProvider {
  readonly name: ProviderName;
  readonly limits: ProviderLimits;
  cloneVoice(request: CloneRequest, options?: CallOptions): Promise<ClonedVoice>;
  synthesize(request: SpeechRequest, options?: CallOptions): Promise<SpeechResult>;
  /**
   * The same speech, streamed: through the provider's streaming route where it has one for the format,
   * else (or when that route is gone: 404/410) the plain route as one chunk. Resolves once the provider
   * has answered 200; errors before that are thrown (and retried) as `synthesize` does. A failure after
   * that makes the iteration throw a ProviderError; aborting `options.signal` stops the request.
   */
  synthesizeStream(request: SpeechRequest, options?: CallOptions): Promise<SpeechStream>;
  deleteVoice(providerVoiceId: string, options?: CallOptions): Promise<DeleteResult>;
  /** Reconciliation after a lost clone answer: find the clone an earlier attempt may have created. */
  findClone(hint: CloneHint, options?: CallOptions): Promise<CloneLookup>;
}

/** Supplies a provider's API key; `refresh` bypasses any cache (used once after a 401). */
export type ApiKeySupplier = (options?: { refresh?: boolean }) => Promise<string>;

export interface ProviderClientOptions {
  readonly apiKey: ApiKeySupplier;
  /** Without trailing slash, e.g. https://api.smallest.ai */
  readonly baseUrl: string;
  /** Deadline for one HTTP attempt (PROVIDER_TIMEOUT_MS). */
  readonly timeoutMs: number;
  readonly retry?: {
    /** Attempts in total, including the first. */
    readonly maxAttempts?: number;
    readonly baseDelayMs?: number;
    readonly maxDelayMs?: number;
  };
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}
