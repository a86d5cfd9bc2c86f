/**
 * The consent ledger's API: record a speaker's consent, read it with the voices cloned under it, revoke it
 * (which deletes every one of those voices everywhere, through the one deletion routine).
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type ConsentRecord, newConsentId } from '../shared/consents/record';
import type { ConsentRepository } from '../shared/consents/repository';
import { describeError } from '../shared/logger';
import { type DeleteDependencies, deleteVoice } from '../shared/voices/deletion';
import type { VoiceRecord } from '../shared/voices/record';
import { DELETED_STATUSES, IN_PROGRESS_STATUSES } from '../shared/voices/status';
import { ApiError } from './errors';
import type { ConsentRequestBody } from './schemas';

export interface ConsentDependencies extends DeleteDependencies {
  readonly consents: ConsentRepository;
}

/** A voice as a consent lists it: enough to follow it up with GET /voices/{voiceId}. */
export interface ConsentVoice {
  readonly voiceId: string;
  readonly status: VoiceRecord['status'];
  readonly provider: VoiceRecord['provider'];
  readonly createdAt: string;
  readonly deletion?: VoiceRecord['deletion'];
}

export async function createConsent(
  request: ConsentRequestBody,
  principal: string,
  dependencies: ConsentDependencies,
): Promise<ConsentRecord> {
  const now = dependencies.now();
  if (request.expiresAt !== undefined && Date.parse(request.expiresAt) <= now.getTime()) {
    throw new ApiError(400, 'invalid_request', 'expiresAt: must be in the future');
  }
  if (request.evidenceKey !== undefined) await requireEvidence(request.evidenceKey, dependencies);
  const consent: ConsentRecord = {
    consentId: newConsentId(),
    speakerName: request.speakerName,
    grantedBy: request.grantedBy,
    purpose: request.purpose,
    ...(request.statement === undefined ? {} : { statement: request.statement }),
    ...(request.evidenceKey === undefined ? {} : { evidenceKey: request.evidenceKey }),
    ...(request.expiresAt === undefined ? {} : { expiresAt: new Date(request.expiresAt).toISOString() }),
    createdAt: now.toISOString(),
    createdBy: principal,
  };
  // 130 random bits: a collision is not expected, but the conditional create would refuse to overwrite it.
  if (!(await dependencies.consents.create(consent))) {
    throw new ApiError(409, 'consent_exists', 'A consent with this id exists already; try again.', {
      retryable: true,
    });
  }
  dependencies.logger.info('consent recorded', { consentId: consent.consentId, by: principal });
  return consent;
}

export async function readConsent(
  consentId: string,
  dependencies: Pick<ConsentDependencies, 'consents'>,
): Promise<ConsentRecord & { voices: ConsentVoice[] }> {
  const consent = await dependencies.consents.get(consentId);
  if (!consent) throw new ApiError(404, 'consent_not_found', `No consent ${consentId}.`);
  const voices = await dependencies.consents.voices(consentId);
  return { ...consent, voices: voices.map(consentVoice) };
}

/**
 * Sets `revokedAt` (once), then deletes every voice cloned under the consent. A voice the pipeline is still
 * working on is left to its upload session, which reads the consent again after recording `ready` and
 * deletes the voice itself; a voice that could not be deleted now (a provider outage) is deleted by the next
 * revocation call or by the retention sweep, which deletes every voice of a revoked consent.
 */
export async function revokeConsent(
  consentId: string,
  principal: string,
  dependencies: ConsentDependencies,
): Promise<ConsentRecord & { voices: ConsentVoice[] }> {
  const consent = await dependencies.consents.revoke(consentId, principal, dependencies.now());
  if (!consent) throw new ApiError(404, 'consent_not_found', `No consent ${consentId}.`);
  const listed = await dependencies.consents.voices(consentId);
  const voices: ConsentVoice[] = [];
  for (const voice of listed) voices.push(await deleteUnderRevokedConsent(voice, dependencies));
  dependencies.logger.info('consent revoked', {
    consentId,
    by: principal,
    voices: voices.length,
    notDeleted: voices.filter((voice) => voice.status !== 'deleted').length,
  });
  return { ...consent, voices };
}

async function deleteUnderRevokedConsent(
  listed: VoiceRecord,
  dependencies: ConsentDependencies,
): Promise<ConsentVoice> {
  if (listed.status === 'deleted') return consentVoice(listed);
  try {
    const deleted = await deleteVoice(
      listed.voiceId,
      { reason: 'consent_revoked', by: 'consent' },
      dependencies,
    );
    return consentVoice(deleted);
  } catch (error) {
    const current = (await dependencies.voices.get(listed.voiceId)) ?? listed;
    if (!IN_PROGRESS_STATUSES.has(current.status) && !DELETED_STATUSES.has(current.status)) {
      dependencies.logger.error('could not delete a voice of a revoked consent', {
        voiceId: listed.voiceId,
        error: describeError(error),
      });
    }
    return consentVoice(current);
  }
}

function consentVoice(record: VoiceRecord): ConsentVoice {
  return {
    voiceId: record.voiceId,
    status: record.status,
    provider: record.provider,
    createdAt: record.createdAt,
    ...(record.deletion ? { deletion: record.deletion } : {}),
  };
}

async function requireEvidence(key: string, dependencies: ConsentDependencies): Promise<void> {
  try {
    await dependencies.s3.send(new HeadObjectCommand({ Bucket: dependencies.bucket, Key: key }));
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || status === 403 || (error as { name?: string }).name === 'NotFound') {
      throw new ApiError(
        422,
        'evidence_not_found',
        `evidenceKey: no object ${key} in the bucket; upload the statement there first.`,
      );
    }
    throw error;
  }
}
