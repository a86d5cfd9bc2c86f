/**
 * One upload version's way through the pipeline, under the record's lease: validation, the audio claim,
 * the provider slot, the clone request and its outcome, reconciliation of lost answers.
 */

import { createHash } from 'node:crypto';
import type { AudioFormat } from '../shared/audio/types';
import { VoicedropError } from '../shared/errors';
import { describeError, type Log } from '../shared/logger';
import { type BusinessMetric, type MetricsRecorder, noMetrics } from '../shared/metrics';
import { isProviderError } from '../shared/providers/errors';
import type { ClonedVoice, CloneHint, ProviderName, VoiceProvider } from '../shared/providers/types';
import type { RetryBackoff } from '../shared/redelivery-plan';
import { knownProviderOf, type VoiceError, type VoiceRecord } from '../shared/voices/record';
import { audioClaimKey, type VoiceRepository } from '../shared/voices/repository';
import { FINAL_STATUSES, statusesThatMayBecome } from '../shared/voices/status';
import { consentRefusal, deleteIfConsentWithdrawn } from './consent-check';
import { type Attempt, type ClonePipelineDependencies, DEFAULT_LOST_ANSWER_GRACE_MS } from './dependencies';
import {
  isOperatorFixable,
  providerFailure,
  SOURCE_MISSING_FAILURE,
  safeMessage,
  UNREADABLE_KEY_FAILURE,
  unknownProviderFailure,
  validationFailure,
} from './failures';
import { type Inspection, inspectUpload, type Route, readAudioToSend } from './inspect-upload';
import { cloneHintFor, deleteUselessClone, removeStrayClone, waitForCompletion } from './provider-clones';
import { holdingProviderSlot } from './provider-slot';
import { DEFAULT_RETRY_BACKOFF, RetryLaterError, WaitInQueueError } from './redelivery-policy';
import { hasUnreadableKey } from './s3-events';

/** An upload that passed every check: its inspection, with the provider, model and format it clones with. */
type AcceptedUpload = Extract<Inspection, { outcome: 'inspected' }> & {
  readonly provider: ProviderName;
  readonly resolved: NonNullable<Extract<Inspection, { outcome: 'inspected' }>['resolved']>;
  readonly format: AudioFormat;
};

/** Time kept back from the Lambda's deadline to record the outcome after a provider call. */
const RESULT_WRITE_RESERVE_MS = 15_000;

export class UploadSession {
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

  /** Validates a new upload; one that passes is claimed and cloned under a provider slot. */
  async validateAndClone(route: Route): Promise<void> {
    await this.move(statusesThatMayBecome('validating'), 'validating', { error: null });
    const accepted = await this.acceptUpload(route);
    if (!accepted) return;
    // A missing key is an operator's fix: find out before claiming the audio or calling anybody.
    await this.dependencies.keys.supplier(accepted.provider)();
    // The whole sample is read only once a provider slot is held: however many uploads a batch holds,
    // an invocation keeps at most as many samples in memory as it has clone requests in flight.
    await this.withProviderSlot(accepted.provider, () => this.claimAndClone(accepted));
  }

  /**
   * Checks the upload (its key, its object, its consent, its audio against the provider's rules) and
   * finishes it as `rejected` or `failed` with every reason; what may be cloned otherwise.
   */
  private async acceptUpload(route: Route): Promise<AcceptedUpload | undefined> {
    if (hasUnreadableKey(this.record.source.key)) {
      await this.finish('rejected', { error: UNREADABLE_KEY_FAILURE });
      return undefined;
    }
    const inspection = await inspectUpload(this.record, route, this.dependencies);
    if (inspection.outcome === 'missing') {
      await this.finish('failed', { error: SOURCE_MISSING_FAILURE });
      return undefined;
    }
    if (inspection.outcome === 'refused') {
      await this.finish('rejected', { consentId: inspection.consentId, error: inspection.error });
      return undefined;
    }
    const { report, resolved, facts, descriptive } = inspection;
    if (!report.ok || route.kind !== 'upload' || !resolved) {
      await this.finish('rejected', {
        ...descriptive,
        source: facts,
        error: validationFailure(report.errors),
      });
      return undefined;
    }
    return { ...inspection, provider: route.provider, resolved, format: report.format as AudioFormat };
  }

