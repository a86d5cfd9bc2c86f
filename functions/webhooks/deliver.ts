import { Webhook } from 'standardwebhooks';
import { errorMessage } from '../shared/errors';
import { parseRetryAfter } from '../shared/retry';

/** How long one delivery may take before it counts as a timeout (and is retried). */
export const WEBHOOK_REQUEST_TIMEOUT_MS = 10_000;

export type DeliveryOutcome =
  | { readonly kind: 'delivered'; readonly statusCode: number }
  /** Timeouts, network errors, 429 and 5xx: sent again later under the same webhook-id. */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  /** Any other answer (4xx, a redirect): retrying would not change it; dead-lettered at once. */
  | { readonly kind: 'refused'; readonly reason: string };

export interface WebhookRequest {
  readonly url: string;
  /** `whsec_…` (Standard Webhooks): the endpoint's signing secret. */
  readonly secret: string;
  /** The event id: the same on every attempt, so receivers can drop duplicates. */
  readonly webhookId: string;
  readonly body: string;
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

/**
 * One signed POST per the Standard Webhooks specification: `webhook-id`, `webhook-timestamp` (this
 * attempt's time, so a retry is never stale) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of
 * `id.timestamp.body`, by the `standardwebhooks` package). Redirects are not followed; the request ends
 * after `timeoutMs`.
 */
export async function deliverWebhook(request: WebhookRequest): Promise<DeliveryOutcome> {
  const at = (request.now ?? (() => new Date()))();
  const signature = new Webhook(request.secret).sign(request.webhookId, at, request.body);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'voicedrop-webhooks',
        'webhook-id': request.webhookId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1_000)),
        'webhook-signature': signature,
      },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs ?? WEBHOOK_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    return { kind: 'retry', reason: timedOut ? 'timeout' : `network: ${messageWithCause(error)}` };
  }
  // The answer's body is not needed; reading it to the end frees the connection.
  await response.arrayBuffer().catch(() => undefined);
  const statusCode = response.status;
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode };
  if (statusCode === 429 || statusCode >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    return {
      kind: 'retry',
      reason: `HTTP ${statusCode}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  return { kind: 'refused', reason: `HTTP ${statusCode}` };
}

/** fetch's own message says only "fetch failed": the cause says why (ECONNREFUSED, a TLS error). */
function messageWithCause(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? `${errorMessage(error)} (${cause.message})` : errorMessage(error);
}
