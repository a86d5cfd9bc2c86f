import { Logger } from '@aws-lambda-powertools/logger';

/**
 * What the pipeline needs from a logger. Powertools' Logger satisfies it in AWS; local mode passes its
 * own so the terminal shows readable lines. Callers log identifiers, sizes, codes and timings only:
 * never API keys, never audio bytes, never text to be spoken.
 */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Structured JSON logs for a Lambda function (Powertools). */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** A logger that drops everything (tests that assert on records, not logs). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };
