import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';
import { VoicedropError } from './errors';
import { isProviderError } from './providers/errors';

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

/** Structured JSON logs for a Lambda function (Powertools), with the invocation's context added per call. */
export function createLogger(serviceName: string): Log & { addContext(context: Context): void } {
  const logger = new Logger({ serviceName });
  const attributes = (extra?: Record<string, unknown>) => (extra ? [extra as LogAttributes] : []);
  return {
    debug: (message, extra) => logger.debug(message, ...attributes(extra)),
    info: (message, extra) => logger.info(message, ...attributes(extra)),
    warn: (message, extra) => logger.warn(message, ...attributes(extra)),
    error: (message, extra) => logger.error(message, ...attributes(extra)),
    addContext: (context) => logger.addContext(context),
  };
}

/** A logger that drops everything (tests that assert on records, not logs). */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** An error as log fields: what the code and the provider said, never a stack. */
export function describeError(error: unknown): Record<string, unknown> {
  if (isProviderError(error)) {
    return {
      name: error.name,
      code: error.code,
      kind: error.kind,
      statusCode: error.statusCode,
      providerCode: error.providerCode,
      retryable: error.retryable,
      message: error.message,
      requestId: error.requestId,
    };
  }
  if (error instanceof VoicedropError) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}
