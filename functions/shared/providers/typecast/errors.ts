import { ProviderError } from '../errors';
import { type FailedResponse, failureDetails, statusError } from '../http';
import { TYPECAST_LIMITS } from './limits';
import { parseTypecastErrorBody, type TypecastErrorBody } from './wire';

const TITLE = TYPECAST_LIMITS.title;

/** The provider's own words, read as `message ?? error ?? detail` (detail may be a FastAPI issue list). */
export function typecastErrorMessage(body: TypecastErrorBody): string | undefined {
  const message = body.message ?? body.error ?? undefined;
  if (message && message.trim() !== '') return message.trim();
  if (typeof body.detail === 'string' && body.detail.trim() !== '') return body.detail.trim();
  if (Array.isArray(body.detail) && body.detail.length > 0) {
    return body.detail
      .map((issue) => {
        // FastAPI prefixes every location with where it came from ("body", "query"): not useful to a person.
        const location = (issue.loc ?? []).filter(
          (part, index) => !(index === 0 && typeof part === 'string' && part === 'body'),
        );
        return location.length > 0 ? `${location.join('.')}: ${issue.msg}` : issue.msg;
      })
      .join('; ');
  }
  return undefined;
}

/** Clone rejections about the audio itself: a different sample is the fix, retrying is not. */
const SAMPLE_PROBLEMS: readonly { readonly pattern: RegExp; readonly message: string }[] = [
  {
    pattern: /file size exceeds/i,
    message: `The sample is larger than ${TITLE} accepts (${TYPECAST_LIMITS.maxBytes / 1024 / 1024} MB).`,
  },
  {
    pattern: /duration is below minimum/i,
    message: `The sample is shorter than ${TITLE} accepts (at least ${TYPECAST_LIMITS.minDurationSec} s of speech).`,
  },
  {
    pattern: /duration exceeds maximum/i,
    message: `The sample is longer than ${TITLE} accepts (at most ${TYPECAST_LIMITS.maxDurationSec} s).`,
  },
  {
    pattern: /failed to read audio metadata/i,
    message: `${TITLE} could not read the sample; upload a plain WAV or MP3 file.`,
  },
];

/** Status and body of a failed Typecast call → the vendor-independent error. */
export function mapTypecastError(failure: FailedResponse): ProviderError {
  const body = parseTypecastErrorBody(failure.body);
  const said = typecastErrorMessage(body);
  const details = { ...failureDetails('typecast', failure), providerCode: body.error_code ?? undefined };
  // The provider's sentence is quoted inside ours, which ends with its own period: drop the provider's.
  const sentence = said?.replace(/\.+$/u, '') || undefined;
  const quoted = sentence ? `: ${sentence}` : '';
  const status = failure.status;

  if (status === 400 && said) {
    const problem = SAMPLE_PROBLEMS.find((candidate) => candidate.pattern.test(said));
    if (problem) return new ProviderError({ ...details, kind: 'bad_sample', message: problem.message });
  }
  if (status === 402) {
    return new ProviderError({
      ...details,
      kind: 'quota_exceeded',
      message: `The ${TITLE} account is out of credits; top up or upgrade the plan, then try again.`,
    });
  }
  if (status === 403) {
    if (said && /slot/i.test(said)) {
      return new ProviderError({
        ...details,
        kind: 'quota_exceeded',
        message: `Every ${TITLE} custom voice slot is in use: delete voices you no longer need, or upgrade the plan.`,
      });
    }
    return new ProviderError({
      ...details,
      kind: 'forbidden',
      message:
        failure.operation === 'clone'
          ? `${TITLE} refused to clone${quoted}. Voice cloning needs a plan that includes it and a free custom voice slot: upgrade, or delete an unused voice.`
          : `${TITLE} refused the request${quoted}.`,
    });
  }
  if (status === 404) {
    return new ProviderError({
      ...details,
      kind: 'not_found',
      message: `${TITLE} does not know this voice (it may have been deleted)${quoted}.`,
    });
  }
  return statusError(details, TITLE, sentence);
}
