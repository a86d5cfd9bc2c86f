import * as z from 'zod/mini';
import { readJson } from '../http';
import '../../zod-messages';

/**
 * Smallest AI Waves request and response bodies (docs/providers.md#smallest-ai-waves).
 * Loose objects throughout: the provider adds fields without notice, and an unknown field must never
 * turn a successful clone into an error.
 */

export const SMALLEST_SAMPLE_RATES = [8000, 16000, 24000, 44100] as const;
export const SMALLEST_OUTPUT_FORMATS = ['pcm', 'wav', 'mp3', 'ulaw', 'alaw'] as const;
/** Model names as the unified speech route spells them (underscores, unlike the clone route). */
export const SMALLEST_SPEECH_MODELS = ['lightning_v3.1', 'lightning_v3.1_pro'] as const;
export const SMALLEST_DEFAULT_SAMPLE_RATE = 44_100;

/** One zod issue as the provider sends it inside `{ error: [...] }`. */
export const smallestIssueSchema = z.looseObject({
  code: z.nullish(z.string()),
  path: z.nullish(z.array(z.union([z.string(), z.number()]))),
  message: z.string(),
});

export const smallestErrorBodySchema = z.looseObject({
  error: z.nullish(z.union([z.string(), z.array(smallestIssueSchema)])),
  message: z.nullish(z.string()),
  error_code: z.nullish(z.string()),
  status: z.nullish(z.string()),
});
export type SmallestErrorBody = z.infer<typeof smallestErrorBodySchema>;

/** Any body (empty, HTML from a proxy, JSON of another shape) parsed as far as it matches. */
export function parseSmallestErrorBody(body: Uint8Array): SmallestErrorBody {
  const parsed = smallestErrorBodySchema.safeParse(readJson(body));
  return parsed.success ? parsed.data : {};
}

const sampleSchema = z.looseObject({ text: z.string(), audioUrl: z.string() });

/** `model` is a plain name on some answers and the internal model document on others. */
export const smallestModelSchema = z.union([
  z.string(),
  z.looseObject({ _id: z.nullish(z.string()), modelName: z.string() }),
]);

export const smallestCloneResponseSchema = z.looseObject({
  message: z.nullish(z.string()),
  data: z.looseObject({
    voiceId: z.string().check(z.minLength(1)),
    displayName: z.string(),
    status: z.nullish(z.string()),
    language: z.nullish(z.string()),
    model: z.nullish(smallestModelSchema),
    audioFileNames: z.nullish(z.array(z.string())),
    createdAt: z.nullish(z.string()),
    organizationId: z.nullish(z.string()),
    tags: z.nullish(z.array(z.string())),
    samples: z.nullish(z.array(sampleSchema)),
  }),
});

export const smallestListedCloneSchema = z.looseObject({
  _id: z.nullish(z.string()),
  voiceId: z.string().check(z.minLength(1)),
  displayName: z.string(),
  description: z.nullish(z.string()),
  accent: z.nullish(z.string()),
  tags: z.nullish(z.array(z.string())),
  language: z.nullish(z.string()),
  status: z.nullish(z.string()),
  cloningType: z.nullish(z.string()),
  modelIds: z.nullish(z.array(z.string())),
  createdAt: z.nullish(z.string()),
});
export type SmallestListedClone = z.infer<typeof smallestListedCloneSchema>;

export const smallestCloneListSchema = z.looseObject({ data: z.array(smallestListedCloneSchema) });

/** Body of `POST /waves/v1/tts` and (without `model`) of `POST /waves/v1/<model>/get_speech`. */
export const smallestSpeechRequestSchema = z.object({
  text: z.string().check(z.minLength(1)),
  voice_id: z.string().check(z.minLength(1)),
  model: z.optional(z.enum(SMALLEST_SPEECH_MODELS)),
  sample_rate: z.optional(z.literal(SMALLEST_SAMPLE_RATES)),
  speed: z.optional(z.number().check(z.gte(0.5), z.lte(2))),
  language: z.optional(z.string()),
  output_format: z.optional(z.enum(SMALLEST_OUTPUT_FORMATS)),
});
export type SmallestSpeechRequest = z.infer<typeof smallestSpeechRequestSchema>;
