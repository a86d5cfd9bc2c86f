import { writeLatin1 } from '../audio/bytes';
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

/** The RIFF/WAVE size fields of a stream whose length is not known yet, as streamed WAV carries them. */
export const STREAMING_WAV_SIZE = 0xffff_ffff;

/** A 44-byte header for PCM 16-bit mono at `sampleRate` whose RIFF and data sizes are placeholders. */
export function streamingWavHeader(sampleRate: number): Uint8Array {
  const header = new Uint8Array(44);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => writeLatin1(header, offset, text);
  ascii(0, 'RIFF');
  view.setUint32(4, STREAMING_WAV_SIZE, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, 'data');
  view.setUint32(40, STREAMING_WAV_SIZE, true);
  return header;
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
