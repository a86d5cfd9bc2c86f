import type { EnvironmentReader } from '../config';
import { ENV } from '../contract';
import { TRIM_MODES, type TrimMode } from './options';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  parseQualityThresholds,
  QUALITY_THRESHOLD_NAMES,
  type QualityThresholds,
} from './quality-rules';

/** How uploads are judged, as the clone function and local mode read it from the environment. */
export interface ValidationSettings {
  /** The speech-quality gate's thresholds (QUALITY_SILENCE_PEAK_DBFS, QUALITY_MIN_SPEECH_LEVEL_DBFS, …). */
  readonly quality: QualityThresholds;
  /** Trim for uploads whose metadata names none (TRIM_DEFAULT: `off` or `auto`; default `off`). */
  readonly defaultTrim: TrimMode;
}

export function readValidationSettings(environment: EnvironmentReader): ValidationSettings {
  return {
    quality: environment.parsed(
      (read) => parseQualityThresholds((key) => read(QUALITY_THRESHOLD_NAMES[key].env)),
      DEFAULT_QUALITY_THRESHOLDS,
    ),
    defaultTrim: environment.oneOf(ENV.trimDefault, TRIM_MODES, 'off'),
  };
}
