import * as z from 'zod';
import { readJson } from '../http';

/**
 * Typecast request and response bodies (PROVIDERS.md, reference/typecast-instant-cloning.md, and the
 * official SDKs' types for `/v2/voices` and the v30 prompt). Loose objects: unknown fields are kept.
 */

export const TYPECAST_MODELS = ['ssfm-v30', 'ssfm-v21'] as const;
export type TypecastModel = (typeof TYPECAST_MODELS)[number];
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
  loc: z.array(z.union([z.string(), z.number()])).nullish(),
  msg: z.string(),
  type: z.string().nullish(),
});
export type FastApiIssue = z.infer<typeof fastApiIssueSchema>;

export const typecastErrorBodySchema = z.looseObject({
  detail: z.union([z.string(), z.array(fastApiIssueSchema)]).nullish(),
  message: z.string().nullish(),
  error: z.string().nullish(),
  error_code: z.string().nullish(),
});
export type TypecastErrorBody = z.infer<typeof typecastErrorBodySchema>;

/** Any body (empty, HTML from a proxy, JSON of another shape) parsed as far as it matches. */
export function parseTypecastErrorBody(body: Uint8Array): TypecastErrorBody {
  const parsed = typecastErrorBodySchema.safeParse(readJson(body));
  return parsed.success ? parsed.data : {};
}

export const typecastCloneResponseSchema = z.looseObject({
  voice_id: z.string().min(1),
  name: z.string(),
  model: z.string(),
});

/**
 * One voice of `GET /v2/voices`. The SDKs document `voice_id`, `voice_name`, `models[{version,
 * emotions}]`; custom voices are recognised by the `uc_` prefix. Older answers carry `model` and `name`;
 * a creation time is read when present (undocumented).
 */
export const typecastListedVoiceSchema = z.looseObject({
  voice_id: z.string().min(1),
  voice_name: z.string().nullish(),
  name: z.string().nullish(),
  models: z.array(z.looseObject({ version: z.string(), emotions: z.array(z.string()).nullish() })).nullish(),
  model: z.string().nullish(),
  created_at: z.string().nullish(),
  createdAt: z.string().nullish(),
});
export type TypecastListedVoice = z.infer<typeof typecastListedVoiceSchema>;

/** A plain array per the SDKs; a `{ voices, next_cursor }` page per the SDKs' shared mock fixtures. */
export const typecastVoiceListSchema = z.union([
  z.array(typecastListedVoiceSchema),
  z.looseObject({ voices: z.array(typecastListedVoiceSchema), next_cursor: z.string().nullish() }),
]);

const v21PromptSchema = z.strictObject({
  emotion_preset: z.enum(TYPECAST_EMOTION_PRESETS).optional(),
  emotion_intensity: z.number().min(0).max(2).optional(),
});
const presetPromptSchema = z.strictObject({
  emotion_type: z.literal('preset'),
  emotion_preset: z.enum(TYPECAST_EMOTION_PRESETS).optional(),
  emotion_intensity: z.number().min(0).max(2).optional(),
});
const smartPromptSchema = z.strictObject({
  emotion_type: z.literal('smart'),
  previous_text: z.string().max(2000).optional(),
  next_text: z.string().max(2000).optional(),
});

export const typecastOutputSchema = z
  .object({
    volume: z.number().min(0).max(200).optional(),
    target_lufs: z.number().min(-70).max(0).optional(),
    audio_pitch: z.number().int().min(-12).max(12).optional(),
    audio_tempo: z.number().min(0.5).max(2).optional(),
    audio_format: z.enum(TYPECAST_AUDIO_FORMATS).optional(),
  })
  .refine((output) => output.volume === undefined || output.target_lufs === undefined, {
    message: 'volume and target_lufs cannot be used together',
    path: ['target_lufs'],
  });

/** Body of `POST /v1/text-to-speech`; a v30 prompt must say its `emotion_type`. */
export const typecastSpeechRequestSchema = z
  .object({
    voice_id: z.string().min(1),
    text: z.string().min(1).max(TYPECAST_MAX_TEXT_CHARS),
    model: z.enum(TYPECAST_MODELS),
    language: z.string().length(3).optional(),
    prompt: z.union([presetPromptSchema, smartPromptSchema, v21PromptSchema]).optional(),
    output: typecastOutputSchema.optional(),
    seed: z.number().int().optional(),
  })
  .superRefine((body, context) => {
    const prompt = body.prompt;
    if (!prompt) return;
    if (body.model === 'ssfm-v30' && !('emotion_type' in prompt)) {
      context.addIssue({ code: 'custom', path: ['prompt', 'emotion_type'], message: 'Field required' });
    }
  });
export type TypecastSpeechRequest = z.infer<typeof typecastSpeechRequestSchema>;
