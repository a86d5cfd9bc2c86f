import type { EnvironmentReader } from '../shared/config';
import {
  DEFAULT_RETENTION_REJECTED_DAYS,
  DEFAULT_RETENTION_UNUSED_DAYS,
  ENV,
  MAX_RETENTION_DAYS,
} from '../shared/contract';
import type { RetentionSettings } from './policy';

/**
 * The retention schedule from RETENTION_UNUSED_DAYS (default 1,095), RETENTION_MAX_AGE_DAYS (default off)
 * and RETENTION_REJECTED_DAYS (default 30), each at most 1,095 days; `off` turns the first two off. The
 * retention function's variables (set from `retention` in cdk.json) and local mode's.
 */
export function readRetentionSettings(reader: EnvironmentReader): RetentionSettings {
  // A number of days; null: `off`; undefined: not set.
  const days = (name: string) =>
    reader.parsed<number | null | undefined>((read) => {
      const raw = read(name)?.trim();
      if (!raw || raw.toLowerCase() === 'off') return raw ? null : undefined;
      const value = Number(raw);
      if (!Number.isInteger(value) || value <= 0 || value > MAX_RETENTION_DAYS) {
        throw new Error(
          `${name} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} (got "${raw}")`,
        );
      }
      return value;
    }, undefined);
  const unused = days(ENV.retentionUnusedDays);
  const unusedDays = unused === undefined ? DEFAULT_RETENTION_UNUSED_DAYS : (unused ?? undefined);
  const maxAgeDays = days(ENV.retentionMaxAgeDays) ?? undefined;
  const rejectedDays = days(ENV.retentionRejectedDays) ?? DEFAULT_RETENTION_REJECTED_DAYS;
  return {
    ...(unusedDays === undefined ? {} : { unusedDays }),
    ...(maxAgeDays === undefined ? {} : { maxAgeDays }),
    rejectedDays,
  };
}
