import type { EnvironmentReader } from '../shared/config';
import { DEFAULT_RETENTION_REJECTED_DAYS, MAX_RETENTION_DAYS } from '../shared/contract';
import type { RetentionSettings } from './policy';

/**
 * The retention schedule from RETENTION_UNUSED_DAYS, RETENTION_MAX_AGE_DAYS (at most 1,095) and
 * RETENTION_REJECTED_DAYS (default 30): the retention function's variables (set from `retention` in
 * cdk.json) and local mode's.
 */
export function readRetentionSettings(reader: EnvironmentReader): RetentionSettings {
  const days = (name: string) =>
    reader.parsed((read) => {
      const raw = read(name)?.trim();
      if (!raw) return undefined;
      const value = Number(raw);
      if (!Number.isInteger(value) || value <= 0 || value > MAX_RETENTION_DAYS) {
        throw new Error(
          `${name} must be a whole number of days from 1 to ${MAX_RETENTION_DAYS} (got "${raw}")`,
        );
      }
      return value;
    }, undefined);
  const unusedDays = days('RETENTION_UNUSED_DAYS');
  const maxAgeDays = days('RETENTION_MAX_AGE_DAYS');
  const rejectedDays = days('RETENTION_REJECTED_DAYS') ?? DEFAULT_RETENTION_REJECTED_DAYS;
  return {
    ...(unusedDays === undefined ? {} : { unusedDays }),
    ...(maxAgeDays === undefined ? {} : { maxAgeDays }),
    rejectedDays,
  };
}
