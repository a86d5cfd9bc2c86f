/** Building the mono sample array the decoders hand to the speech measurement (decode.ts). */

/**
 * Mono samples appended block by block, channels averaged, up to a fixed number of samples (the decode
 * limit): memory stays one Float32 per sample of the kept length, whatever the codec hands out.
 */
export class MonoBuffer {
  private samples: Float32Array;
  private length = 0;

  constructor(
    /** The most samples kept; appending past it keeps the first ones and sets `full`. */
    private readonly limit: number,
    expected = 0,
  ) {
    this.samples = new Float32Array(Math.max(0, Math.min(limit, Math.ceil(expected))));
  }

  /** Whether the limit was reached (later samples were dropped). */
  full = false;

  get size(): number {
    return this.length;
  }

  /** Appends `count` samples of every channel, averaged (channels shorter than `count` count as silence). */
  append(channels: readonly Float32Array[], count: number): void {
    if (channels.length === 0 || count <= 0) return;
    const room = this.limit - this.length;
    const taken = Math.min(count, room);
    if (taken < count) this.full = true;
    if (taken <= 0) return;
    this.reserve(this.length + taken);
    const out = this.samples;
    const base = this.length;
    const first = channels[0] as Float32Array;
    if (channels.length === 1) {
      out.set(first.length >= taken ? first.subarray(0, taken) : first, base);
    } else {
      const scale = 1 / channels.length;
      for (let index = 0; index < taken; index++) {
        let sum = 0;
        for (const channel of channels) sum += channel[index] ?? 0;
        out[base + index] = sum * scale;
      }
    }
    this.length += taken;
  }

  /** The samples appended, trimmed to their length (no copy when the buffer is exactly full). */
  result(): Float32Array {
    return this.length === this.samples.length ? this.samples : this.samples.slice(0, this.length);
  }

  private reserve(wanted: number): void {
    if (wanted <= this.samples.length) return;
    const grown = new Float32Array(Math.min(this.limit, Math.max(wanted, this.samples.length * 2, 4096)));
    grown.set(this.samples.subarray(0, this.length));
    this.samples = grown;
  }
}

/**
 * Runs `decode` with console.error silenced. The WebAssembly decoders print one line per damaged frame
 * there (mpg123-decoder, opus-decoder); a corrupt upload would fill the function's log with them, while
 * the same errors come back in their results, which the decoders here count. The call is synchronous, so
 * nothing else runs while the console is swapped.
 */
export function withoutConsoleErrors<T>(decode: () => T): T {
  const original = console.error;
  console.error = () => undefined;
  try {
    return decode();
  } finally {
    console.error = original;
  }
}
