import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { ConsentRepository } from '../shared/consents/repository';
import type { KeyStore } from '../shared/keys';
import type { Log } from '../shared/logger';
import type { MetricsRecorder } from '../shared/metrics';
import type { ProviderSlots } from '../shared/providers/slots';
import type { ProviderName, VoiceProvider } from '../shared/providers/types';
import type { RetryBackoff } from '../shared/redelivery-plan';
import type { ValidationSettings } from '../shared/validation/settings';
import type { VoiceRepository } from '../shared/voices/repository';

/** What the clone pipeline is given: AWS clients, providers, keys and its settings (handler.ts builds them). */
export interface ClonePipelineDependencies {
  readonly s3: S3Client;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  readonly keys: KeyStore;
  /** Uploads must name a valid consent (`consent.required`, CONSENT_REQUIRED); default false. */
  readonly consentRequired?: boolean;
  /** The consent ledger; default: the one in the voices table. */
  readonly consents?: ConsentRepository;
  readonly defaultProvider: ProviderName;
  /** Model used when the upload names none (configuration may differ from the provider's default). */
  readonly defaultModels: Readonly<Record<ProviderName, string>>;
  /** How uploads are judged (quality thresholds, trim default); the defaults when absent. */
  readonly validation?: ValidationSettings;
  /** The queue's maxReceiveCount: on the last delivery a retryable problem is recorded as `failed`. */
  readonly maxReceiveCount: number;
  readonly logger: Log;
  /** Business metrics (embedded metrics in AWS); nothing by default. */
  readonly metrics?: MetricsRecorder;
  /**
   * After a clone request's answer was lost, how long the provider may still be creating that clone:
   * no new clone request before this has passed since the lost one started (default 2 minutes, or
   * twice the provider timeout when that is longer).
   */
  readonly lostAnswerGraceMs?: number;
  /**
   * Per-provider clone slots (the configured provider concurrency, shared by every invocation); without
   * them nothing limits how many clone requests reach a provider at once beyond the queue's concurrency.
   */
  readonly slots?: ProviderSlots;
  /** How long one message waits for a free slot before it is handed back to the queue (default 20 s). */
  readonly slotWaitMs?: number;
  /**
   * Delay before a failed message is seen again: `baseSeconds × 2^(delivery − 1)`, jittered, at most
   * `maxSeconds` (default 10 s … 15 min); a provider's Retry-After and a pending lost answer take precedence.
   */
  readonly retryBackoff?: RetryBackoff;
  readonly now?: () => Date;
}

/** See ClonePipelineDependencies.lostAnswerGraceMs. */
export const DEFAULT_LOST_ANSWER_GRACE_MS = 120_000;

/** A message is only started with at least this much time left (validation, download, one clone call). */
export const MINIMUM_TIME_FOR_A_MESSAGE_MS = 45_000;

/** One delivery of a message: which delivery it is, and the invocation it runs in. */
export interface Attempt {
  readonly receiveCount: number;
  readonly context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>;
}
