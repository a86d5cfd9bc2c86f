import type { SimulatorReply, SimulatorRequest } from '../server';

/** The answers Smallest AI Waves gives in several places (docs/providers.md#smallest-ai-waves). */

export const error = (
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): SimulatorReply => ({
  status,
  json: { error: message, ...extra },
});
/** A 400 whose `error` is a list of zod issues, as the provider answers schema violations. */
export const issues = (list: readonly unknown[]): SimulatorReply => ({ status: 400, json: { error: list } });
export const deprecated = (what: string): SimulatorReply => ({
  status: 410,
  json: {
    status: 'error',
    error_code: 'MODEL_DEPRECATED',
    message: `${what} has been retired. Use POST /waves/v1/tts with model lightning_v3.1.`,
  },
});
export const routeMissing = (request: SimulatorRequest): SimulatorReply =>
  error(404, `Cannot ${request.method} ${request.url.pathname}`);
