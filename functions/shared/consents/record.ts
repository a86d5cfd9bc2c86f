/**
 * The consent ledger's record: a speaker's release to have their voice cloned, kept in the voices table
 * under its own id prefix (`cs_…`) and without the list-index attribute, so lists, events and the retention
 * sweep never take it for a voice. Created once, never overwritten; revocation is the only change.
 */
import { randomBytes } from 'node:crypto';

export interface ConsentRecord {
  readonly consentId: string;
  /** Whose voice may be cloned. */
  readonly speakerName: string;
  /** Who gave the release (the speaker, or their legally authorised representative). */
  readonly grantedBy: string;
  /** What the voice may be used for, as the release says. */
  readonly purpose: string;
  /** The release's wording, when it was given in text. */
  readonly statement?: string;
  /** An object below consents/ in the bucket: the recorded or signed statement. */
  readonly evidenceKey?: string;
  /** After this the consent no longer covers new uploads, and its voices are deleted by the retention sweep. */
  readonly expiresAt?: string;
  readonly createdAt: string;
  /** Who recorded it (the caller's IAM principal; `local` in local mode). */
  readonly createdBy: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
}

/** Why a consent does not cover an upload or a voice at a given time. */
export type ConsentProblem = 'unknown' | 'revoked' | 'expired';

/** Every consent id, and so every consent item's key, starts with this (the API's PutItem grant relies on it). */
export const CONSENT_ID_PREFIX = 'cs_';

export const CONSENT_ID_PATTERN = new RegExp(`^${CONSENT_ID_PREFIX}[a-z2-7]{26}$`);

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** `cs_` + 26 random lowercase base32 characters (130 bits). */
export function newConsentId(): string {
  const bytes = randomBytes(26);
  let id = CONSENT_ID_PREFIX;
  for (const byte of bytes) id += BASE32_ALPHABET[byte & 31];
  return id;
}

/** Undefined when the consent covers cloning at `now`; otherwise what is wrong with it. */
export function consentProblem(consent: ConsentRecord | undefined, now: Date): ConsentProblem | undefined {
  if (!consent) return 'unknown';
  if (consent.revokedAt) return 'revoked';
  if (consent.expiresAt && Date.parse(consent.expiresAt) <= now.getTime()) return 'expired';
  return undefined;
}

/** The sentence a rejected upload carries for a consent problem. */
export function consentProblemMessage(consentId: string, problem: ConsentProblem): string {
  switch (problem) {
    case 'unknown':
      return `Consent ${consentId} is not on record; record the speaker's consent with POST /consents and upload again naming the consentId it returns.`;
    case 'revoked':
      return `Consent ${consentId} was revoked; no voice may be cloned under it.`;
    case 'expired':
      return `Consent ${consentId} has expired; record a new consent and upload again naming it.`;
  }
}
