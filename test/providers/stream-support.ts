import type { SpeechStream } from '../../functions/shared/providers/types';

/** Streamed speech read to the end, with when each chunk came (ms after `startedAt`). */
export interface CollectedStream {
  readonly chunks: readonly { readonly atMs: number; readonly bytes: Uint8Array }[];
  readonly whole: Uint8Array;
  /** When the first chunk came and when the stream ended, ms after `startedAt`. */
  readonly firstMs: number;
  readonly endMs: number;
}

export async function collect(stream: SpeechStream, startedAt = Date.now()): Promise<CollectedStream> {
  const chunks: { atMs: number; bytes: Uint8Array }[] = [];
  for await (const bytes of stream.chunks) chunks.push({ atMs: Date.now() - startedAt, bytes });
  return {
    chunks,
    whole: new Uint8Array(Buffer.concat(chunks.map((chunk) => chunk.bytes))),
    firstMs: chunks[0]?.atMs ?? Number.NaN,
    endMs: Date.now() - startedAt,
  };
}

/** The error the iteration of `stream` ends in (and the bytes before it); anything else fails the test. */
export async function streamFailure(stream: SpeechStream): Promise<{ error: unknown; bytes: number }> {
  let bytes = 0;
  try {
    for await (const chunk of stream.chunks) bytes += chunk.byteLength;
  } catch (error) {
    return { error, bytes };
  }
  throw new Error(`expected the stream to fail; it ended after ${bytes} bytes`);
}

export interface DecodedWav {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  readonly riffSize: number;
  readonly dataSize: number;
  readonly samples: Int16Array;
}

/**
 * A 16-bit PCM WAV read by hand (music-metadata would believe a streamed WAV's 0xFFFFFFFF sizes): the
 * data chunk is its declared size or, for a placeholder, the rest of the bytes.
 */
export function decodeWav(wav: Uint8Array): DecodedWav {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const text = (offset: number) => String.fromCharCode(...wav.subarray(offset, offset + 4));
  if (text(0) !== 'RIFF' || text(8) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let offset = 12;
  let format: { sampleRate: number; channels: number; bitsPerSample: number } | undefined;
  while (offset + 8 <= wav.byteLength) {
    const id = text(offset);
    const size = view.getUint32(offset + 4, true);
    if (id === 'fmt ') {
      if (view.getUint16(offset + 8, true) !== 1) throw new Error('not PCM');
      format = {
        channels: view.getUint16(offset + 10, true),
        sampleRate: view.getUint32(offset + 12, true),
        bitsPerSample: view.getUint16(offset + 22, true),
      };
    }
    if (id === 'data') {
      if (!format) throw new Error('data before fmt');
      const bytes = wav.subarray(offset + 8, Math.min(wav.byteLength, offset + 8 + size));
      const samples = new Int16Array(Math.floor(bytes.byteLength / 2));
      const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let index = 0; index < samples.length; index += 1) samples[index] = data.getInt16(index * 2, true);
      return { ...format, riffSize: view.getUint32(4, true), dataSize: size, samples };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** About 5 s of simulated speech. */
export const LONG_TEXT = 'Streaming speech arrives in pieces, so playback can start long before the end.';

/** The simulator's requests so far, as `path status`. */
export const paths = (simulator: { state: { requests: { path: string; status?: number }[] } }) =>
  simulator.state.requests.map((entry) => `${entry.path} ${entry.status}`);
