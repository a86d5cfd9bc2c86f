/**
 * Stands in for `@smithy/core/event-streams` in the Lambda bundles (an esbuild alias set by HouseFunction;
 * tests and local mode keep the real module). Event streams serve S3 SelectObjectContent and the like, which
 * no function calls. The real module is reached by a dynamic `import()` in the SDK's HTTP protocol; in one
 * bundle esbuild turns that into lazily initialised wrappers around it and everything it imports, about 170
 * SDK modules, which then stay in the bundle whole (unused code included) and cost import time at every cold
 * start. The README's Performance section has the measurement; test/infra/bundles.test.ts fails when it
 * stops applying.
 *
 * The clients' configuration still builds an event-stream marshaller at construction; this one refuses to
 * be used, so an operation with an event stream fails loudly instead of silently.
 */

/** The marshaller every client is configured with; it is never used, since no call has an event stream. */
export interface RefusingMarshaller {
  serialize(...args: unknown[]): never;
  deserialize(...args: unknown[]): never;
}

function refuse(): never {
  throw new Error(
    'Event streams are left out of the voicedrop Lambda bundles (lib/bundle-substitutes/smithy-event-streams.ts).',
  );
}

export const eventStreamSerdeProvider = (_options: unknown): RefusingMarshaller => ({
  serialize: refuse,
  deserialize: refuse,
});

/** As the SDK's own: the client's event-stream marshaller, from the configured provider. */
export const resolveEventStreamSerdeConfig = <T extends { eventStreamSerdeProvider: (input: T) => unknown }>(
  input: T,
): T & { eventStreamMarshaller: ReturnType<T['eventStreamSerdeProvider']> } =>
  Object.assign(input, {
    eventStreamMarshaller: input.eventStreamSerdeProvider(input) as ReturnType<T['eventStreamSerdeProvider']>,
  });

export class EventStreamSerde {
  constructor() {
    refuse();
  }
}
