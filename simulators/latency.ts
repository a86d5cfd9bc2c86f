import type { SimulatorStreamPiece } from './stream';

/**
 * How long simulated speech takes, the same model for both vendors: a time to the first audio byte,
 * then audio produced at a real-time factor (audio seconds per wall second). The plain route answers
 * when the whole audio would be done; a streaming route sends its first chunk after the first byte and
 * every later chunk when the audio it holds would be done. Defaults: no wait at all.
 */

export interface SpeechLatencyOptions {
  /** Time to the first audio byte, ms (default 0). */
  readonly speechFirstByteMs?: number;
  /** Audio seconds produced per wall second, e.g. 20 (default: unlimited, the audio is ready at once). */
  readonly speechRealTimeFactor?: number;
}

/** The variables local mode reads the simulators' speech pace from (the simulators' own: not a Lambda's). */
export const SIMULATOR_LATENCY_ENV = {
  firstByteMs: 'SIMULATOR_SPEECH_FIRST_BYTE_MS',
  realTimeFactor: 'SIMULATOR_SPEECH_REAL_TIME_FACTOR',
} as const;

/** Seconds of audio per streamed chunk: small enough to start quickly, large enough to be few. */
export const STREAM_CHUNK_SEC = 0.1;

/** When the audio up to `audioSec` is ready, in ms after the request (once any fixed latency passed). */
export function audioReadyMs(latency: SpeechLatencyOptions, audioSec: number): number {
  const firstByte = Math.max(0, latency.speechFirstByteMs ?? 0);
  const factor = latency.speechRealTimeFactor;
  if (factor === undefined || !Number.isFinite(factor) || factor <= 0) return firstByte;
  return firstByte + (Math.max(0, audioSec) / factor) * 1000;
}

/**
 * `SIMULATOR_SPEECH_FIRST_BYTE_MS` and `SIMULATOR_SPEECH_REAL_TIME_FACTOR`, for local mode's simulators;
 * an unset variable keeps the default, a bad one throws (to join the other configuration problems).
 */
export function speechLatencyFromEnvironment(
  read: (name: string) => string | undefined,
): SpeechLatencyOptions {
  const number = (name: string, valid: (value: number) => boolean, rule: string) => {
    const raw = read(name)?.trim();
    if (!raw) return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value) || !valid(value)) throw new Error(`${name} must be ${rule} (got "${raw}")`);
    return value;
  };
  const firstByte = number(
    SIMULATOR_LATENCY_ENV.firstByteMs,
    (value) => value >= 0,
    'a number of ms, 0 or more',
  );
  const factor = number(SIMULATOR_LATENCY_ENV.realTimeFactor, (value) => value > 0, 'a number above 0');
  return {
    ...(firstByte === undefined ? {} : { speechFirstByteMs: firstByte }),
    ...(factor === undefined ? {} : { speechRealTimeFactor: factor }),
  };
}

/** Audio chunks, each with where its audio starts, as stream pieces due when that audio is ready. */
export function pacedPieces(
  latency: SpeechLatencyOptions,
  chunks: readonly { readonly startSec: number; readonly bytes: Uint8Array }[],
): SimulatorStreamPiece[] {
  return chunks.map((chunk) => ({ atMs: audioReadyMs(latency, chunk.startSec), bytes: chunk.bytes }));
}
