/**
 * Order statistics for benchmark samples. Percentiles interpolate linearly between the two nearest ranks
 * (the method of NumPy's default and of spreadsheets' PERCENTILE.INC), so p50 of an even count is the mean
 * of the middle two.
 */

/** The `p`-th percentile (0–100) of `samples`; throws on an empty list or a `p` outside 0–100. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100 (got ${p})`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (rank - lower);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** Rounds for reporting: milliseconds to 0.01, ratios to 0.001; keeps integers as they are. */
export function round(value: number, decimals = 2): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
