import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { silentLog } from '../../functions/shared/logger';
import { LocalQueue } from '../../local/queue';

/** A handler that holds each batch until released, and records what it was given. */
function heldHandler(fail: (body: string) => boolean = () => false) {
  const batches: string[][] = [];
  const releases: (() => void)[] = [];
  const deliver = async (event: SQSEvent) => {
    batches.push(event.Records.map((record) => record.body));
    await new Promise<void>((resolve) => releases.push(resolve));
    return {
      batchItemFailures: event.Records.filter((record) => fail(record.body)).map((record) => ({
        itemIdentifier: record.messageId,
      })),
    };
  };
  const releaseAll = async () => {
    while (releases.length > 0) releases.shift()?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
  };
  return { batches, deliver, releaseAll };
}

describe('LocalQueue (the clone queue and its event source mapping, in process)', () => {
  it('delivers what is ready in batches of up to batchSize, one batch per slot of concurrency', async () => {
    const handler = heldHandler();
    const queue = new LocalQueue({
      deliver: handler.deliver,
      concurrency: 1,
      batchSize: 5,
      maxReceiveCount: 3,
      retryDelayMs: () => 10,
      log: silentLog,
    });

    queue.send('a');
    for (const body of ['b', 'c', 'd', 'e', 'f', 'g']) queue.send(body);
    expect(handler.batches).toEqual([['a']]);
    await handler.releaseAll();
    expect(handler.batches).toEqual([['a'], ['b', 'c', 'd', 'e', 'f']]);
    await handler.releaseAll();
    await handler.releaseAll();
    await queue.whenIdle();

    expect(handler.batches).toEqual([['a'], ['b', 'c', 'd', 'e', 'f'], ['g']]);
  });

  it('delivers again only the messages of a batch that failed, until the dead letters', async () => {
    const handler = heldHandler((body) => body === 'bad');
    const queue = new LocalQueue({
      deliver: handler.deliver,
      concurrency: 1,
      batchSize: 10,
      maxReceiveCount: 2,
      retryDelayMs: () => 5,
      log: silentLog,
    });

    queue.send('good');
    queue.send('bad');
    queue.send('fine');
    const idle = queue.whenIdle();
    for (let round = 0; round < 5; round += 1) await handler.releaseAll();
    await idle;

    expect(handler.batches).toEqual([['good'], ['bad', 'fine'], ['bad']]);
    expect(queue.deadLetters.map((letter) => [letter.body, letter.receiveCount])).toEqual([['bad', 2]]);
  });
});
