import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderSlots } from '../../functions/shared/providers/slots';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { startAwsLocal } from '../support/aws-local';

// Against the in-process DynamoDB-compatible server (dynalite): the conditional writes are the mechanism.
describe('provider slots (DynamoDB conditional writes)', () => {
  let local: Awaited<ReturnType<typeof startAwsLocal>>;
  let table = 0;
  const freshTable = () => `slots-${++table}`;

  beforeAll(async () => {
    local = await startAwsLocal({ bucket: 'slots', table: 'slots-0' });
  });
  afterAll(async () => {
    await local?.stop();
  });

  const slotsOn = async (limits = { smallest: 1, typecast: 2 }) => {
    const name = freshTable();
    const { ensureVoicesTable } = await import('../../local/servers');
    await ensureVoicesTable(local.dynamo, name);
    return { name, slots: new ProviderSlots(local.dynamo, name, limits, { pollMs: 20 }) };
  };
  const lease = (holder: string, waitMs = 0) => ({
    holder,
    leaseUntil: Date.now() + 60_000,
    waitMs,
  });

  it('never lets more holders in than the provider limit, whoever asks at once', async () => {
    const { slots } = await slotsOn({ smallest: 1, typecast: 2 });
    const smallest = await Promise.all(
      Array.from({ length: 6 }, (_, i) => slots.acquire('smallest', lease(`s${i}`))),
    );
    const typecast = await Promise.all(
      Array.from({ length: 6 }, (_, i) => slots.acquire('typecast', lease(`t${i}`))),
    );

    expect(smallest.filter(Boolean)).toHaveLength(1);
    expect(typecast.filter(Boolean)).toHaveLength(2);
    expect(new Set(typecast.filter(Boolean).map((slot) => slot?.key)).size).toBe(2);
  });

  it('hands a released slot to a waiting holder', async () => {
    const { slots } = await slotsOn();
    const first = await slots.acquire('smallest', lease('first'));
    expect(first).toBeDefined();
    const waiting = slots.acquire('smallest', lease('second', 5_000));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await slots.release(first as NonNullable<typeof first>);

    const second = await waiting;
    expect(second?.holder).toBe('second');
  });

  it('gives up when no slot frees within waitMs', async () => {
    const { slots } = await slotsOn();
    await slots.acquire('smallest', lease('holder'));
    const started = Date.now();

    expect(await slots.acquire('smallest', lease('late', 200))).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('takes over a slot whose holder crashed once its lease has ended', async () => {
    const { slots } = await slotsOn();
    await slots.acquire('smallest', {
      holder: 'crashed',
      leaseUntil: Date.now() + 150,
      waitMs: 0,
    });

    expect(await slots.acquire('smallest', lease('next'))).toBeUndefined();
    expect((await slots.acquire('smallest', lease('next', 2_000)))?.holder).toBe('next');
  });

  it("compares leases on the caller's clock, so a slot's lease ends with the record's", async () => {
    const { slots } = await slotsOn();
    const hourAgo = Date.now() - 3_600_000;
    // Taken by a delivery whose clock said an hour ago, for a minute: over by the real clock, by its own not.
    await slots.acquire('smallest', {
      holder: 'earlier',
      now: hourAgo,
      leaseUntil: hourAgo + 60_000,
      waitMs: 0,
    });

    expect(
      await slots.acquire('smallest', {
        holder: 'same-clock',
        now: hourAgo + 1_000,
        leaseUntil: hourAgo + 61_000,
        waitMs: 0,
      }),
    ).toBeUndefined();
    expect((await slots.acquire('smallest', lease('real-clock')))?.holder).toBe('real-clock');
  });

  it('does not free a slot another holder took over after the lease ended', async () => {
    const { slots } = await slotsOn();
    const stale = await slots.acquire('smallest', {
      holder: 'stale',
      leaseUntil: Date.now() + 50,
      waitMs: 0,
    });
    const current = await slots.acquire('smallest', lease('current', 2_000));
    await slots.release(stale as NonNullable<typeof stale>);

    expect(current?.holder).toBe('current');
    expect(await slots.acquire('smallest', lease('third'))).toBeUndefined();
  });

  it('leaves the voice records of the same client writing as before (shared document translation)', async () => {
    const { name } = await slotsOn();
    // Made second on the same client: DynamoDBDocumentClient.from stores translate options on the client.
    const voices = new VoiceRepository(local.dynamo, name);
    new ProviderSlots(local.dynamo, name, { smallest: 1, typecast: 1 });
    const now = new Date().toISOString();

    const { created } = await voices.createIfAbsent({
      voiceId: 'vc_shared',
      status: 'received',
      provider: 'smallest',
      displayName: undefined,
      source: { bucket: 'b', key: 'incoming/x.wav', versionId: undefined, bytes: 1 },
      createdAt: now,
      updatedAt: now,
      processing: {},
    });
    expect(created).toBe(true);
  });
});
