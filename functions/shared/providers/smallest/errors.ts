import { ProviderError } from '../errors';
import { type FailedResponse, failureDetails, statusError } from '../http';
import { SMALLEST_LIMITS } from './limits';
import { parseSmallestErrorBody, type SmallestErrorBody } from './wire';

const TITLE = SMALLEST_LIMITS.title;

/** The provider's own words: `error` as a string or zod issues, then `message`. */
export function smallestErrorMessage(body: SmallestErrorBody): string | undefined {
  const parts: string[] = [];
  if (typeof body.error === 'string' && body.error.trim() !== '') parts.push(body.error.trim());
  if (Array.isArray(body.error)) {
    for (const issue of body.error) {
      const path = issue.path?.length ? `${issue.path.join('.')}: ` : '';
      parts.push(`${path}${issue.message}`);
    }
  }
  if (body.message && body.message.trim() !== '' && !parts.includes(body.message.trim())) {
    parts.push(body.message.trim());
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** Status and body of a failed Smallest call → the vendor-independent error. */
export function mapSmallestError(failure: FailedResponse): ProviderError {
  const body = parseSmallestErrorBody(failure.body);
  const said = smallestErrorMessage(body);
  const providerCode = body.error_code ?? undefined;
  const details = { ...failureDetails('smallest', failure), providerCode };
  // The provider's sentence is quoted inside ours, which ends with its own period: drop the provider's.
  const sentence = said?.replace(/\.+$/u, '') || undefined;
  const quoted = sentence ? `: ${sentence}` : '';
  const status = failure.status;

  if (providerCode === 'voice_clone_timeout') {
    return new ProviderError({
      ...details,
      kind: 'unavailable',
      retryable: true,
      message: `${TITLE} timed out while preparing the clone; try again later.`,
    });
  }
  if (providerCode === 'voice_clone_error') {
    return new ProviderError({
      ...details,
      kind: 'bad_sample',
      retryable: false,
      message: `${TITLE} could not clone a voice from this sample; try a cleaner sample (one speaker, no music or noise, 5–15 s).`,
    });
  }
  if (providerCode === 'MODEL_DEPRECATED' || status === 410) {
    return new ProviderError({
      ...details,
      kind: 'gone',
      message: `${TITLE} has retired this route or model${quoted}.`,
    });
  }
  if (status === 400 && said && /clone limit exceeded/i.test(said)) {
    return new ProviderError({
      ...details,
      kind: 'quota_exceeded',
      message: `${TITLE} clone limit reached: delete clones you no longer need, or upgrade the Smallest plan, then try again.`,
    });
  }
  if (status === 400 && said && /invalid voice id/i.test(said)) {
    return new ProviderError({
      ...details,
      kind: 'not_found',
      message: `${TITLE} does not know this voice (it may have been deleted)${quoted}.`,
    });
  }
  return statusError(details, TITLE, sentence);
}
