import * as z from 'zod';

/**
 * Smallest AI Waves as its documents describe it (docs/providers.md#smallest-ai-waves): the simulator's own
 * copy of the limits and request shapes, kept apart from the client's `wire.ts` and `limits.ts` on purpose,
 * so that a mistake in the client is caught by the simulator instead of mirrored by it.
 */

/** docs/providers.md#smallest-clone: the `file` field. */
export const CLONE_MAX_FILE_BYTES = 5 * 1024 * 1024;
export const CLONE_MIN_DURATION_SEC = 5;
export const CLONE_MAX_DURATION_SEC = 15;
export const CLONE_ACCEPTED_MIME_TYPES: readonly string[] = [
  'audio/mpeg',
  'audio/wav',
  'audio/wave',
  'audio/webm',
  'video/webm',
  'audio/mp4',
  'video/mp4',
];

/** docs/providers.md#smallest-clone: `displayName`, 1–500 characters. */
export const displayNameSchema = z.string().min(1).max(500);

/** docs/providers.md#smallest-clone: the `model` field and what each answers. */
export const CLONE_DEFAULT_MODEL = 'lightning-v3.1';
export const CLONE_MODELS: readonly string[] = ['lightning-v3.1', 'lightning-v3.1-pro'];
export const CLONE_DEPRECATED_MODELS: Readonly<Record<string, string>> = {
  'lightning-v2': 'Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1',
};

/** docs/providers.md#smallest-clone: the languages of `lightning-v3.1`. */
export const LANGUAGES: readonly string[] =
  'en hi mr kn ta bn gu te ml pa or es de fr it pl nl ru ar he sv pt ja ko zh multi'.split(' ');

/** docs/providers.md#smallest-clone: the documented error messages. */
export const CLONE_ERRORS = {
  noFile: 'No file provided',
  limitExceeded: 'clone limit exceeded, consider upgrading',
  timeout: 'Preprocessing or sample generation exceeded the timeout',
  badSample: 'Model returned an error while processing the sample',
} as const;

/** docs/providers.md#smallest-clone: a clone's `status`. */
export const CLONE_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export type CloneStatus = (typeof CLONE_STATUSES)[number];

/** docs/providers.md#smallest-speech: the guide's model-named routes, `/waves/v1/<model>/get_speech`. */
export const MODEL_SPEECH_ROUTES: readonly string[] = ['lightning-v3.1', 'lightning-v3.1-pro'];
/** docs/providers.md#smallest-retired-routes: path segments that answer 410. */
export const RETIRED_MODELS: readonly string[] = ['lightning-v2', 'lightning-large'];

export const SPEECH_DEFAULT_SAMPLE_RATE = 44_100;
export const SPEECH_DEFAULT_OUTPUT_FORMAT = 'pcm';
/** docs/providers.md#smallest-concurrency: one speech request at a time per account. */
export const SPEECH_CONCURRENCY = 1;

/**
 * docs/providers.md#smallest-speech: the body of `POST /waves/v1/tts` and (without `model`) of the
 * model-named routes. Unknown fields pass: the provider ignores them.
 */
export const speechRequestSchema = z.object({
  text: z.string().min(1),
  voice_id: z.string().min(1),
  // Underscores on this route, unlike the clone route's `lightning-v3.1`.
  model: z.enum(['lightning_v3.1', 'lightning_v3.1_pro']).optional(),
  sample_rate: z.union([z.literal(8000), z.literal(16000), z.literal(24000), z.literal(44100)]).optional(),
  speed: z.number().min(0.5).max(2).optional(),
  language: z.string().optional(),
  output_format: z.enum(['pcm', 'wav', 'mp3', 'ulaw', 'alaw']).optional(),
});
export type SpeechRequestBody = z.infer<typeof speechRequestSchema>;

/** docs/providers.md#smallest-delete: the body of both delete routes. */
export const deleteRequestSchema = z.object({ voiceId: z.string().min(1) });
