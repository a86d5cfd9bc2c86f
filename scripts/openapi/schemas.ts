// zod's functional build, as in functions/api/schemas.ts.
import type * as z from 'zod/mini';
import {
  consentIdSchema,
  consentRequestSchema,
  listVoicesQuerySchema,
  MAX_SPEECH_CHARACTERS,
  speechRequestSchema,
  uploadRequestSchema,
  voiceIdSchema,
} from '../../functions/api/schemas';
import {
  consentSchema,
  consentWithVoicesSchema,
  deletedVoiceBodySchema,
  errorBodySchema,
  speechUrlResponseSchema,
  uploadResponseSchema,
  voiceListSchema,
  voiceSchema,
} from './response-schemas';

/**
 * The schemas the OpenAPI document names (`components.schemas`), and what it says of each zod schema beyond
 * what the converter reads off it.
 */

/** Request shapes, converted with zod's `input` view. */
export const REQUEST_SCHEMAS = {
  VoiceId: voiceIdSchema,
  SpeechRequest: speechRequestSchema,
  UploadRequest: uploadRequestSchema,
  ConsentId: consentIdSchema,
  ConsentRequest: consentRequestSchema,
} as const satisfies Record<string, z.core.$ZodType>;

/** Answer shapes, converted with zod's `output` view. */
export const RESPONSE_SCHEMAS = {
  Voice: voiceSchema,
  VoiceList: voiceListSchema,
  SpeechUrlResponse: speechUrlResponseSchema,
  UploadResponse: uploadResponseSchema,
  Consent: consentSchema,
  ConsentWithVoices: consentWithVoicesSchema,
  ErrorBody: errorBodySchema,
  DeletedVoiceBody: deletedVoiceBodySchema,
} as const satisfies Record<string, z.core.$ZodType>;

export type SchemaName = keyof typeof REQUEST_SCHEMAS | keyof typeof RESPONSE_SCHEMAS;

/** What the OpenAPI document says of a zod schema beyond what the converter reads off it. */
export interface SchemaNote {
  readonly description?: string;
  /**
   * The JSON Schema of the schema's zod refinements (`.refine`), which the converter cannot see: without it
   * the document would accept what the handler refuses. A test checks the two agree.
   */
  readonly refinement?: Record<string, unknown>;
}

const speech = speechRequestSchema.shape;
const upload = uploadRequestSchema.shape;
const query = listVoicesQuerySchema.shape;

/** Descriptions (and the refinements' JSON Schema), keyed by the zod schema they belong to. */
export const SCHEMA_NOTES: ReadonlyMap<z.core.$ZodType, SchemaNote> = new Map<z.core.$ZodType, SchemaNote>([
  [voiceIdSchema, { description: 'A voice id: `vc_` followed by 26 lowercase base32 characters.' }],
  [
    speech.text,
    {
      description:
        `The text to speak: not only whitespace, at most ${MAX_SPEECH_CHARACTERS.toLocaleString('en-US')} characters (Unicode code ` +
        'points). Text longer than one provider request is split at sentence, then word, boundaries, and the ' +
        'audio joined.',
      refinement: { pattern: '\\S', maxLength: MAX_SPEECH_CHARACTERS },
    },
  ],
  [speech.format, { description: 'The audio format: `wav` (`audio/wav`) or `mp3` (`audio/mpeg`).' }],
  [
    speech.language,
    {
      description:
        'The language of the text: Smallest takes ISO 639-1 codes or `auto`, Typecast ISO 639-3 (two-letter ' +
        "codes are mapped). Defaults to the voice's language.",
    },
  ],
  [speech.speed, { description: 'Speaking rate; 1 is normal.' }],
  [speech.sampleRate, { description: 'Sample rate of the audio in Hz (Smallest only).' }],
  [
    speech.delivery,
    {
      description:
        '`inline`: the audio is the answer (a 303 to a stored copy when it is larger than a response can ' +
        'carry, about 4.4 MB); `url`: the audio is stored and the answer is JSON with a short-lived URL.',
    },
  ],
  [
    upload.fileName,
    {
      description: "The object's name under `incoming/<provider>/`: a plain file name, no folders.",
      refinement: { not: { enum: ['.', '..'] } },
    },
  ],
  [upload.provider, { description: "The provider to clone with; defaults to the deployment's default." }],
  [upload.displayName, { description: "The voice's name; defaults to one made from the file name." }],
  [upload.language, { description: 'The language the voice speaks.' }],
  [upload.model, { description: "The provider's model; defaults to the deployment's default for it." }],
  [upload.accent, { description: 'Accent (Typecast).' }],
  [upload.description, { description: 'A free-text description of the voice.' }],
  [upload.tags, { description: 'Tags: a comma-separated string or a list.' }],
  [
    upload.sizeBytes,
    { description: "The file's size: checked against the provider's limit before a URL is issued." },
  ],
  [
    upload.contentType,
    { description: 'The Content-Type the PUT will send (it becomes part of the signature).' },
  ],
  [
    query.status,
    { description: 'Only voices in this status. Deleted voices are listed only with `status=deleted`.' },
  ],
  [query.provider, { description: 'Only voices of this provider.' }],
  [query.limit, { description: 'Voices per page.' }],
  [query.cursor, { description: 'The `nextCursor` of the previous page.' }],
  [voiceSchema, { description: "A voice: the record's own attribute names, without internal bookkeeping." }],
  [voiceListSchema, { description: 'One page of voices, newest first.' }],
  [
    deletedVoiceBodySchema,
    { description: 'A deleted voice: the `voice_deleted` error and the record with its deletion receipt.' },
  ],
  [voiceListSchema.shape.nextCursor, { description: 'The cursor of the next page; null on the last page.' }],
  [
    speechUrlResponseSchema,
    {
      description:
        'Stored speech audio: a presigned GET URL, valid for a short time (15 minutes by default).',
    },
  ],
  [
    uploadResponseSchema,
    {
      description:
        'A presigned upload form: POST `fields` as given, then the file as `file`, to `url` before ' +
        '`expiresAt`; S3 refuses a file larger than `maxBytes` (or, with `sizeBytes`, of another size).',
    },
  ],
  [errorBodySchema, { description: 'Every error answer, from the handler and from API Gateway alike.' }],
  [errorBodySchema.shape.error.shape.code, { description: 'What went wrong, e.g. `voice_not_found`.' }],
  [
    errorBodySchema.shape.error.shape.retryable,
    { description: 'Whether the same request may succeed if sent again later.' },
  ],
]);
