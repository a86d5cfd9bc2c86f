/**
 * The clone pipeline's consent checks: an upload must name a valid consent (when consent is required, or
 * whenever it names one) before its audio is read or any provider is called; and a clone that was in flight
 * when its consent was revoked never stays `ready`.
 */

import { consentProblem, consentProblemMessage } from '../shared/consents/record';
import { ConsentRepository } from '../shared/consents/repository';
import { describeError } from '../shared/logger';
import { noMetrics } from '../shared/metrics';
import { deleteVoice } from '../shared/voices/deletion';
import type { VoiceError, VoiceRecord } from '../shared/voices/record';
import type { ClonePipelineDependencies } from './dependencies';

type ConsentCheckDependencies = Pick<
  ClonePipelineDependencies,
  'consents' | 'consentRequired' | 'voices' | 'now'
>;

function ledger(dependencies: ConsentCheckDependencies): ConsentRepository {
  return dependencies.consents ?? ConsentRepository.beside(dependencies.voices);
}

/** The rejection an upload gets for its consent, or undefined when it may be cloned. */
export async function consentRefusal(
  consentId: string | undefined,
  dependencies: ConsentCheckDependencies,
): Promise<VoiceError | undefined> {
  if (consentId === undefined) {
    if (!dependencies.consentRequired) return undefined;
    return refusal(
      'consent_required',
      "This deployment clones only with the speaker's consent on record: create one with POST /consents and upload again with its id in the consent-id metadata (or consentId in POST /uploads).",
    );
  }
  const now = dependencies.now?.() ?? new Date();
  const problem = consentProblem(await ledger(dependencies).get(consentId), now);
  return problem ? refusal('consent_invalid', consentProblemMessage(consentId, problem)) : undefined;
}

/**
 * Just after a voice became `ready`: when its consent was revoked (or expired) meanwhile, the voice is
 * deleted everywhere at once. A revocation sets `revokedAt` before it lists the consent's voices, so either
 * it sees this voice `ready` and deletes it, or this read (after the `ready` write) sees `revokedAt`.
 * True when the voice was deleted.
 */
export async function deleteIfConsentWithdrawn(
  record: VoiceRecord,
  dependencies: ClonePipelineDependencies,
): Promise<boolean> {
  if (!record.consentId) return false;
  const now = dependencies.now ?? (() => new Date());
  const problem = consentProblem(await ledger(dependencies).get(record.consentId), now());
  if (!problem) return false;
  try {
    await deleteVoice(
      record.voiceId,
      { reason: problem === 'revoked' ? 'consent_revoked' : 'expired', by: 'consent' },
      {
        ...dependencies,
        bucket: record.source.bucket,
        metrics: dependencies.metrics ?? noMetrics,
        now,
      },
    );
  } catch (error) {
    // The revocation's own pass, a second revocation call or the retention sweep deletes it then.
    dependencies.logger.error('could not delete a voice whose consent was withdrawn while cloning', {
      voiceId: record.voiceId,
      error: describeError(error),
    });
    return false;
  }
  dependencies.logger.info('voice deleted: its consent was withdrawn while it was cloned', {
    voiceId: record.voiceId,
    consentId: record.consentId,
  });
  return true;
}

function refusal(code: string, message: string): VoiceError {
  return { code, message, retryable: false, issues: [{ code, message }] };
}
