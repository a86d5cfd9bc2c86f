// zod's functional build, as in functions/api/schemas.ts.
import * as z from 'zod/mini';
import { VOICE_STATUSES } from '../../functions/shared/voices/status';

/**
 * The API's answer shapes, for the OpenAPI description only (the handler builds answers, it does not parse
 * them). Outside functions/, apart from the request schemas, so that the Lambda bundle neither carries nor
 * builds them: zod schemas are built when their module loads, and these were about a third of the API's.
 */

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }),
});

const sampleSchema = z.object({ text: z.string(), audioUrl: z.string() });

/** The public voice JSON: the record's own attribute names, without internal bookkeeping. */
/** The receipt a deleted voice keeps (README "Voice data"). */
const deletionSchema = z.object({
  reason: z.optional(z.enum(['requested', 'expired', 'consent_revoked'])),
  by: z.optional(z.string()),
  at: z.optional(z.string()),
  provider: z.optional(z.enum(['deleted', 'not_deleted', 'not_applicable'])),
  detail: z.optional(z.string()),
  sourceVersionsDeleted: z.optional(z.number().check(z.int(), z.nonnegative())),
  cachedObjectsDeleted: z.optional(z.number().check(z.int(), z.nonnegative())),
});

export const voiceSchema = z.object({
  voiceId: z.string(),
  status: z.enum(VOICE_STATUSES),
  provider: z.string(),
  providerVoiceId: z.optional(z.string()),
  displayName: z.optional(z.string()),
  language: z.optional(z.string()),
  model: z.optional(z.string()),
  accent: z.optional(z.string()),
  tags: z.optional(z.array(z.string())),
  description: z.optional(z.string()),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.optional(z.string()),
    etag: z.optional(z.string()),
    sha256: z.optional(z.string()),
    bytes: z.number(),
    format: z.optional(z.string()),
    durationSec: z.optional(z.number()),
    sampleRate: z.optional(z.number()),
    channels: z.optional(z.number()),
    quality: z.optional(
      z.union([
        z.object({
          measured: z.literal(true),
          speechSec: z.number(),
          levelDbfs: z.nullable(z.number()),
          peakDbfs: z.nullable(z.number()),
          clippedRatio: z.number(),
          noiseFloorDbfs: z.nullable(z.number()),
          analyzedSec: z.number(),
        }),
        z.object({ measured: z.literal(false), reason: z.string() }),
      ]),
    ),
    trimmed: z.optional(z.object({ startSec: z.number(), endSec: z.number() })),
  }),
  samples: z.optional(z.array(sampleSchema)),
  error: z.optional(
    z.object({
      code: z.string(),
      message: z.string(),
      retryable: z.boolean(),
      issues: z.optional(z.array(z.object({ code: z.string(), message: z.string() }))),
    }),
  ),
  duplicateOf: z.optional(z.string()),
  consentId: z.optional(z.string()),
  deletion: z.optional(deletionSchema),
  usage: z.optional(
    z.object({
      requests: z.number().check(z.int(), z.nonnegative()),
      characters: z.number().check(z.int(), z.nonnegative()),
      providerCharacters: z.number().check(z.int(), z.nonnegative()),
      cacheHits: z.number().check(z.int(), z.nonnegative()),
      lastUsedAt: z.string(),
    }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
  deletedAt: z.optional(z.string()),
});

export const consentVoiceSchema = z.object({
  voiceId: z.string(),
  status: z.string(),
  provider: z.string(),
  createdAt: z.string(),
  deletion: z.optional(deletionSchema),
});

export const consentSchema = z.object({
  consentId: z.string(),
  speakerName: z.string(),
  grantedBy: z.string(),
  purpose: z.string(),
  statement: z.optional(z.string()),
  evidenceKey: z.optional(z.string()),
  expiresAt: z.optional(z.string()),
  createdAt: z.string(),
  createdBy: z.string(),
  revokedAt: z.optional(z.string()),
  revokedBy: z.optional(z.string()),
});

export const consentWithVoicesSchema = z.object({
  ...consentSchema.shape,
  voices: z.array(consentVoiceSchema),
});

/** GET of a deleted voice: the 410 error and the record with its receipt. */
export const deletedVoiceBodySchema = z.object({ ...errorBodySchema.shape, voice: voiceSchema });

export const voiceListSchema = z.object({ items: z.array(voiceSchema), nextCursor: z.nullable(z.string()) });

export const speechUrlResponseSchema = z.object({
  url: z.string(),
  expiresAt: z.string(),
  contentType: z.enum(['audio/wav', 'audio/mpeg']),
  bytes: z.number(),
});

export const uploadResponseSchema = z.object({
  url: z.string(),
  method: z.literal('POST'),
  fields: z.record(z.string(), z.string()),
  key: z.string(),
  expiresAt: z.string(),
  maxBytes: z.number().check(z.int()),
});
