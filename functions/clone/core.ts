import { createHash, randomUUID } from 'node:crypto';
import { HeadObjectCommand, type HeadObjectCommandOutput, NotFound, type S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { s3ByteSource } from '../shared/audio/sources';
import type { AudioFormat, ByteSource } from '../shared/audio/types';
import { type UploadOptions, validateSource } from '../shared/audio/validate';
import { withinInvocationDeadline } from '../shared/aws-deadline';
import { VoicedropError } from '../shared/errors';
import type { KeyStore } from '../shared/keys';
import type { Log } from '../shared/logger';
import { type BusinessMetric, type MetricsRecorder, noMetrics } from '../shared/metrics';
import { isProviderError, type ProviderError } from '../shared/providers/errors';
import type { ClonedVoice, CloneHint, ProviderName, VoiceProvider } from '../shared/providers/types';
import { type Backoff, backoffDelayMs, retryDelayMs, sleep } from '../shared/retry';
import type { ProviderSlots } from '../shared/voices/provider-slots';
import { deriveVoiceId, type VoiceError, type VoiceRecord } from '../shared/voices/record';
import { audioClaimKey, type VoiceRepository } from '../shared/voices/repository';
import { FINAL_STATUSES, isResumable, mayMove, statusesThatMayBecome } from '../shared/voices/status';
import {
  decodeMetadataValue,
  displayNameFromFileName,
  parseS3NotificationBody,
  routeUploadKey,
  type UploadedObject,
} from './s3-events';

export interface ClonePipelineDependencies {
  readonly s3: S3Client;
  readonly voices: VoiceRepository;
  readonly providers: Readonly<Record<ProviderName, VoiceProvider>>;
  readonly keys: KeyStore;
  readonly defaultProvider: ProviderName;
  /** Model used when the upload names none (configuration may differ from the provider's default). */
  readonly defaultModels: Readonly<Record<ProviderName, string>>;
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

export interface RetryBackoff {
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { baseSeconds: 10, maxSeconds: 900 };

/**
 * The one cap on any redelivery delay: SQS takes up to 12 hours for a visibility timeout and 15 minutes
 * for a message delay; 15 minutes is plenty here.
 */
const MAX_REDELIVERY_DELAY_SECONDS = 900;

/** A redelivery backoff as the shared retry policy: equal jitter, so a retry never comes back at once. */
export function redeliveryPolicy(backoff: RetryBackoff): Backoff {
  return { baseMs: backoff.baseSeconds * 1_000, maxMs: backoff.maxSeconds * 1_000, jitter: 'equal' };
}

/**
 * What the queue adapter (SQS in AWS, LocalQueue locally) does with a message the handler did not finish.
 * `retry`: it stays a batch item failure and becomes visible again after `delaySeconds` (SQS
 * ChangeMessageVisibility), counting as a delivery. `requeue`: nothing failed, the upload only waits (for
 * a provider slot, for a lost answer's grace period); the adapter sends the body again with `delaySeconds`
 * and acknowledges this one, so waiting never uses up deliveries. If the requeue cannot be sent, the
 * message stays a batch item failure.
 */
export interface Redelivery {
  readonly messageId: string;
  readonly kind: 'retry' | 'requeue';
  readonly delaySeconds: number;
}

/** The SQS batch response plus how to redeliver each message in it. */
export interface CloneBatchResult extends SQSBatchResponse {
  readonly redeliveries: readonly Redelivery[];
}

/** A problem a later delivery of the same message can fix: the message is reported as a batch item failure. */
export class RetryLaterError extends VoicedropError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { retryable: true, cause });
  }
}

/**
 * Nothing failed, the upload has to wait (for a provider slot, for a lost answer's grace period): it goes
 * back to the queue as a new message after `delaySeconds` (a `requeue`), which uses up no delivery.
 */
export class WaitInQueueError extends RetryLaterError {
  constructor(
    code: string,
    message: string,
    readonly delaySeconds: number,
  ) {
    super(code, message);
  }
}

/** No provider slot came free in time: the message waits in the queue instead of in this invocation. */
export class ProviderBusyError extends WaitInQueueError {
  constructor(provider: ProviderName, limit: number, delaySeconds: number) {
    super(
      'provider_busy',
      `Waiting for a free ${provider} slot (${limit} clone request${limit === 1 ? '' : 's'} at a time); the upload stays queued.`,
      delaySeconds,
    );
  }
}

/** See ClonePipelineDependencies.lostAnswerGraceMs. */
export const DEFAULT_LOST_ANSWER_GRACE_MS = 120_000;

