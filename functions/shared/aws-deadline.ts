import { AsyncLocalStorage } from 'node:async_hooks';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context } from 'aws-lambda';

/**
 * Every AWS call a Lambda makes ends by the invocation's deadline, not by the function's timeout. A
 * handler runs its work inside `withinInvocationDeadline`; the SDK clients built with
 * `DeadlineBoundHttpHandler` pass that deadline to every request as its `abortSignal` (combined with
 * one the caller gave), retries included: a hung S3 or DynamoDB connection fails the call with the SDK's
 * `AbortError` while there is still time to record the outcome and answer, instead of Lambda killing the
 * invocation mid-batch. Outside such a scope (tests, scripts) calls carry only their own signal.
 */
const invocationDeadline = new AsyncLocalStorage<AbortSignal>();

/**
 * Runs `work` with AWS calls bounded by the invocation's remaining time less `reserveMs` (what the code
 * after `work` needs: recording outcomes, the redelivery calls, the answer).
 */
export function withinInvocationDeadline<T>(
  context: Pick<Context, 'getRemainingTimeInMillis'>,
  reserveMs: number,
  work: () => Promise<T>,
): Promise<T> {
  return withinDeadline(Date.now() + context.getRemainingTimeInMillis() - reserveMs, work);
}

/** Runs `work` with AWS calls bounded by an absolute deadline (epoch ms). */
export function withinDeadline<T>(deadlineMs: number, work: () => Promise<T>): Promise<T> {
  return invocationDeadline.run(AbortSignal.timeout(Math.max(0, deadlineMs - Date.now())), work);
}

/** The deadline signal of the invocation scope the caller runs in, if any. */
export function currentInvocationDeadline(): AbortSignal | undefined {
  return invocationDeadline.getStore();
}

type HandlerOptions = NonNullable<Parameters<NodeHttpHandler['handle']>[1]>;

/** The SDK's Node.js HTTP handler, with the invocation's deadline added to every request it sends. */
export class DeadlineBoundHttpHandler extends NodeHttpHandler {
  override handle(
    request: Parameters<NodeHttpHandler['handle']>[0],
    options: HandlerOptions = {},
  ): ReturnType<NodeHttpHandler['handle']> {
    const deadline = currentInvocationDeadline();
    if (!deadline) return super.handle(request, options);
    const own = options.abortSignal as AbortSignal | undefined;
    const abortSignal = own ? AbortSignal.any([deadline, own]) : deadline;
    return super.handle(request, { ...options, abortSignal });
  }
}
