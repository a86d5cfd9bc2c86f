import { describeError } from '../shared/logger';
import { noMetrics } from '../shared/metrics';
import type { ProviderName } from '../shared/providers/types';
import { type RetryBackoff, redeliveryPolicy } from '../shared/redelivery-plan';
import { backoffDelayMs } from '../shared/retry';
import { type Attempt, type ClonePipelineDependencies, MINIMUM_TIME_FOR_A_MESSAGE_MS } from './dependencies';
import { ProviderBusyError } from './redelivery-policy';

/**
 * Runs `work` (the clone request and recording its answer) holding one of the provider's slots
 * (functions/shared/providers/slots.ts). Waits for a slot at most slotWaitMs (and never into the time
 * the clone itself needs); then the upload goes back to the queue (ProviderBusyError) with its record
 * unchanged, and nothing was sent to the provider. Without slots configured, `work` just runs.
 */
export async function holdingProviderSlot(
  provider: ProviderName,
  work: () => Promise<void>,
  options: {
    /** Who holds the slot (the record and its lease token). */
    readonly holder: string;
    /** Now on the clock the record's lease is on: both leases end together. */
    readonly now: number;
    readonly attempt: Attempt;
    readonly backoff: RetryBackoff;
    readonly dependencies: Pick<ClonePipelineDependencies, 'slots' | 'slotWaitMs' | 'logger' | 'metrics'>;
  },
): Promise<void> {
  const { slots, slotWaitMs, logger } = options.dependencies;
  if (!slots) return work();
  const remaining = options.attempt.context.getRemainingTimeInMillis();
  const waitMs = Math.min(slotWaitMs ?? 20_000, remaining - MINIMUM_TIME_FOR_A_MESSAGE_MS);
  const slot = await slots.acquire(provider, {
    holder: options.holder,
    now: options.now,
    // A crash or timeout frees the slot when this invocation would have ended anyway.
    leaseUntil: options.now + remaining + 5_000,
    waitMs: Math.max(0, waitMs),
  });
  if (!slot) {
    (options.dependencies.metrics ?? noMetrics).count('ClonesDeferred');
    const delayMs = backoffDelayMs(1, redeliveryPolicy(options.backoff));
    throw new ProviderBusyError(provider, slots.limit(provider), delayMs / 1_000);
  }
  try {
    await work();
  } finally {
    await slots.release(slot).catch((error: unknown) => {
      // The lease frees it in the end; until then the provider runs one request fewer.
      logger.warn('could not release a provider slot', {
        holder: options.holder,
        error: describeError(error),
      });
    });
  }
}