/** Time kept back from the Lambda's deadline to record the outcome after a provider call. */
const RESULT_WRITE_RESERVE_MS = 15_000;
/** Time kept back from the Lambda's deadline for the SQS calls that schedule redeliveries (clone/handler.ts). */
const REDELIVERY_RESERVE_MS = 3_000;
/** The statuses an upload session moves a record out of: the work in progress, never a final one. */
const IN_PROGRESS_STATUSES_OF_A_SESSION = ['validating', 'cloning'] as const;
/** Provider statuses of a clone that exists but cannot speak yet (Smallest: `pending`, `processing`). */
const UNFINISHED_CLONE_STATUSES: ReadonlySet<string> = new Set(['pending', 'processing']);
/** A message is only started with at least this much time left (validation, download, one clone call). */
const MINIMUM_TIME_FOR_A_MESSAGE_MS = 45_000;

/**
 * The clone Lambda: SQS batches of S3 event notifications. Permanent problems are recorded on the voice
 * and the message is acknowledged (never retried, never dead-lettered); retryable ones are recorded and
 * the message is reported as a batch item failure, so SQS delivers it again and, after maxReceiveCount
 * deliveries, moves it to the dead-letter queue.
 */
export async function handleCloneEvent(
  event: SQSEvent,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  dependencies: ClonePipelineDependencies,
): Promise<CloneBatchResult> {
  // The messages of a batch are independent uploads: they run side by side, each waiting for its own
  // provider's slot, so one busy provider does not hold up another's uploads in the same batch. AWS calls
  // end early enough for the redelivery calls after them.
  const outcomes = await withinInvocationDeadline(context, REDELIVERY_RESERVE_MS, () =>
    Promise.all(
      event.Records.map(async (message): Promise<Redelivery | undefined> => {
        // Not enough time left for a clone: send the message again untouched rather than start and be cut
        // off. A requeue, not a failed delivery: it was never tried, so it must not count towards the DLQ.
        if (context.getRemainingTimeInMillis() < MINIMUM_TIME_FOR_A_MESSAGE_MS) {
          return { messageId: message.messageId, kind: 'requeue', delaySeconds: 0 };
        }
        return handleMessage(message, context, dependencies);
      }),
    ),
  );
  const redeliveries = outcomes.filter((outcome): outcome is Redelivery => outcome !== undefined);
  return {
    batchItemFailures: redeliveries.map((redelivery) => ({ itemIdentifier: redelivery.messageId })),
    redeliveries,
  };
}

async function handleMessage(
  message: SQSRecord,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
  dependencies: ClonePipelineDependencies,
): Promise<Redelivery | undefined> {
  const { logger } = dependencies;
  const parsed = parseS3NotificationBody(message.body);
  if (parsed.kind === 'test-event') {
    logger.info('ignoring s3:TestEvent', { messageId: message.messageId });
    return undefined;
  }
  if (parsed.kind === 'malformed') {
    // Not an upload: nothing to record and nothing a retry could change.
    logger.error('ignoring a message that is not an S3 event notification', {
      messageId: message.messageId,
      reason: parsed.reason,
    });
    return undefined;
  }
  const receiveCount = receiveCountOf(message);
  const plans: Redelivery[] = [];
  for (const object of parsed.objects) {
    try {
      await processUpload(object, { receiveCount, context }, dependencies);
    } catch (error) {
      const plan = redeliveryFor(error, message.messageId, receiveCount, dependencies);
      plans.push(plan);
      const log = plan.kind === 'requeue' ? logger.info : logger.error;
      log.call(logger, plan.kind === 'requeue' ? 'upload waits in the queue' : 'upload will be retried', {
        messageId: message.messageId,
        bucket: object.bucket,
        key: object.key,
        receiveCount,
        delaySeconds: plan.delaySeconds,
        error: describeError(error),
      });
    }
  }
  if (plans.length === 0) return undefined;
  // One message, one decision: a requeue only when every unfinished upload in it merely waits for a slot.
  return {
    messageId: message.messageId,
    kind: plans.every((plan) => plan.kind === 'requeue') ? 'requeue' : 'retry',
    delaySeconds: Math.max(...plans.map((plan) => plan.delaySeconds)),
  };
}

