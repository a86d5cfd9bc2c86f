import * as z from 'zod';
import { readJson } from '../http';

/**
 * Smallest AI Waves request and response bodies (PROVIDERS.md, reference/smallest-instant-clone-api.md).
 * Loose objects throughout: the provider adds fields without notice, and an unknown field must never
 * turn a successful clone into an error.
 */

export const SMALLEST_SAMPLE_RATES = [8000, 16000, 24000, 44100] as const;
export const SMALLEST_OUTPUT_FORMATS = ['pcm', 'wav', 'mp3', 'ulaw', 'alaw'] as const;
/** Model names as the unified speech route spells them (underscores, unlike the clone route). */
export const SMALLEST_SPEECH_MODELS = ['lightning_v3.1', 'lightning_v3.1_pro'] as const;
export const SMALLEST_DEFAULT_SAMPLE_RATE = 44_100;

/** Languages `lightning-v3.1` clones and speaks (clone-time validation; speech also takes `auto`). */
export const SMALLEST_LANGUAGES = [
  'en',
  'hi',
  'mr',
  'kn',
  'ta',
  'bn',
  'gu',
  'te',
  'ml',
  'pa',
  'or',
  'es',
  'de',
  'fr',
  'it',
  'pl',
  'nl',
  'ru',
  'ar',
  'he',
  'sv',
  'pt',
  'ja',
  'ko',
  'zh',
  'multi',
] as const;

/** One zod issue as the provider sends it inside `{ error: [...] }`. */
export const smallestIssueSchema = z.looseObject({
  code: z.string().nullish(),
  path: z.array(z.union([z.string(), z.number()])).nullish(),
  message: z.string(),
});

export const smallestErrorBodySchema = z.looseObject({
  error: z.union([z.string(), z.array(smallestIssueSchema)]).nullish(),
  message: z.string().nullish(),
  error_code: z.string().nullish(),
  status: z.string().nullish(),
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
  z.looseObject({ _id: z.string().nullish(), modelName: z.string() }),
]);

export const smallestCloneResponseSchema = z.looseObject({
  message: z.string().nullish(),
  data: z.looseObject({
    voiceId: z.string().min(1),
    displayName: z.string(),
    status: z.string().nullish(),
    language: z.string().nullish(),
    model: smallestModelSchema.nullish(),
    audioFileNames: z.array(z.string()).nullish(),
    createdAt: z.string().nullish(),
    organizationId: z.string().nullish(),
    tags: z.array(z.string()).nullish(),
    samples: z.array(sampleSchema).nullish(),
  }),
});
export type SmallestCloneResponse = z.infer<typeof smallestCloneResponseSchema>;

export const smallestListedCloneSchema = z.looseObject({
  _id: z.string().nullish(),
  voiceId: z.string().min(1),
  displayName: z.string(),
  description: z.string().nullish(),
  accent: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  language: z.string().nullish(),
  status: z.string().nullish(),
  cloningType: z.string().nullish(),
  modelIds: z.array(z.string()).nullish(),
  createdAt: z.string().nullish(),
});
export type SmallestListedClone = z.infer<typeof smallestListedCloneSchema>;

export const smallestCloneListSchema = z.looseObject({ data: z.array(smallestListedCloneSchema) });

/** Body of `POST /waves/v1/tts` and (without `model`) of `POST /waves/v1/<model>/get_speech`. */
export const smallestSpeechRequestSchema = z.object({
  text: z.string().min(1),
  voice_id: z.string().min(1),
  model: z.enum(SMALLEST_SPEECH_MODELS).optional(),
  sample_rate: z.literal(SMALLEST_SAMPLE_RATES).optional(),
  speed: z.number().min(0.5).max(2).optional(),
  language: z.string().optional(),
  output_format: z.enum(SMALLEST_OUTPUT_FORMATS).optional(),
});
export type SmallestSpeechRequest = z.infer<typeof smallestSpeechRequestSchema>;

/** Body of both delete routes. */
export const smallestDeleteRequestSchema = z.object({ voiceId: z.string().min(1) });
