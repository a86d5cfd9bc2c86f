import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { eventBridgePublisher } from '../../functions/events/publish';
import type { EventEntry } from '../../functions/events/voice-events';

/*
 * PutEvents' partial refusals. EventBridge has no local implementation here, so the client is answered by
 * aws-sdk-client-mock; what is checked is which entries each call sends again.
 */
const eventBridge = mockClient(EventBridgeClient);
const client = new EventBridgeClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
});

const entry = (n: number): EventEntry => ({
  Source: 'voicedrop',
  DetailType: 'Voice Ready',
  Detail: JSON.stringify({ eventId: `evt_${n}` }),
  EventBusName: 'voicedrop',
  Time: new Date('2026-12-07T00:00:00Z'),
});
const sentDetails = () =>
  eventBridge
    .commandCalls(PutEventsCommand)
    .map((call) => (call.args[0].input.Entries ?? []).map((sent) => JSON.parse(sent.Detail ?? '{}').eventId));

afterEach(() => eventBridge.reset());

describe('eventBridgePublisher', () => {
  it('sends again only the entries EventBridge refused, and stops once all are taken', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: 'e1' }, { ErrorCode: 'ThrottlingException' }, { ErrorCode: 'InternalFailure' }],
      })
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'e2' }, { ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e3' }] });

    await eventBridgePublisher(client)([entry(1), entry(2), entry(3)]);

    expect(sentDetails()).toEqual([['evt_1', 'evt_2', 'evt_3'], ['evt_2', 'evt_3'], ['evt_3']]);
  });

  it('throws after the last attempt, naming how many were refused and why (the stream batch retries)', async () => {
    // Every entry after the first is refused, on every call (the answer has one result per entry sent).
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: EventEntry[] }) => {
      const results = input.Entries.map((sent) =>
        sent.Detail === entry(1).Detail
          ? { EventId: 'e1' }
          : { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
      );
      return { FailedEntryCount: results.filter((result) => result.ErrorCode).length, Entries: results };
    });

    await expect(eventBridgePublisher(client)([entry(1), entry(2)])).rejects.toThrow(
      'EventBridge refused 1 of 2 events (ThrottlingException)',
    );
    expect(sentDetails()).toEqual([['evt_1', 'evt_2'], ['evt_2'], ['evt_2']]);
  });
});