/** When to see a message again after `error`, by what the error says about the provider and the record. */
export function redeliveryFor(
  error: unknown,
  messageId: string,
  receiveCount: number,
  dependencies: Pick<ClonePipelineDependencies, 'retryBackoff'>,
): Redelivery {
  const backoff = dependencies.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
  if (error instanceof WaitInQueueError) {
    return { messageId, kind: 'requeue', delaySeconds: capped(error.delaySeconds) };
  }
  const retryAfterMs = isProviderError(error) ? error.retryAfterMs : undefined;
  const delayMs = retryDelayMs(receiveCount, redeliveryPolicy(backoff), retryAfterMs);
  return { messageId, kind: 'retry', delaySeconds: capped(delayMs / 1_000) };
}

/** Seconds to the millisecond, within 0 and the cap. */
function capped(seconds: number): number {
  return Math.max(0, Math.round(Math.min(MAX_REDELIVERY_DELAY_SECONDS, seconds) * 1_000) / 1_000);
}

interface Attempt {
  readonly receiveCount: number;
  readonly context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>;
}

/** The voice record's lifecycle for one uploaded object version. Throws when the message should be retried. */
export async function processUpload(
  object: UploadedObject,
  attempt: Attempt,
  dependencies: ClonePipelineDependencies,
): Promise<void> {
  const { voices, logger } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const route = routeUploadKey(object.key, dependencies.defaultProvider);
  if (route.kind === 'ignore') {
    logger.info('ignoring object', { bucket: object.bucket, key: object.key, reason: route.reason });
    return;
  }
  const version = object.versionId ?? object.etag ?? object.sequencer ?? '';
  const voiceId = deriveVoiceId(object.bucket, object.key, version);
  const createdAt = now().toISOString();
  const { record: stored } = await voices.createIfAbsent({
    voiceId,
    status: 'received',
    provider: route.kind === 'upload' ? route.provider : route.folder,
    displayName: displayNameFromFileName(route.fileName),
    source: {
      bucket: object.bucket,
      key: object.key,
      versionId: object.versionId,
      etag: object.etag,
      bytes: object.size,
    },
    createdAt,
    updatedAt: createdAt,
    processing: {},
  });
  if (!isResumable(stored)) {
    logger.info('upload already processed', { voiceId, status: stored.status });
    return;
  }

  const token = randomUUID();
  const leaseUntil = now().getTime() + attempt.context.getRemainingTimeInMillis() + 5_000;
  const leased = await voices.acquireLease(voiceId, token, leaseUntil, now().getTime());
  if (!leased) {
    // Another delivery holds it; that delivery (or its retry after the lease ends) finishes the work.
    logger.info('upload is being processed by another delivery', { voiceId });
    return;
  }
  const session = new UploadSession(leased, token, attempt, dependencies);
  try {
    if (leased.status === 'cloning') await session.resumeCloning();
    else await session.validateAndClone(route);
  } catch (error) {
    await session.recordRetryableProblem(error);
    throw error;
  }
}

type Route = Exclude<ReturnType<typeof routeUploadKey>, { kind: 'ignore' }>;

class UploadSession {
  private readonly now: () => Date;
  private readonly logger: Log;
  private readonly metrics: MetricsRecorder;
  /** Set once the audio is claimed, so a permanent failure can release the claim. */
  private claimKey: string | undefined;
  /** An earlier attempt lost a clone request's answer: after cloning, look for a stray clone. */
  private hadLostAnswer = false;

  constructor(
    private record: VoiceRecord,
    private readonly token: string,
    private readonly attempt: Attempt,
    private readonly dependencies: ClonePipelineDependencies,
  ) {
    this.now = dependencies.now ?? (() => new Date());
    this.logger = dependencies.logger;
    this.metrics = dependencies.metrics ?? noMetrics;
    this.claimKey = record.processing?.claimKey;
  }

  private get backoff(): RetryBackoff {
    return this.dependencies.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
  }

  private get voiceId(): string {
    return this.record.voiceId;
  }

