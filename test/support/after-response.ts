/**
 * An execution context for `app.request` that collects what routes leave for after their responses
 * (usage), as the streaming adapter does (functions/api/lambda-stream.ts). `settled()` waits for it: call
 * it before the next request, as one Lambda invocation at a time would, and before reading what it wrote.
 */
export function collectAfterResponse() {
  const pending: Promise<unknown>[] = [];
  return {
    executionContext: {
      waitUntil: (work: Promise<unknown>) => {
        pending.push(work);
      },
      passThroughOnException: () => undefined,
      props: {},
    },
    settled: async (): Promise<void> => {
      await Promise.allSettled(pending.splice(0));
    },
  };
}
