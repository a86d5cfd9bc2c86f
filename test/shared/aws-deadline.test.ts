import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  currentInvocationDeadline,
  DeadlineBoundHttpHandler,
  withinInvocationDeadline,
} from '../../functions/shared/aws-deadline';

/** An endpoint that takes every request and never answers: a hung connection. */
let silent: Server;
let endpoint: string;

beforeAll(async () => {
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});

afterAll(async () => {
  silent.closeAllConnections();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

function clientOfTheHungEndpoint(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 5,
    requestHandler: new DeadlineBoundHttpHandler(),
  });
}

const getItem = () => new GetItemCommand({ TableName: 'voices', Key: { pk: { S: 'voice#1' } } });

/** When the call settled, in ms after it started, and how. */
async function settle(call: () => Promise<unknown>): Promise<{ afterMs: number; error: unknown }> {
  const started = Date.now();
  try {
    await call();
    return { afterMs: Date.now() - started, error: undefined };
  } catch (error) {
    return { afterMs: Date.now() - started, error };
  }
}

describe('AWS calls within an invocation deadline', () => {
  it('aborts a hung call when the remaining time less the reserve runs out, and does not retry it', async () => {
    const client = clientOfTheHungEndpoint();

    const { afterMs, error } = await settle(() =>
      withinInvocationDeadline({ getRemainingTimeInMillis: () => 700 }, 400, () => client.send(getItem())),
    );

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(afterMs).toBeGreaterThanOrEqual(250);
    // Five attempts of a hung call would never end; an aborted one is not retried.
    expect(afterMs).toBeLessThan(5_000);
  });

  it("still honours the caller's own, earlier abortSignal inside a later deadline", async () => {
    const client = clientOfTheHungEndpoint();

    const { afterMs, error } = await settle(() =>
      withinInvocationDeadline({ getRemainingTimeInMillis: () => 60_000 }, 0, () =>
        client.send(getItem(), { abortSignal: AbortSignal.timeout(200) }),
      ),
    );

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(afterMs).toBeLessThan(5_000);
  });

  it('is the deadline of the scope the code runs in, across awaits, and none outside', async () => {
    expect(currentInvocationDeadline()).toBeUndefined();

    const seen = await withinInvocationDeadline({ getRemainingTimeInMillis: () => 50 }, 0, async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return currentInvocationDeadline();
    });

    expect(seen?.aborted).toBe(true);
    expect(currentInvocationDeadline()).toBeUndefined();
  });
});