  async validateAndClone(route: Route): Promise<void> {
    const { voices } = this.dependencies;
    const source = this.record.source;
    await this.move(statusesThatMayBecome('validating'), 'validating', { error: null });
    // S3 allows such keys, but a URL resolves "." and ".." segments away: the object cannot be read back.
    if (source.key.split('/').some((segment) => segment === '.' || segment === '..')) {
      await this.finish('rejected', {
        error: {
          code: 'unsupported_key',
          message:
            'The object key has a "." or ".." path segment, which voicedrop cannot read; rename the file and upload it again.',
          retryable: false,
        },
      });
      return;
    }

    let head: HeadObjectCommandOutput;
    try {
      head = await this.dependencies.s3.send(
        new HeadObjectCommand({ Bucket: source.bucket, Key: source.key, VersionId: source.versionId }),
      );
    } catch (error) {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') {
        await this.finish('failed', {
          error: {
            code: 'source_missing',
            message: 'The uploaded object was deleted before it could be processed; upload it again.',
            retryable: false,
          },
        });
        return;
      }
      throw error;
    }
    const metadata = head.Metadata ?? {};
    const options = readUploadOptions(metadata);
    const provider = route.kind === 'upload' ? route.provider : route.folder;
    const displayName = options.displayName ?? displayNameFromFileName(route.fileName);
    if (route.kind === 'upload' && options.model === undefined) {
      options.model = this.dependencies.defaultModels[route.provider];
    }
    const size = head.ContentLength ?? source.bytes;
    const byteSource = cachingSource(
      s3ByteSource({
        client: this.dependencies.s3,
        bucket: source.bucket,
        key: source.key,
        versionId: source.versionId,
        size,
      }),
    );
    const started = Date.now();
    const { report, resolved } = await validateSource(byteSource, { provider, displayName, options });
    const facts = {
      ...source,
      bytes: size,
      format: report.format ?? undefined,
      durationSec: report.durationSec ?? undefined,
      sampleRate: report.sampleRate ?? undefined,
      channels: report.channels ?? undefined,
    };
    const descriptive = {
      displayName: resolved?.displayName ?? displayName,
      model: resolved?.model ?? options.model,
      language: resolved?.language ?? options.language,
      accent: resolved?.accent ?? options.accent,
      description: resolved?.description ?? options.description,
      tags: resolved?.tags,
    };
    this.logger.info('validated upload', {
      voiceId: this.voiceId,
      provider,
      ok: report.ok,
      format: report.format,
      durationSec: report.durationSec,
      sizeBytes: size,
      bytesRead: byteSource.bytesRead,
      codes: report.errors.map((issue) => issue.code),
      ms: Date.now() - started,
    });
    if (!report.ok || route.kind !== 'upload' || !resolved) {
      const [first] = report.errors;
      await this.finish('rejected', {
        ...descriptive,
        source: facts,
        error: {
          code: first?.code ?? 'unknown_provider',
          message: report.errors.map((issue) => issue.message).join(' ') || 'The upload was rejected.',
          retryable: false,
        },
      });
      return;
    }

    // A missing key is an operator's fix: find out before claiming the audio or calling anybody.
    await this.dependencies.keys.supplier(route.provider)();

