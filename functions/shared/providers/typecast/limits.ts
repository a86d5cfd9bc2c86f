import type { ProviderLimits } from '../types';

/** Typecast instant cloning rules (docs/providers.md#typecast-clone, #typecast-speech). */
export const TYPECAST_LIMITS: ProviderLimits = {
  provider: 'typecast',
  title: 'Typecast',
  baseUrl: 'https://api.typecast.ai',
  formats: ['wav', 'mp3'],
  maxBytes: 25 * 1024 * 1024,
  minDurationSec: 5,
  maxDurationSec: 150,
  // Counted in Unicode code points, as the provider does.
  name: { minChars: 1, maxChars: 30 },
  models: {
    default: 'ssfm-v30',
    accepted: ['ssfm-v30', 'ssfm-v21'],
    rejected: {},
  },
  // Typecast's clone call takes no language; it is kept for speech, where Typecast wants ISO 639-3.
  language: { pattern: /^[a-z]{3}$/, description: 'a three-letter ISO 639-3 code such as "eng" or "kor"' },
  cloneOptions: [],
  cloneLookup: 'name-and-time',
  // The Free plan's documented concurrency (429 above it); Lite 5, Plus 15.
  clone: { concurrency: 2 },
  speech: { maxCharsPerRequest: 2000, concurrency: 2 },
};
