import { pcmFormatBody, wavHeader } from '../audio/wav-header';
import type { ProviderBodyStream } from './body-stream';
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

/** A 44-byte header for PCM 16-bit mono at `sampleRate` whose RIFF and data sizes are placeholders. */
export function streamingWavHeader(sampleRate: number): Uint8Array {
  return wavHeader(pcmFormatBody(sampleRate, 1, 16));
}

/**
 * The chunks `produce` makes from a streamed body, as an iterable that closes the body whenever the
 * consumer stops: at the end, on an error, on `break`, and also when it stops before the first chunk
 * (an async generator that never started would not run its `finally`).
 */
export function streamedChunks(
  body: ProviderBodyStream,
  produce: (body: ProviderBodyStream) => AsyncGenerator<Uint8Array, void, undefined>,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const source = produce(body);
      return {
        async next() {
          try {
            const result = await source.next();
            if (result.done) await body.cancel();
            return result;
          } catch (error) {
            await body.cancel();
            throw error;
          }
        },
        async return() {
          await source.return(undefined);
          await body.cancel();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
