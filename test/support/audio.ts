import { encodeMp3, encodeWav, voicedSignal } from '../../simulators/audio';

export interface MakeWavOptions {
  readonly durationSec: number;
  /** Default 44100. */
  readonly sampleRate?: number;
  /** Default 1; every channel carries the same voiced signal. */
  readonly channels?: number;
  /** Changes the syllable pattern (default 1), so two samples are not byte-identical. */
  readonly seed?: number;
}

/** A PCM 16-bit WAV of speech-like voiced syllables (never silence), for clone uploads in tests. */
export function makeWav({
  durationSec,
  sampleRate = 44_100,
  channels = 1,
  seed = 1,
}: MakeWavOptions): Uint8Array {
  const mono = voicedSignal(durationSec, sampleRate, seed);
  if (channels === 1) return encodeWav(mono, sampleRate);
  const interleaved = new Int16Array(mono.length * channels);
  for (let frame = 0; frame < mono.length; frame += 1) {
    interleaved.fill(mono[frame] ?? 0, frame * channels, (frame + 1) * channels);
  }
  return encodeWav(interleaved, sampleRate, channels);
}

/** The same voiced signal as a mono MP3 (64 kbit/s). */
export function makeMp3({
  durationSec,
  sampleRate = 44_100,
  seed = 1,
}: Omit<MakeWavOptions, 'channels'>): Uint8Array {
  return encodeMp3(voicedSignal(durationSec, sampleRate, seed), sampleRate);
}

/** The largest absolute sample of a 16-bit PCM WAV's data chunk (0 for silence), or undefined if not a WAV. */
export function wavPeak(wav: Uint8Array): number | undefined {
  const view = new DataView(wav.buffer, wav.byteOffset, wav.byteLength);
  const text = (offset: number) => String.fromCharCode(...wav.subarray(offset, offset + 4));
  if (wav.byteLength < 12 || text(0) !== 'RIFF' || text(8) !== 'WAVE') return undefined;
  let offset = 12;
  while (offset + 8 <= wav.byteLength) {
    const size = view.getUint32(offset + 4, true);
    if (text(offset) === 'data') {
      let peak = 0;
      const end = Math.min(wav.byteLength, offset + 8 + size) - 1;
      for (let index = offset + 8; index < end; index += 2)
        peak = Math.max(peak, Math.abs(view.getInt16(index, true)));
      return peak;
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}
