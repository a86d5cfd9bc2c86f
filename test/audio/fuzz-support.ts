import fc from 'fast-check';
import { expect } from 'vitest';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { ACCEPTABLE_FORMATS } from '../../functions/shared/audio/types';
import { PROVIDER_NAMES, type ProviderName } from '../../functions/shared/providers/types';
import { VALIDATION_CODES, type ValidationReport } from '../../functions/shared/validation/types';
import { type ValidationResult, validateSource } from '../../functions/shared/validation/validate';

/**
 * Property-based fuzzing of the upload validator: whatever the bytes, it answers with a verdict (never a
 * crash, never a hang), reads only what the container needs, and never calls garbage audio. A failing
 * case prints its seed and shrunk counterexample; replay it with `{ seed, path }` in fc.assert.
 *
 * What the fuzz tests share: the timed validation, the checks every report passes, providers, bytes.
 */

// A hang or a quadratic walk shows up as seconds; honest verdicts take milliseconds.
export const VERDICT_TIME_LIMIT_MS = 2_000;
const CODES: ReadonlySet<string> = new Set(VALIDATION_CODES);

export interface Timed {
  readonly result: ValidationResult;
  readonly ms: number;
  readonly bytesRead: number;
}

export async function validateTimed(
  bytes: Uint8Array,
  provider: string,
  displayName = 'Fuzzed sample',
): Promise<Timed> {
  const source = bufferByteSource(bytes);
  const started = performance.now();
  const result = await validateSource(source, { provider, displayName, options: {} });
  return { result, ms: performance.now() - started, bytesRead: source.bytesRead };
}

/** What every report must look like, whatever went in. */
export function expectWellFormed(report: ValidationReport, sizeBytes: number): void {
  expect(report.sizeBytes).toBe(sizeBytes);
  expect(report.ok).toBe(report.errors.length === 0);
  for (const issue of report.errors) {
    expect(CODES.has(issue.code), issue.code).toBe(true);
    expect(issue.message.length).toBeGreaterThan(0);
    // A message built from a NaN, an absent value or an object, or one quoting a parser's TypeError, is a
    // crash in disguise: nothing a person can act on.
    expect(issue.message).not.toMatch(/NaN|undefined|Infinity|\[object /);
    expect(issue.message).not.toMatch(/Cannot read prop|is not a function|is not defined|call stack/);
  }
  if (report.durationSec !== null) {
    expect(Number.isFinite(report.durationSec) && report.durationSec > 0, String(report.durationSec)).toBe(
      true,
    );
  }
  if (report.ok) {
    expect(ACCEPTABLE_FORMATS as readonly (string | null)[]).toContain(report.format);
    expect(report.durationSec).not.toBeNull();
    for (const value of [report.sampleRate, report.channels]) {
      if (value !== null) expect(Number.isFinite(value) && value > 0, String(value)).toBe(true);
    }
  }
}

export const provider = fc.constantFrom<ProviderName>(...PROVIDER_NAMES);

export const ascii = (text: string) => [...text].map((character) => character.charCodeAt(0));
