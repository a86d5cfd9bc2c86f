// zod's functional build: a schema carries no method for every other kind of schema, so a bundle keeps only
// the kinds used (about 20 KB instead of 95 KB). A namespace import lets the bundler drop what is unused.
import * as z from 'zod/mini';

import { CONSENT_ID_PATTERN } from '../shared/consents/record';
import { CONSENT_EVIDENCE_PREFIX } from '../shared/contract';
import { PROVIDER_NAMES } from '../shared/providers/types';
import { TRIM_MODES } from '../shared/validation/options';
import '../shared/zod-messages';
import { VOICE_ID_PATTERN } from '../shared/voices/record';
import { VOICE_STATUSES } from '../shared/voices/status';

/**
 * The API's request shapes: the handler validates with these, and the same schemas feed the API Gateway
 * request models and the OpenAPI description, so the three cannot drift apart. Answer shapes, which only the
 * description needs, are in scripts/openapi/response-schemas.ts, outside the Lambda code.
 */

/** Characters (Unicode code points) one speech request may carry; longer text is split into provider calls. */
export const MAX_SPEECH_CHARACTERS = 5_000;
export const SPEECH_SAMPLE_RATES = [8_000, 16_000, 24_000, 44_100] as const;

const codePoints = (text: string) => [...text].length;

export const voiceIdSchema = z
  .string()
  .check(z.regex(VOICE_ID_PATTERN, 'must be vc_ followed by 26 lowercase base32 characters'));

export const speechRequestSchema = z.strictObject({
  text: z.string().check(
    z.refine((text) => text.trim().length > 0, 'must not be empty'),
    z.refine(
      (text) => codePoints(text) <= MAX_SPEECH_CHARACTERS,
      `must be at most ${MAX_SPEECH_CHARACTERS} characters`,
    ),
  ),
  format: z._default(z.enum(['wav', 'mp3']), 'wav'),
  /** Smallest: ISO 639-1 or `auto`; Typecast: ISO 639-3 (two-letter codes are mapped). */
  language: z.optional(
    z.string().check(z.regex(/^(auto|[a-z]{2,3})$/, 'must be a language code such as "en", "eng" or "auto"')),
  ),
  speed: z.optional(z.number().check(z.gte(0.5), z.lte(2))),
  sampleRate: z.optional(z.literal(SPEECH_SAMPLE_RATES)),
  /** `inline`: the audio is the response body; `url`: stored under speech/ and returned as a short-lived URL. */
  delivery: z._default(z.enum(['inline', 'url']), 'inline'),
  /** False: neither read nor write the synthesis cache (every piece is synthesized again). */
  cache: z._default(z.boolean(), true),
});
export type SpeechRequestBody = z.infer<typeof speechRequestSchema>;

export const consentIdSchema = z
  .string()
  .check(z.regex(CONSENT_ID_PATTERN, 'must be cs_ followed by 26 lowercase base32 characters'));

const EVIDENCE_KEY_PATTERN = new RegExp(`^${CONSENT_EVIDENCE_PREFIX}[^\\p{Cc}]+$`, 'u');

export const consentRequestSchema = z.strictObject({
  /** Whose voice may be cloned. */
  speakerName: z.string().check(z.minLength(1), z.maxLength(200)),
  /** Who gave the release: the speaker, or their legally authorised representative. */
  grantedBy: z.string().check(z.minLength(1), z.maxLength(200)),
  /** What the voice may be used for, as the release says. */
  purpose: z.string().check(z.minLength(1), z.maxLength(1_000)),
  /** The release's wording, when given in text. */
  statement: z.optional(z.string().check(z.minLength(1), z.maxLength(10_000))),
  /** An object below consents/ in the bucket (a recorded or signed statement), uploaded beforehand. */
  evidenceKey: z.optional(
    z
      .string()
      .check(
        z.maxLength(1_024),
        z.regex(EVIDENCE_KEY_PATTERN, `must be an object key below ${CONSENT_EVIDENCE_PREFIX}`),
      ),
  ),
  /** When the release ends (ISO 8601 with time zone); after it no upload is covered and its voices are deleted. */
  expiresAt: z.optional(z.iso.datetime({ offset: true })),
});
export type ConsentRequestBody = z.infer<typeof consentRequestSchema>;

const FILE_NAME_PATTERN = /^[^/\\\p{Cc}]+$/u;
/** S3's variable for the form's file name in a POST policy key: "${filename}". */
export const POST_FILENAME_VARIABLE = `$${'{filename}'}`;

export const uploadRequestSchema = z.strictObject({
  /** The object's name under incoming/<provider>/ (no folders). */
  fileName: z.string().check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(FILE_NAME_PATTERN, 'must be a plain file name without slashes or control characters'),
    z.refine((name) => name !== '.' && name !== '..', 'must be a file name'),
    // In a POST policy's key, S3 replaces this variable with the name the form sends: the key would not be ours.
    z.refine(
      (name) => !name.includes(POST_FILENAME_VARIABLE),
      `must not contain "${POST_FILENAME_VARIABLE}"`,
    ),
  ),
  provider: z.optional(z.enum(PROVIDER_NAMES)),
  displayName: z.optional(z.string().check(z.minLength(1), z.maxLength(500))),
  language: z.optional(z.string().check(z.maxLength(16))),
  model: z.optional(z.string().check(z.maxLength(64))),
  accent: z.optional(z.string().check(z.maxLength(100))),
  description: z.optional(z.string().check(z.maxLength(1_000))),
  tags: z.optional(
    z.union([
      z.string().check(z.maxLength(1_000)),
      z.array(z.string().check(z.maxLength(100))).check(z.maxLength(50)),
    ]),
  ),
  /**
   * When given, checked against the provider's size limit before a URL is issued, and the upload must be
   * exactly this size; without it, anything from 1 byte to the provider's limit.
   */
  sizeBytes: z.optional(z.number().check(z.int(), z.gte(0))),
  /** `auto`: a sample longer than the provider's window is cut to its best window of speech (default: the stack's). */
  trim: z.optional(z.enum(TRIM_MODES)),
  contentType: z.optional(z.string().check(z.maxLength(100))),
  /** The speaker's consent on record (POST /consents); required when the stack requires consent. */
  consentId: z.optional(consentIdSchema),
});
export type UploadRequestBody = z.infer<typeof uploadRequestSchema>;

export const listVoicesQuerySchema = z.strictObject({
  status: z.optional(z.enum(VOICE_STATUSES)),
  provider: z.optional(z.enum(PROVIDER_NAMES)),
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(2_048))),
});
