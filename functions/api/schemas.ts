// A namespace import lets the bundler drop what is unused (the named `z` pulls in every locale).
import * as z from 'zod';
import { PROVIDER_NAMES } from '../shared/providers/types';
import { VOICE_ID_PATTERN, VOICE_STATUSES } from '../shared/voices/record';

/**
 * The API's request and response shapes: the handler validates with these, and the same schemas feed the
 * API Gateway request models and the OpenAPI description, so the three cannot drift apart.
 */

/** Characters (Unicode code points) one speech request may carry; longer text is split into provider calls. */
export const MAX_SPEECH_CHARACTERS = 5_000;
export const SPEECH_SAMPLE_RATES = [8_000, 16_000, 24_000, 44_100] as const;

const codePoints = (text: string) => [...text].length;

export const voiceIdSchema = z
  .string()
  .regex(VOICE_ID_PATTERN, 'must be vc_ followed by 26 lowercase base32 characters');

export const speechRequestSchema = z.strictObject({
  text: z
    .string()
    .refine((text) => text.trim().length > 0, 'must not be empty')
    .refine(
      (text) => codePoints(text) <= MAX_SPEECH_CHARACTERS,
      `must be at most ${MAX_SPEECH_CHARACTERS} characters`,
    ),
  format: z.enum(['wav', 'mp3']).default('wav'),
  /** Smallest: ISO 639-1 or `auto`; Typecast: ISO 639-3 (two-letter codes are mapped). */
  language: z
    .string()
    .regex(/^(auto|[a-z]{2,3})$/, 'must be a language code such as "en", "eng" or "auto"')
    .optional(),
  speed: z.number().min(0.5).max(2).optional(),
  sampleRate: z.literal(SPEECH_SAMPLE_RATES).optional(),
  /** `inline`: the audio is the response body; `url`: stored under speech/ and returned as a short-lived URL. */
  delivery: z.enum(['inline', 'url']).default('inline'),
});
export type SpeechRequestBody = z.infer<typeof speechRequestSchema>;

const FILE_NAME_PATTERN = /^[^/\\\p{Cc}]+$/u;

export const uploadRequestSchema = z.strictObject({
  /** The object's name under incoming/<provider>/ (no folders). */
  fileName: z
    .string()
    .min(1)
    .max(255)
    .regex(FILE_NAME_PATTERN, 'must be a plain file name without slashes or control characters')
    .refine((name) => name !== '.' && name !== '..', 'must be a file name'),
  provider: z.enum(PROVIDER_NAMES).optional(),
  displayName: z.string().min(1).max(500).optional(),
  language: z.string().max(16).optional(),
  model: z.string().max(64).optional(),
  accent: z.string().max(100).optional(),
  description: z.string().max(1_000).optional(),
  tags: z.union([z.string().max(1_000), z.array(z.string().max(100)).max(50)]).optional(),
  /** When given, checked against the provider's size limit before a URL is issued. */
  sizeBytes: z.number().int().min(0).optional(),
  contentType: z.string().max(100).optional(),
});
export type UploadRequestBody = z.infer<typeof uploadRequestSchema>;

export const listVoicesQuerySchema = z.strictObject({
  status: z.enum(VOICE_STATUSES).optional(),
  provider: z.enum(PROVIDER_NAMES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(2_048).optional(),
});
export type ListVoicesQuery = z.infer<typeof listVoicesQuerySchema>;

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});

const sampleSchema = z.object({ text: z.string(), audioUrl: z.string() });

/** The public voice JSON: the record's own attribute names, without internal bookkeeping. */
export const voiceSchema = z.object({
  voiceId: z.string(),
  status: z.enum(VOICE_STATUSES),
  provider: z.string(),
  providerVoiceId: z.string().optional(),
  displayName: z.string().optional(),
  language: z.string().optional(),
  model: z.string().optional(),
  accent: z.string().optional(),
  tags: z.array(z.string()).optional(),
  description: z.string().optional(),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.string().optional(),
    etag: z.string().optional(),
    sha256: z.string().optional(),
    bytes: z.number(),
    format: z.string().optional(),
    durationSec: z.number().optional(),
    sampleRate: z.number().optional(),
    channels: z.number().optional(),
  }),
  samples: z.array(sampleSchema).optional(),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
  duplicateOf: z.string().optional(),
  deletion: z
    .object({ provider: z.enum(['deleted', 'not_deleted', 'not_applicable']), detail: z.string().optional() })
    .optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.string().optional(),
});

export const voiceListSchema = z.object({ items: z.array(voiceSchema), nextCursor: z.string().nullable() });

export const speechUrlResponseSchema = z.object({
  url: z.string(),
  expiresAt: z.string(),
  contentType: z.enum(['audio/wav', 'audio/mpeg']),
  bytes: z.number(),
});

export const uploadResponseSchema = z.object({
  url: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
  key: z.string(),
  expiresAt: z.string(),
});