  /** Under a provider slot: claims the audio (a byte-identical upload is a duplicate), then clones it. */
  private async claimAndClone(accepted: AcceptedUpload): Promise<void> {
    const { provider, resolved, facts, descriptive, byteSource } = accepted;
    // A trimmed sample is sent (and recognised as a duplicate) by its cut.
    const audio = accepted.audio ?? (await byteSource.readAll());
    const sha256 = createHash('sha256').update(audio).digest('hex');
    const withHash = { ...facts, sha256 };
    const claimKey = audioClaimKey(provider, resolved.model, resolved.language, sha256);
    const claim = await this.dependencies.voices.claimAudio(claimKey, this.voiceId, this.now());
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
      [this.record.status],
      'cloning',
      { ...descriptive, source: withHash },
      {
        claimKey,
        cloneStartedAt: this.now().toISOString(),
        cloneOutcomeUnknown: true,
        cloneAnswerLost: true,
      },
    );
    await this.clone(provider, audio, accepted.format);
  }

  /** A previous attempt was cloning when it stopped (crash, timeout or a retryable provider error). */
  async resumeCloning(): Promise<void> {
    const provider = knownProviderOf(this.record);
    // Only a voice with a provider voicedrop serves is ever cloning; anything else is a damaged record.
    if (!provider) return this.failPermanently(unknownProviderFailure(this.record.provider));
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
    // The consent may have been revoked since the first attempt: no new clone request then.
    const refused = this.record.consentId && (await consentRefusal(this.record.consentId, this.dependencies));
    if (refused) return this.failPermanently(refused);
    const source = this.record.source;
    await this.withProviderSlot(provider, async () => {
      const audio = await readAudioToSend(this.dependencies.s3, source);
      await this.move(
        [this.record.status],
        'cloning',
        {},
        {
          cloneStartedAt: this.now().toISOString(),
          cloneOutcomeUnknown: true,
          cloneAnswerLost: true,
          processingProviderVoiceId: null,
        },
      );
      await this.clone(provider, audio, source.format as AudioFormat);
    });
  }

  /**
   * Runs `work` (the clone request and recording its answer) holding one of the provider's slots. Waits
   * for a slot at most slotWaitMs (and never into the time the clone itself needs); then the upload goes
   * back to the queue (ProviderBusyError) with its record unchanged, and nothing was sent to the provider.
   */
  private withProviderSlot(provider: ProviderName, work: () => Promise<void>): Promise<void> {
    return holdingProviderSlot(provider, work, {
      holder: `${this.voiceId}#${this.token}`,
      now: this.now().getTime(),
      attempt: this.attempt,
      backoff: this.backoff,
      dependencies: this.dependencies,
    });
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
      await this.settleClone(providerName, voice);
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

  /**
   * Records what the provider made. A clone the provider is still processing (Smallest may answer
   * `pending` and list it as `processing`) is not usable yet: it is looked up again until it completes,
   * within this invocation's time; then the upload waits in the queue (`clone_processing`) and a later
   * delivery looks again. A clone that ended `failed` is removed and the sample reported.
   */
  private async settleClone(providerName: ProviderName, voice: ClonedVoice): Promise<void> {
    const provider = this.dependencies.providers[providerName];
    const completion = await waitForCompletion(
      provider,
      voice,
      () => this.cloneHint(providerName),
      () => this.attempt.context.getRemainingTimeInMillis() - RESULT_WRITE_RESERVE_MS,
    );
    if (completion.outcome === 'still_processing') {
      // The next delivery finds the clone by its id (a stray beside it cannot hide it) and settles it then.
      await this.setProcessing({
        cloneOutcomeUnknown: true,
        cloneAnswerLost: false,
        processingProviderVoiceId: voice.providerVoiceId,
      });
      throw new WaitInQueueError(
        'clone_processing',
        `${provider.limits.title} is still processing the clone; it will be checked again shortly.`,
        4 * this.backoff.baseSeconds,
      );
    }
    if (completion.outcome === 'vanished') {
      throw new RetryLaterError(
        'clone_vanished',
        `${provider.limits.title} no longer lists the clone it was processing; it will be looked for again.`,
      );
    }
    if (completion.voice.state === 'failed') {
      await this.rejectFailedClone(provider, completion.voice);
      return;
    }
    await this.markReady(completion.voice);
    // An earlier request whose answer was lost may have made a second clone after all (a tag tells).
    if (this.hadLostAnswer && provider.limits.cloneLookup === 'tag') {
      await removeStrayClone(provider, this.record, completion.voice.providerVoiceId, this.logger);
    }
  }

  private cloneHint(providerName: ProviderName): Promise<CloneHint> {
    const provider = this.dependencies.providers[providerName];
    return cloneHintFor(this.record, providerName, provider, this.dependencies.voices);
  }

  /**
   * The provider answered but says the clone failed (Smallest's `status: "failed"`): nothing usable was
   * made. Its leftover is deleted (best effort, it may hold a clone slot) and the sample is reported.
   */
  private async rejectFailedClone(provider: VoiceProvider, voice: ClonedVoice): Promise<void> {
    await deleteUselessClone(provider, voice, this.voiceId, this.logger);
    await this.failPermanently({
      code: 'provider_bad_sample',
      message: `${provider.limits.title} could not clone this sample (the clone ended in status "failed"). Upload a cleaner recording: one speaker, little background noise.`,
      retryable: false,
    });
  }

  private async markReady(voice: ClonedVoice): Promise<void> {
    const ready = await this.finish('ready', {
      providerVoiceId: voice.providerVoiceId,
      samples: voice.samples.map((sample) => ({ text: sample.text, audioUrl: sample.audioUrl })),
      model: voice.model || this.record.model,
      error: null,
    });
    // A consent revoked while the clone was made: the voice goes at once (see consent-check.ts).
    if (ready) await deleteIfConsentWithdrawn(this.record, this.dependencies);
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
      // Only the work in progress that may end so (status.test.ts), never one another delivery finished.
      from: statusesThatMayBecome(to),
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
      // How many deliveries took the lease to get here (1 unless redelivered).
      attempts: this.record.processing?.attempts,
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