    // The whole sample is read only once a provider slot is held: however many uploads a batch holds,
    // an invocation keeps at most as many samples in memory as it has clone requests in flight.
    await this.withProviderSlot(route.provider, async () => {
      const audio = await byteSource.readAll();
      const sha256 = createHash('sha256').update(audio).digest('hex');
      const withHash = { ...facts, sha256 };
      const claimKey = audioClaimKey(route.provider, resolved.model, resolved.language, sha256);
      const claim = await voices.claimAudio(claimKey, this.voiceId, this.now());
      if (claim.ownerVoiceId !== this.voiceId) {
        await this.finish('duplicate', {
          ...descriptive,
          source: withHash,
          duplicateOf: claim.ownerVoiceId,
          error: null,
        });
        this.logger.info('duplicate upload', { voiceId: this.voiceId, duplicateOf: claim.ownerVoiceId });
        return;
      }
      this.claimKey = claimKey;
      this.metrics.count('ClonesStarted');
      await this.move(
        ['validating'],
        'cloning',
        { ...descriptive, source: withHash },
        {
          claimKey,
          cloneStartedAt: this.now().toISOString(),
          cloneOutcomeUnknown: true,
          cloneAnswerLost: true,
        },
      );
      await this.clone(route.provider, audio, report.format as AudioFormat);
    });
  }

  /** A previous attempt was cloning when it stopped (crash, timeout or a retryable provider error). */
  async resumeCloning(): Promise<void> {
    const provider = this.record.provider as ProviderName;
    if (this.record.processing?.cloneOutcomeUnknown) {
      this.hadLostAnswer = true;
      const found = await this.reconcile(provider);
      if (found) return;
      // Not there yet. A request that got no answer at all may still be running at the provider: clone
      // again only once it has certainly ended, or two paid clones could result. (A 5xx was an answer:
      // the provider had finished with that request.)
      const startedAt = Date.parse(this.record.processing.cloneStartedAt ?? this.record.updatedAt);
      const graceMs = this.dependencies.lostAnswerGraceMs ?? DEFAULT_LOST_ANSWER_GRACE_MS;
      if (this.record.processing.cloneAnswerLost !== false && this.now().getTime() < startedAt + graceMs) {
        await this.setProcessing({ cloneOutcomeUnknown: true });
        // Look again soon (the clone may show up any moment), and at the latest when the grace ends.
        const graceLeftSeconds = (startedAt + graceMs - this.now().getTime()) / 1_000 + 1;
        throw new WaitInQueueError(
          'clone_pending',
          'An earlier clone request may still be completing at the provider; it will be checked again shortly.',
          Math.min(graceLeftSeconds, 4 * this.backoff.baseSeconds),
        );
      }
    }
    const source = this.record.source;
    await this.withProviderSlot(provider, async () => {
      const audio = await s3ByteSource({
        client: this.dependencies.s3,
        bucket: source.bucket,
        key: source.key,
        versionId: source.versionId,
        size: source.bytes,
      }).readAll();
      await this.move(
        ['cloning'],
        'cloning',
        {},
        { cloneStartedAt: this.now().toISOString(), cloneOutcomeUnknown: true, cloneAnswerLost: true },
      );
      await this.clone(provider, audio, source.format as AudioFormat);
    });
  }

  /**
   * Runs `work` (the clone request and recording its answer) holding one of the provider's slots. Waits
   * for a slot at most slotWaitMs (and never into the time the clone itself needs); then the upload goes
   * back to the queue (ProviderBusyError) with its record unchanged, and nothing was sent to the provider.
   */
  private async withProviderSlot(provider: ProviderName, work: () => Promise<void>): Promise<void> {
    const slots = this.dependencies.slots;
    if (!slots) return work();
    const remaining = this.attempt.context.getRemainingTimeInMillis();
    // The clock the record's lease is on: both leases end together.
    const now = this.now().getTime();
    const waitMs = Math.min(
      this.dependencies.slotWaitMs ?? 20_000,
      remaining - MINIMUM_TIME_FOR_A_MESSAGE_MS,
    );
    const slot = await slots.acquire(provider, {
      holder: `${this.voiceId}#${this.token}`,
      now,
      // A crash or timeout frees the slot when this invocation would have ended anyway.
      leaseUntil: now + remaining + 5_000,
      waitMs: Math.max(0, waitMs),
    });
    if (!slot) {
      this.metrics.count('ClonesDeferred');
      const delayMs = backoffDelayMs(1, redeliveryPolicy(this.backoff));
      throw new ProviderBusyError(provider, slots.limit(provider), delayMs / 1_000);
    }
    try {
      await work();
    } finally {
      await slots.release(slot).catch((error: unknown) => {
        // The lease frees it in the end; until then the provider runs one request fewer.
        this.logger.warn('could not release a provider slot', {
          voiceId: this.voiceId,
          error: describeError(error),
        });
      });
    }
  }

  /**
   * One clone request. When its answer is lost (timeout, dropped connection, 5xx, our own deadline) the
   * provider may still be creating the voice, so this attempt does not try again: the record keeps
   * `cloneOutcomeUnknown` and a later delivery looks for the clone first (see resumeCloning).
   */
  private async clone(providerName: ProviderName, audio: Uint8Array, format: AudioFormat): Promise<void> {
    const provider = this.dependencies.providers[providerName];
    const remaining = this.attempt.context.getRemainingTimeInMillis() - RESULT_WRITE_RESERVE_MS;
    if (remaining <= 1_000) throw new RetryLaterError('provider_timeout', 'Not enough time left to clone.');
    const started = Date.now();
    try {
      const voice = await provider.cloneVoice(
        {
          audio,
          format,
          displayName: this.record.displayName ?? '',
          model: this.record.model ?? provider.limits.models.default,
          language: this.record.language,
          description: this.record.description,
          accent: this.record.accent,
          tags: this.record.tags,
          voiceRecordId: this.voiceId,
        },
        { signal: AbortSignal.timeout(remaining), deadline: Date.now() + remaining },
      );
      this.metrics.providerLatency(providerName, 'clone', Date.now() - started);
      this.logger.info('clone created', {
        voiceId: this.voiceId,
        provider: providerName,
        ms: Date.now() - started,
      });
      if ((await this.settleClone(providerName, voice)) === 'ready') {
        await this.removeStrayClones(provider, voice.providerVoiceId);
      }
    } catch (error) {
      if (!isProviderError(error)) throw error;
      this.logger.warn('clone request failed', {
        voiceId: this.voiceId,
        provider: providerName,
        error: describeError(error),
        ms: Date.now() - started,
      });
      const outcomeUnknown = error.outcomeUnknown || error.kind === 'aborted';
      if (!outcomeUnknown && !error.retryable && !isOperatorFixable(error)) {
        await this.failPermanently(providerFailure(error));
        return;
      }
      // Nothing was created (429 after the client's own retries, a rejected key): the next delivery
      // may clone at once. Otherwise it must look for the clone first, and wait for the provider to
      // finish when no answer came at all.
      await this.setProcessing(
        outcomeUnknown
          ? { cloneOutcomeUnknown: true, cloneAnswerLost: error.statusCode === undefined }
          : { cloneOutcomeUnknown: false, cloneAnswerLost: false },
      );
      throw error;
    }
  }

  /**
   * Smallest tags every clone with the record id: if an earlier request whose answer was lost created a
   * clone after all (later than the grace period allowed for), it is found here and deleted, so the
   * provider never keeps two paid clones for one voice.
   */
  private async removeStrayClones(provider: VoiceProvider, keep: string): Promise<void> {
    if (!this.hadLostAnswer || provider.name !== 'smallest') return;
    try {
      const lookup = await provider.findClone(
        {
          voiceRecordId: this.voiceId,
          displayName: this.record.displayName ?? '',
          model: this.record.model ?? provider.limits.models.default,
          startedAt: new Date(this.record.createdAt),
          knownProviderVoiceIds: [keep],
        },
        { signal: AbortSignal.timeout(10_000) },
      );
      if (lookup.outcome !== 'found') return;
      await provider.deleteVoice(lookup.voice.providerVoiceId, { signal: AbortSignal.timeout(10_000) });
      this.logger.warn('deleted a stray clone from an earlier lost request', {
        voiceId: this.voiceId,
        providerVoiceId: lookup.voice.providerVoiceId,
      });
    } catch (error) {
      this.logger.warn('could not check for stray clones', {
        voiceId: this.voiceId,
        error: describeError(error),
      });
    }
  }

  /**
   * The provider may have created the clone although its answer was lost. Looks for it before any new
   * clone request. True when the record reached a final state (found, or marked for review).
   */
  private async reconcile(providerName: ProviderName): Promise<boolean> {
    const provider = this.dependencies.providers[providerName];
    const hint = await this.cloneHint(providerName);
    const remaining = Math.max(
      1_000,
      this.attempt.context.getRemainingTimeInMillis() - RESULT_WRITE_RESERVE_MS,
    );
    const lookup = await provider.findClone(hint, {
      signal: AbortSignal.timeout(remaining),
      deadline: Date.now() + remaining,
    });
    this.logger.info('reconciled an earlier clone request', {
      voiceId: this.voiceId,
      outcome: lookup.outcome,
    });
    if (lookup.outcome === 'found') {
      await this.settleClone(providerName, lookup.voice);
      return true;
    }
    if (lookup.outcome === 'ambiguous') {
      await this.finish('failed', {
        error: {
          code: 'needs_review',
          message: `An earlier clone request's answer was lost and ${provider.limits.title} cannot tell whether it created the voice (${lookup.reason}). Check the provider's voice list, delete any stray clone, then re-upload.`,
          retryable: false,
        },
      });
      return true;
    }
    await this.setProcessing({ cloneOutcomeUnknown: false });
    return false;
  }

  /** What the provider is asked to recognise this record's clone by (see VoiceProvider.findClone). */
  private async cloneHint(providerName: ProviderName): Promise<CloneHint> {
    const provider = this.dependencies.providers[providerName];
    const displayName = this.record.displayName ?? '';
    return {
      voiceRecordId: this.voiceId,
      displayName,
      model: this.record.model ?? provider.limits.models.default,
      startedAt: new Date(this.record.processing?.cloneStartedAt ?? this.record.createdAt),
      // Typecast matches by name: another voice of ours with the same name is not this clone. (Smallest
      // matches by the record id in the tags and needs no exclusions.)
      knownProviderVoiceIds:
        providerName === 'typecast'
          ? await this.dependencies.voices.knownProviderVoiceIds(providerName, displayName)
          : undefined,
    };
  }

  /**
   * Records what the provider made. A clone the provider is still processing (Smallest may answer
   * `pending` and list it as `processing`) is not usable yet: it is looked up again until it completes,
   * within this invocation's time; then the upload waits in the queue (`clone_processing`) and a later
   * delivery looks again. A clone that ended `failed` is removed and the sample reported.
   */
  private async settleClone(providerName: ProviderName, voice: ClonedVoice): Promise<'ready' | 'failed'> {
    const provider = this.dependencies.providers[providerName];
    let current = voice;
    const timeLeft = () => this.attempt.context.getRemainingTimeInMillis() - RESULT_WRITE_RESERVE_MS;
    for (
      let pollMs = 1_000;
      UNFINISHED_CLONE_STATUSES.has(current.status ?? '');
      pollMs = Math.min(2 * pollMs, 5_000)
    ) {
      if (timeLeft() < pollMs + 1_000) {
        // The next delivery finds the clone by its lookup and settles it then.
        await this.setProcessing({ cloneOutcomeUnknown: true, cloneAnswerLost: false });
        throw new WaitInQueueError(
          'clone_processing',
          `${provider.limits.title} is still processing the clone; it will be checked again shortly.`,
          4 * this.backoff.baseSeconds,
        );
      }
      await sleep(pollMs);
      const remaining = Math.max(1_000, timeLeft());
      const lookup = await provider.findClone(await this.cloneHint(providerName), {
        signal: AbortSignal.timeout(remaining),
        deadline: Date.now() + remaining,
      });
      if (lookup.outcome !== 'found' || lookup.voice.providerVoiceId !== voice.providerVoiceId) {
        throw new RetryLaterError(
          'clone_vanished',
          `${provider.limits.title} no longer lists the clone it was processing; it will be looked for again.`,
        );
      }
      current = { ...voice, status: lookup.voice.status };
    }
    if (current.status === 'failed') {
      await this.rejectFailedClone(provider, current);
      return 'failed';
    }
    await this.markReady(current);
    return 'ready';
  }

  /**
   * The provider answered but says the clone failed (Smallest's `status: "failed"`): nothing usable was
   * made. Its leftover is deleted (best effort, it may hold a clone slot) and the sample is reported.
   */
  private async rejectFailedClone(provider: VoiceProvider, voice: ClonedVoice): Promise<void> {
    try {
      await provider.deleteVoice(voice.providerVoiceId, { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      this.logger.warn('could not delete a failed clone', {
        voiceId: this.voiceId,
        error: describeError(error),
      });
    }
    await this.failPermanently({
      code: 'provider_bad_sample',
      message: `${provider.limits.title} could not clone this sample (the clone ended in status "failed"). Upload a cleaner recording: one speaker, little background noise.`,
      retryable: false,
    });
  }

  private async markReady(voice: ClonedVoice): Promise<void> {
    await this.finish('ready', {
      providerVoiceId: voice.providerVoiceId,
      samples: voice.samples.map((sample) => ({ text: sample.text, audioUrl: sample.audioUrl })),
      model: voice.model || this.record.model,
      error: null,
    });
  }

  private async failPermanently(error: VoiceError): Promise<void> {
    // Only the delivery that recorded the failure gives the claim up: one that lost the lease may be
    // racing another delivery of the same upload that made the voice, whose claim must stay.
    if ((await this.finish('failed', { error })) && this.claimKey) {
      await this.dependencies.voices.releaseClaim(this.claimKey, this.voiceId);
    }
  }

  /**
   * Records a problem that a later delivery may fix, and lets the lease go so that delivery can start at
   * once. On the last delivery the record becomes `failed` (retryable), and the message goes to the DLQ.
   */
  async recordRetryableProblem(cause: unknown): Promise<void> {
    const error: VoiceError =
      cause instanceof VoicedropError
        ? { code: cause.code, message: safeMessage(cause), retryable: true }
        : {
            code: 'internal_error',
            message: 'An internal error interrupted processing; it will be retried.',
            retryable: true,
          };
    // An upload that only waits is requeued as a new message, whatever delivery this was.
    const lastDelivery =
      !(cause instanceof WaitInQueueError) && this.attempt.receiveCount >= this.dependencies.maxReceiveCount;
    try {
      const current = await this.dependencies.voices.get(this.voiceId);
      if (!current || FINAL_STATUSES.has(current.status)) return;
      if (lastDelivery) {
        const failed = await this.finish('failed', {
          error: {
            ...error,
            message: `${error.message} Gave up after ${this.attempt.receiveCount} deliveries; the message is in the dead-letter queue and can be redriven.`,
          },
        });
        if (failed && this.claimKey) await this.dependencies.voices.releaseClaim(this.claimKey, this.voiceId);
      } else {
        await this.dependencies.voices.transition(this.voiceId, {
          from: [current.status],
          to: current.status,
          token: this.token,
          changes: { error },
          releaseLease: true,
          now: this.now(),
        });
      }
    } catch (writeError) {
      // The lease simply runs out; the next delivery takes over then.
      this.logger.error('could not record the retryable problem', {
        voiceId: this.voiceId,
        error: describeError(writeError),
      });
    }
  }

  /** Records a final status; false when the lease was lost, so another delivery decides instead. */
  private async finish(
    to: 'ready' | 'rejected' | 'failed' | 'duplicate',
    changes: Parameters<VoiceRepository['transition']>[1]['changes'],
  ): Promise<boolean> {
    const moved = await this.dependencies.voices.transition(this.voiceId, {
      // Only the statuses this session works in, never one another delivery already finished.
      from: IN_PROGRESS_STATUSES_OF_A_SESSION.filter((from) => mayMove(from, to)),
      to,
      token: this.token,
      changes,
      processing: { cloneOutcomeUnknown: null },
      releaseLease: true,
      now: this.now(),
    });
    if (!moved) {
      this.logger.warn('lost the lease before recording the outcome', { voiceId: this.voiceId, status: to });
      return false;
    }
    this.record = { ...this.record, status: to };
    this.metrics.count(FINAL_STATUS_METRICS[to]);
    this.logger.info('voice status', {
      voiceId: this.voiceId,
      status: to,
      provider: this.record.provider,
      errorCode: (changes?.error as VoiceError | null | undefined)?.code,
    });
    return true;
  }

  private async move(
    from: readonly VoiceRecord['status'][],
    to: VoiceRecord['status'],
    changes: Parameters<VoiceRepository['transition']>[1]['changes'],
    processing?: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const moved = await this.dependencies.voices.transition(this.voiceId, {
      from,
      to,
      token: this.token,
      changes,
      processing,
      now: this.now(),
    });
    if (!moved) throw new RetryLaterError('lease_lost', 'Another delivery took over this upload.');
    this.record = {
      ...this.record,
      ...(changes as Partial<VoiceRecord>),
      status: to,
      processing: { ...this.record.processing, ...processing },
    };
  }

  private async setProcessing(processing: Readonly<Record<string, unknown>>): Promise<void> {
    await this.move([this.record.status], this.record.status, {}, processing);
  }
}

const FINAL_STATUS_METRICS: Readonly<Record<'ready' | 'rejected' | 'failed' | 'duplicate', BusinessMetric>> =
  {
    ready: 'ClonesReady',
    rejected: 'UploadsRejected',
    failed: 'ClonesFailed',
    duplicate: 'UploadsDuplicate',
  };

/** The upload's options from object metadata (keys arrive lower-cased, without `x-amz-meta-`). */
export function readUploadOptions(metadata: Readonly<Record<string, string>>): UploadOptions {
  const read = (name: string): string | undefined => {
    const value = metadata[name];
    return value === undefined ? undefined : decodeMetadataValue(value).trim() || undefined;
  };
  return {
    displayName: read('display-name'),
    language: read('language'),
    model: read('model'),
    accent: read('accent'),
    description: read('description'),
    tags: read('tags'),
  };
}

/** A missing or rejected key is fixed by an operator, not by the uploader: keep the upload for a retry. */
function isOperatorFixable(error: ProviderError): boolean {
  return error.kind === 'auth';
}

function providerFailure(error: ProviderError): VoiceError {
  return { code: error.code, message: safeMessage(error), retryable: false };
}

function safeMessage(error: VoicedropError): string {
  return error.message.slice(0, 1_000);
}

function describeError(error: unknown): Record<string, unknown> {
  if (isProviderError(error)) {
    return {
      name: error.name,
      code: error.code,
      kind: error.kind,
      statusCode: error.statusCode,
      providerCode: error.providerCode,
      retryable: error.retryable,
      message: error.message,
      requestId: error.requestId,
    };
  }
  if (error instanceof VoicedropError) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}

/** Keeps the whole object once read, so validation and cloning download it at most once. */
function cachingSource(
  source: ByteSource & { readonly bytesRead?: number },
): ByteSource & { readonly bytesRead: number } {
  let all: Promise<Uint8Array> | undefined;
  return {
    size: source.size,
    get bytesRead() {
      return source.bytesRead ?? 0;
    },
    read: (start, end) =>
      all ? all.then((bytes) => bytes.subarray(start, Math.min(end, bytes.length))) : source.read(start, end),
    readAll: () => {
      all ??= source.readAll();
      return all;
    },
  };
}

/**
 * Which delivery of its message this is (SQS's ApproximateReceiveCount, from 1). An attribute that is
 * missing or not a whole number counts as a first delivery, never as NaN, which would never reach the
 * last delivery and so never record `failed` before the message moves to the dead-letter queue.
 */
export function receiveCountOf(message: Pick<SQSRecord, 'attributes'>): number {
  const count = Number(message.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}
