import { consentProblem, consentProblemMessage } from '../shared/consents/record';
import type { ConsentRepository } from '../shared/consents/repository';
import { ApiError } from './errors';

/**
 * POST /uploads refuses at once what the pipeline would reject: no consent when one is required, or a
 * consent that is unknown, revoked or expired. The pipeline checks again when the audio arrives.
 */
export async function checkUploadConsent(
  consentId: string | undefined,
  required: boolean,
  consents: ConsentRepository,
  now: Date,
): Promise<void> {
  if (consentId === undefined) {
    if (!required) return;
    throw new ApiError(
      422,
      'consent_required',
      "consentId: this deployment clones only with the speaker's consent on record; create one with POST /consents.",
    );
  }
  const problem = consentProblem(await consents.get(consentId), now);
  if (problem) throw new ApiError(422, 'consent_invalid', consentProblemMessage(consentId, problem));
}
