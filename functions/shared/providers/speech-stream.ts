import type { SpeechResult, SpeechStream } from './types';

/** Speech the plain route made, whole, as a stream of one chunk (a provider or format with no streaming route). */
export function plainSpeechStream(result: SpeechResult): SpeechStream {
  return {
    format: result.format,
    contentType: result.contentType,
    streamed: false,
    requestId: result.requestId,
    chunks: (async function* () {
      yield result.audio;
    })(),
  };
}
