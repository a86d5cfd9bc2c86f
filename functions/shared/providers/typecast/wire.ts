import * as z from 'zod/mini';
import { readJson } from '../http';
import '../../zod-messages';

/**
 * Typecast request and response bodies (docs/providers.md#typecast: the guide, the API reference and the
 * official SDKs' types for `/v2/voices` and the v30 prompt). Loose objects: unknown fields are kept.
 */

export const TYPECAST_MODELS = ['ssfm-v30', 'ssfm-v21'] as const;
export const TYPECAST_AUDIO_FORMATS = ['wav', 'mp3'] as const;
export const TYPECAST_EMOTION_PRESETS = [
  'normal',
  'happy',
  'sad',
  'angry',
  'whisper',
  'toneup',
  'tonedown',
] as const;
export const TYPECAST_MAX_TEXT_CHARS = 2000;

/** One FastAPI validation issue inside `{ detail: [...] }`. */
export const fastApiIssueSchema = z.looseObject({
  loc: z.nullish(z.array(z.union([z.string(), z.number()]))),
  msg: z.string(),
  type: z.nullish(z.string()),
});
export type FastApiIssue = z.infer<typeof fastApiIssueSchema>;

export const typecastErrorBodySchema = z.looseObject({
  detail: z.nullish(z.union([z.string(), z.array(fastApiIssueSchema)])),
  message: z.nullish(z.string()),
  error: z.nullish(z.string()),
  error_code: z.nullish(z.string()),
});
export type TypecastErrorBody = z.infer<typeof typecastErrorBodySchema>;

/** Any body (empty, HTML from a proxy, JSON of another shape) parsed as far as it matches. */
export function parseTypecastErrorBody(body: Uint8Array): TypecastErrorBody {
  const parsed = typecastErrorBodySchema.safeParse(readJson(body));
  return parsed.success ? parsed.data : {};
}

export const typecastCloneResponseSchema = z.looseObject({
  voice_id: z.string().check(z.minLength(1)),
  name: z.string(),
  model: z.string(),
});

/**
 * One voice of `GET /v2/voices`. The SDKs document `voice_id`, `voice_name`, `models[{version,
 * emotions}]`; custom voices are recognised by the `uc_` prefix. Older answers carry `model` and `name`;
 * a creation time is read when present (undocumented).
 */
export const typecastListedVoiceSchema = z.looseObject({
  voice_id: z.string().check(z.minLength(1)),
  voice_name: z.nullish(z.string()),
  name: z.nullish(z.string()),
  models: z.nullish(
    z.array(z.looseObject({ version: z.string(), emotions: z.nullish(z.array(z.string())) })),
  ),
  model: z.nullish(z.string()),
  created_at: z.nullish(z.string()),
  createdAt: z.nullish(z.string()),
});
export type TypecastListedVoice = z.infer<typeof typecastListedVoiceSchema>;

/** A plain array per the SDKs; a `{ voices, next_cursor }` page per the SDKs' shared mock fixtures. */
export const typecastVoiceListSchema = z.union([
  z.array(typecastListedVoiceSchema),
  z.looseObject({ voices: z.array(typecastListedVoiceSchema), next_cursor: z.nullish(z.string()) }),
]);

const v21PromptSchema = z.strictObject({
  emotion_preset: z.optional(z.enum(TYPECAST_EMOTION_PRESETS)),
  emotion_intensity: z.optional(z.number().check(z.gte(0), z.lte(2))),
});
const presetPromptSchema = z.strictObject({
  emotion_type: z.literal('preset'),
  emotion_preset: z.optional(z.enum(TYPECAST_EMOTION_PRESETS)),
  emotion_intensity: z.optional(z.number().check(z.gte(0), z.lte(2))),
});
const smartPromptSchema = z.strictObject({
  emotion_type: z.literal('smart'),
  previous_text: z.optional(z.string().check(z.maxLength(2000))),
  next_text: z.optional(z.string().check(z.maxLength(2000))),
});

export const typecastOutputSchema = z
  .object({
    volume: z.optional(z.number().check(z.gte(0), z.lte(200))),
    target_lufs: z.optional(z.number().check(z.gte(-70), z.lte(0))),
    audio_pitch: z.optional(z.number().check(z.int(), z.gte(-12), z.lte(12))),
    audio_tempo: z.optional(z.number().check(z.gte(0.5), z.lte(2))),
    audio_format: z.optional(z.enum(TYPECAST_AUDIO_FORMATS)),
  })
  .check(
    z.refine((output) => output.volume === undefined || output.target_lufs === undefined, {
      message: 'volume and target_lufs cannot be used together',
      path: ['target_lufs'],
    }),
  );

/** Body of `POST /v1/text-to-speech`; a v30 prompt must say its `emotion_type`. */
export const typecastSpeechRequestSchema = z
  .object({
    voice_id: z.string().check(z.minLength(1)),
    text: z.string().check(z.minLength(1), z.maxLength(TYPECAST_MAX_TEXT_CHARS)),
    model: z.enum(TYPECAST_MODELS),
    language: z.optional(z.string().check(z.length(3))),
    prompt: z.optional(z.union([presetPromptSchema, smartPromptSchema, v21PromptSchema])),
    output: z.optional(typecastOutputSchema),
    seed: z.optional(z.number().check(z.int())),
  })
  .check(
    z.superRefine((body, context) => {
      const prompt = body.prompt;
      if (!prompt) return;
      if (body.model === 'ssfm-v30' && !('emotion_type' in prompt)) {
        context.addIssue({ code: 'custom', path: ['prompt', 'emotion_type'], message: 'Field required' });
      }
    }),
  );
export type TypecastSpeechRequest = z.infer<typeof typecastSpeechRequestSchema>;
