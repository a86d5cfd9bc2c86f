/**
 * The budgets `npm run bench` holds its figures to, and how a result is judged against them. Pure: no
 * timing, no I/O.
 */
import type { BenchResult } from './report';

export interface Budget {
  /** Dotted path of the figure in BenchResult, e.g. `bundles.clone.bytes`. */
  readonly figure: string;
  readonly limit: number;
  readonly unit: 'bytes' | 'ms' | 'ratio' | 'count';
}

export interface BudgetVerdict extends Budget {
  /** Undefined when the figure was not measured (which fails the budget). */
  readonly value: number | undefined;
  readonly pass: boolean;
}

/** Every budget is an upper bound: a figure passes when it is at most the limit. */
export const BUDGETS: readonly Budget[] = [
  // The clone function carries the MP3 decoder (mpg123-decoder, about 80 KB with its WebAssembly).
  { figure: 'bundles.clone.bytes', limit: 900_000, unit: 'bytes' },
  { figure: 'bundles.api.bytes', limit: 600_000, unit: 'bytes' },
  // The stream, sweep and webhook functions: size only (their cold starts are off any caller's path).
  { figure: 'bundles.events.bytes', limit: 250_000, unit: 'bytes' },
  { figure: 'bundles.retention.bytes', limit: 550_000, unit: 'bytes' },
  { figure: 'bundles.webhooks.bytes', limit: 300_000, unit: 'bytes' },
  { figure: 'bundles.clone.importOverheadMs', limit: 80, unit: 'ms' },
  { figure: 'bundles.api.importOverheadMs', limit: 80, unit: 'ms' },
  // An oversize upload: its first 64 KiB only, for every verdict its header allows.
  { figure: 'validation.oversize.bytesRead', limit: 64 * 1024, unit: 'bytes' },
  { figure: 'validation.oversize.requests', limit: 1, unit: 'count' },
  { figure: 'validation.quality.mp3.ms', limit: 1_000, unit: 'ms' },
  { figure: 'validation.quality.wav.ms', limit: 1_000, unit: 'ms' },
  { figure: 'validation.garbage.bytesRead', limit: 64 * 1024, unit: 'bytes' },
  { figure: 'clonePipeline.overheadMsP50', limit: 50, unit: 'ms' },
  { figure: 'speech.overheadMsP50', limit: 10, unit: 'ms' },
  // Streaming: 5,000 characters start within the provider's own first-byte latency + 50 ms and end within
  // 10 % of the providers' time for the pieces at the allowed concurrency; a cache hit is fast.
  { figure: 'speech.ttfbOverFirstByteMs.smallest.5000', limit: 50, unit: 'ms' },
  { figure: 'speech.ttfbOverFirstByteMs.typecast.5000', limit: 50, unit: 'ms' },
  { figure: 'speech.totalOverSchedule.smallest.5000', limit: 1.1, unit: 'ratio' },
  { figure: 'speech.totalOverSchedule.typecast.5000', limit: 1.1, unit: 'ratio' },
  { figure: 'speech.cacheHitMsP50', limit: 15, unit: 'ms' },
  { figure: 'memory.peakRssGrowthPerUploadByte', limit: 2.5, unit: 'ratio' },
];

/** The number at a dotted path, or undefined when any step is missing or the value is not a number. */
export function figureAt(result: unknown, path: string): number | undefined {
  let value: unknown = result;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function evaluateBudgets(
  result: Omit<BenchResult, 'budgets'>,
  budgets: readonly Budget[] = BUDGETS,
): BudgetVerdict[] {
  return budgets.map((budget) => {
    const value = figureAt(result, budget.figure);
    return { ...budget, value, pass: value !== undefined && value <= budget.limit };
  });
}
