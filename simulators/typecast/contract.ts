import * as z from 'zod';

/**
 * Typecast as its documents describe it (docs/providers.md#typecast): the simulator's own copy of the
 * limits and request shapes, kept apart from the client's `wire.ts` and `limits.ts` on purpose, so that a
 * mistake in the client is caught by the simulator instead of mirrored by it.
 */

/** docs/providers.md#typecast-clone: `file`, `name`, `model`. */
export const CLONE_MAX_FILE_BYTES = 25 * 1024 * 1024;
export const CLONE_MIN_DURATION_SEC = 5;
export const CLONE_MAX_DURATION_SEC = 150;
export const CLONE_NAME_MIN_CODE_POINTS = 1;
export const CLONE_NAME_MAX_CODE_POINTS = 30;
export const MODELS = ['ssfm-v30', 'ssfm-v21'] as const;
export type Model = (typeof MODELS)[number];
/** What a seeded clone is bound to when the seed does not say (the guide's example model). */
export const SEED_DEFAULT_MODEL: Model = 'ssfm-v30';

/** docs/providers.md#typecast-clone: the documented `detail` messages. */
export const CLONE_ERRORS = {
  fileTooLarge: 'File size exceeds maximum limit',
  tooShort: 'Audio duration is below minimum',
  tooLong: 'Audio duration exceeds maximum',
  unreadable: 'Failed to read audio metadata',
  notOnPlan: 'Voice cloning is not available on your plan',
} as const;

/** docs/providers.md#typecast-speech: presets per model. */
export const EMOTIONS: Readonly<Record<Model, readonly string[]>> = {
  'ssfm-v21': ['normal', 'happy', 'sad', 'angry'],
  'ssfm-v30': ['normal', 'happy', 'sad', 'angry', 'whisper', 'toneup', 'tonedown'],
};
const EMOTION_PRESETS = ['normal', 'happy', 'sad', 'angry', 'whisper', 'toneup', 'tonedown'] as const;

/** docs/providers.md#typecast-speech: 44.1 kHz mono 16-bit. */
export const SPEECH_SAMPLE_RATE = 44_100;
export const SPEECH_MAX_TEXT_CODE_POINTS = 2000;
/** docs/providers.md#typecast-concurrency: the Free plan. */
export const CONCURRENCY_FREE_PLAN = 2;

/** One FastAPI validation issue, as in `{ "detail": [...] }`. */
export interface FastApiIssue {
  readonly type: string;
  readonly loc: readonly (string | number)[];
  readonly msg: string;
}

const intensity = z.number().min(0).max(2).optional();
const promptSchema = z.union([
  z.strictObject({
    emotion_type: z.literal('preset'),
    emotion_preset: z.enum(EMOTION_PRESETS).optional(),
    emotion_intensity: intensity,
  }),
  z.strictObject({
    emotion_type: z.literal('smart'),
    previous_text: z.string().max(2000).optional(),
    next_text: z.string().max(2000).optional(),
  }),
  // ssfm-v21's prompt, which has no emotion_type.
  z.strictObject({ emotion_preset: z.enum(EMOTION_PRESETS).optional(), emotion_intensity: intensity }),
]);

const outputSchema = z
  .object({
    volume: z.number().min(0).max(200).optional(),
    target_lufs: z.number().min(-70).max(0).optional(),
    audio_pitch: z.number().int().min(-12).max(12).optional(),
    audio_tempo: z.number().min(0.5).max(2).optional(),
    audio_format: z.enum(['wav', 'mp3']).optional(),
  })
  .refine((output) => output.volume === undefined || output.target_lufs === undefined, {
    message: 'volume and target_lufs cannot be used together',
    path: ['target_lufs'],
  });

/** docs/providers.md#typecast-speech: the body of `POST /v1/text-to-speech`. */
export const speechRequestSchema = z
  .object({
    voice_id: z.string().min(1),
    // Python counts code points, not UTF-16 units.
    text: z
      .string()
      .refine((text) => [...text].length >= 1, 'String should have at least 1 character')
      .refine(
        (text) => [...text].length <= SPEECH_MAX_TEXT_CODE_POINTS,
        `String should have at most ${SPEECH_MAX_TEXT_CODE_POINTS} characters`,
      ),
    model: z.enum(MODELS),
    language: z.string().length(3).optional(),
    prompt: promptSchema.optional(),
    output: outputSchema.optional(),
    seed: z.number().int().optional(),
  })
  .superRefine((body, context) => {
    if (body.model === 'ssfm-v30' && body.prompt && !('emotion_type' in body.prompt)) {
      context.addIssue({ code: 'custom', path: ['prompt', 'emotion_type'], message: 'Field required' });
    }
  });
export type SpeechRequestBody = z.infer<typeof speechRequestSchema>;

/** A zod failure as FastAPI reports it: every issue, located under `body`. */
export function fastApiIssues(error: z.ZodError): FastApiIssue[] {
  return error.issues.map((issue) => ({
    type: issue.code,
    loc: ['body', ...issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part))],
    msg: issue.message,
  }));
}
