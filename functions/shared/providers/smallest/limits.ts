import type { ProviderLimits } from '../types';

/** Smallest AI Waves instant cloning rules (docs/providers.md#smallest-clone, #smallest-speech). */
export const SMALLEST_LIMITS: ProviderLimits = {
  provider: 'smallest',
  title: 'Smallest AI Waves',
  baseUrl: 'https://api.smallest.ai',
  formats: ['wav', 'mp3', 'mp4', 'webm'],
  maxBytes: 5 * 1024 * 1024,
  minDurationSec: 5,
  maxDurationSec: 15,
  name: { minChars: 1, maxChars: 500 },
  models: {
    default: 'lightning-v3.1',
    accepted: ['lightning-v3.1', 'lightning-v3.1-pro'],
    rejected: {
      'lightning-v2': 'Voice cloning for lightning-v2 is deprecated. Please use lightning-v3.1',
    },
  },
  // The provider checks the language list itself (it changes); we only check the shape of the code.
  language: { pattern: /^[a-z]{2}$/, description: 'a two-letter ISO 639-1 code such as "en" or "hi"' },
  cloneOptions: ['language', 'description', 'accent', 'tags'],
  cloneLookup: 'tag',
  // Clone concurrency is not documented: one at a time is the safe reading of "1 concurrent request".
  clone: { concurrency: 1 },
  speech: { maxCharsPerRequest: 250, concurrency: 1 },
};
