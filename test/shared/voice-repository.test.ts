import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveVoiceId, type VoiceRecord } from '../../functions/shared/voices/record';
import { audioClaimKey, VoiceRepository } from '../../functions/shared/voices/repository';
import { localDynamoClient } from '../../local/servers';
import { startAwsLocal } from '../support/aws-local';

let local: Awaited<ReturnType<typeof startAwsLocal>>;
let voices: VoiceRepository;
let counter = 0;

beforeAll(async () => {
  local = await startAwsLocal({ bucket: 'repository-test', table: 'voices' });
  voices = new VoiceRepository(local.dynamo, 'voices');
});

afterAll(async () => {
  await local?.stop();
});

function newRecord(): VoiceRecord {
  counter += 1;
  const now = new Date().toISOString();
  return {
    voiceId: deriveVoiceId('b', `incoming/${counter}.wav`, 'e'),
    status: 'received',
    provider: 'smallest',
    source: { bucket: 'b', key: `incoming/${counter}.wav`, bytes: 10 },
    createdAt: now,
    updatedAt: now,
    processing: {},
  };
}

describe('Class: VoiceRepository (against a DynamoDB-compatible server)', () => {
  it('creates a record once and returns the stored one on a repeated event', async () => {
    const record = newRecord();
    expect((await voices.createIfAbsent(record)).created).toBe(true);
    const again = await voices.createIfAbsent({ ...record, displayName: 'changed' });
    expect(again.created).toBe(false);
    expect(again.record.displayName).toBeUndefined();
    expect(again.record.listPartition).toBe('voice');
  });

  it('grants the lease to exactly one of two concurrent deliveries', async () => {
    const record = newRecord();
    await voices.createIfAbsent(record);
    const now = Date.now();
    const results = await Promise.all([
      voices.acquireLease(record.voiceId, 'a', now + 60_000, now),
      voices.acquireLease(record.voiceId, 'b', now + 60_000, now),
    ]);
    const winners = results.filter(Boolean);
    expect(winners).toHaveLength(1);
    const winnerToken = winners[0]?.processing?.leaseToken as string;
    expect(
      await voices.transition(record.voiceId, {
        from: ['received'],
        to: 'validating',
        token: winnerToken,
        now: new Date(),
      }),
    ).toBe(true);
    expect(await voices.acquireLease(record.voiceId, 'c', now + 60_000, now)).toBeUndefined();
  });

  it('lets another delivery take over once the lease has expired', async () => {
    const record = newRecord();
    await voices.createIfAbsent(record);
    const now = Date.now();
    await voices.acquireLease(record.voiceId, 'a', now + 1_000, now);
    await voices.transition(record.voiceId, {
      from: ['received'],
      to: 'validating',
      token: 'a',
      now: new Date(),
    });
    expect(await voices.acquireLease(record.voiceId, 'b', now + 60_000, now + 500)).toBeUndefined();
    const taken = await voices.acquireLease(record.voiceId, 'b', now + 60_000, now + 2_000);
    expect(taken?.processing?.leaseToken).toBe('b');
    expect(taken?.processing?.attempts).toBe(2);
    expect(
      await voices.transition(record.voiceId, {
        from: ['validating'],
        to: 'cloning',
        token: 'a',
        now: new Date(),
      }),
    ).toBe(false);
  });

  it('refuses a transition from a status the record is not in', async () => {
    const record = newRecord();
    await voices.createIfAbsent(record);
    await voices.acquireLease(record.voiceId, 't', Date.now() + 60_000, Date.now());
    expect(
      await voices.transition(record.voiceId, {
        from: ['cloning'],
        to: 'ready',
        token: 't',
        now: new Date(),
      }),
    ).toBe(false);
  });

  it('sets and removes attributes in one transition and releases the lease', async () => {
    const record = newRecord();
    await voices.createIfAbsent(record);
    await voices.acquireLease(record.voiceId, 't', Date.now() + 60_000, Date.now());
    await voices.transition(record.voiceId, {
      from: ['received'],
      to: 'validating',
      token: 't',
      now: new Date(),
    });
    await voices.transition(record.voiceId, {
      from: ['validating'],
      to: 'rejected',
      token: 't',
      changes: {
        error: { code: 'empty_file', message: 'The file is empty.', retryable: false },
        displayName: null,
      },
      releaseLease: true,
      now: new Date(),
    });
    const stored = await voices.get(record.voiceId);
    expect(stored?.status).toBe('rejected');
    expect(stored?.error?.code).toBe('empty_file');
    expect(stored?.processing?.leaseToken).toBeUndefined();
  });

  it('gives byte-identical audio to the first claimant and lets a failed owner be replaced', async () => {
    const key = audioClaimKey('smallest', 'lightning-v3.1', 'en', `hash${counter}`);
    const first = newRecord();
    const second = newRecord();
    await voices.createIfAbsent(first);
    await voices.createIfAbsent(second);
    const claims = await Promise.all([
      voices.claimAudio(key, first.voiceId, new Date()),
      voices.claimAudio(key, second.voiceId, new Date()),
    ]);
    expect(new Set(claims.map((claim) => claim.ownerVoiceId)).size).toBe(1);
    const owner = claims[0]?.ownerVoiceId as string;
    const other = owner === first.voiceId ? second.voiceId : first.voiceId;
    await voices.acquireLease(owner, 'o', Date.now() + 60_000, Date.now());
    await voices.transition(owner, { from: ['received'], to: 'validating', token: 'o', now: new Date() });
    await voices.transition(owner, { from: ['validating'], to: 'failed', token: 'o', now: new Date() });
    expect((await voices.claimAudio(key, other, new Date())).ownerVoiceId).toBe(other);
    await voices.releaseClaim(key, other);
    expect((await voices.claimAudio(key, owner, new Date())).ownerVoiceId).toBe(owner);
  });

  it('gives up claiming after a bounded number of lost races, as a retryable error', async () => {
    const key = audioClaimKey('smallest', 'lightning-v3.1', 'en', `contended${counter}`);
    const claimant = newRecord();
    await voices.createIfAbsent(claimant);
    // A rival writer on the same server that always wins: before each claim attempt it takes the claim,
    // and before the claimant reads who owns it, it lets go.
    const rival = localDynamoClient(local.dynamoEndpoint);
    const contended = localDynamoClient(local.dynamoEndpoint);
    let attempts = 0;
    contended.middlewareStack.add(
      (next) => async (args) => {
        // The input as lib-dynamodb hands it over, before or after marshalling.
        const input = args.input as { Item?: unknown; Key?: unknown };
        const names = (value: unknown) => JSON.stringify(value ?? null).includes(key);
        if (names(input.Item)) {
          attempts += 1;
          await rival.send(
            new PutItemCommand({
              TableName: 'voices',
              Item: { voiceId: { S: key }, ownerVoiceId: { S: 'vc_rival' } },
            }),
          );
        } else if (names(input.Key)) {
          await rival.send(new DeleteItemCommand({ TableName: 'voices', Key: { voiceId: { S: key } } }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'rivalWriter' },
    );

    const claiming = new VoiceRepository(contended, 'voices').claimAudio(key, claimant.voiceId, new Date());

    await expect(claiming).rejects.toMatchObject({ code: 'claim_contended', retryable: true });
    expect(attempts).toBe(5);
  });
});
