import { expect, it } from 'vitest';
import type { ErrorMapper, ProviderOperation } from '../../functions/shared/providers/http';
import type { ProviderName } from '../../functions/shared/providers/types';

/** An error body as a vendor sends it, with what its error mapper must make of it. */
export interface RecordedError {
  readonly name: string;
  readonly status: number;
  readonly body: string;
  /** Default `clone`. */
  readonly operation?: ProviderOperation;
  readonly headers?: Record<string, string>;
  readonly expected: Record<string, unknown>;
  readonly message?: RegExp;
}

/**
 * One test per recorded body (`maps <name>`): `map` turns it into a ProviderError of `provider` with the
 * status, the request id and `expected`, whose message matches `message` and is for people: never the
 * raw JSON.
 */
export function itMapsRecordedErrors(
  provider: ProviderName,
  map: ErrorMapper,
  recorded: readonly RecordedError[],
): void {
  it.each(recorded)('maps $name', ({ status, body, operation, headers, expected, message }) => {
    const error = map({
      status,
      headers: new Headers(headers),
      body: new TextEncoder().encode(body),
      operation: operation ?? 'clone',
      retryAfterMs: headers?.['retry-after'] ? Number(headers['retry-after']) * 1000 : undefined,
      requestId: 'req-1',
    });

    expect(error).toMatchObject({ provider, statusCode: status, requestId: 'req-1', ...expected });
    if (message) expect(error.message).toMatch(message);
    expect(error.message).not.toContain('{');
  });
}
