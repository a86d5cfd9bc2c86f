import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { marshall } from '@aws-sdk/util-dynamodb';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { DynamoDBRecord } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { handleVoiceStream } from '../../functions/events/stream-batch';
import type { EventEntry } from '../../functions/events/voice-events';
import { voiceEventFrom } from '../../functions/events/voice-events';
import { silentLog } from '../../functions/shared/logger';
import { handleWebhookBatch } from '../../functions/webhooks/batch';
import { parseWebhookMessage, webhookMessage } from '../../functions/webhooks/payload';
import { sqsRecord } from '../support/aws-local';

const ajv = new Ajv2020({ allErrors: true, validateFormats: false });
const schema = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8'));
const validDetail = ajv.compile(schema('voice-event-detail.schema.json'));
const validPayload = ajv.compile(schema('webhook-payload.schema.json'));

const VOICE_ID = 'vc_abcdefghijklmnopqrstuvwxyz';
const voice = (status: string, updatedAt: string) => ({
  voiceId: VOICE_ID,
  status,
  provider: 'smallest',
  source: { bucket: 'b', key: 'incoming/smallest/a.wav', bytes: 10 },
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt,
  listPartition: 'voice',
  processing: { leaseToken: 'secret-ish', attempts: 1 },
});

function record(oldImage: object | undefined, newImage: object | undefined, sequence = '1'): DynamoDBRecord {
  return {
    eventName: !newImage ? 'REMOVE' : oldImage ? 'MODIFY' : 'INSERT',
    dynamodb: {
      SequenceNumber: sequence,
      ...(oldImage ? { OldImage: marshall(oldImage) as never } : {}),
      ...(newImage ? { NewImage: marshall(newImage) as never } : {}),
    },
  };
}

describe('voice events from stream records', () => {
  it('announces a status change of a voice record, with the API voice JSON and a stable id', () => {
    const event = voiceEventFrom(record(voice('cloning', 't1'), voice('ready', '2026-12-01T00:00:05.000Z')));
    expect(event?.detailType).toBe('Voice Ready');
    expect(event?.detail).toMatchObject({
      voiceId: VOICE_ID,
      status: 'ready',
      previousStatus: 'cloning',
      provider: 'smallest',
    });
    expect(event?.detail.voice).not.toHaveProperty('processing');
    expect(event?.detail.voice).not.toHaveProperty('listPartition');
    expect(validDetail(event?.detail), JSON.stringify(validDetail.errors)).toBe(true);
    const again = voiceEventFrom(record(voice('cloning', 't1'), voice('ready', '2026-12-01T00:00:05.000Z')));
    expect(again?.detail.eventId).toBe(event?.detail.eventId);
    const later = voiceEventFrom(record(voice('cloning', 't1'), voice('ready', '2026-12-01T00:00:06.000Z')));
    expect(later?.detail.eventId).not.toBe(event?.detail.eventId);
  });

  it('announces a created record as received with previousStatus null', () => {
    const event = voiceEventFrom(record(undefined, voice('received', '2026-12-01T00:00:00.000Z')));
    expect(event?.detail).toMatchObject({ status: 'received', previousStatus: null });
  });

  it('ignores intermediate statuses, writes that keep the status, removals, claims, slots and other items', () => {
    expect(voiceEventFrom(record(voice('received', 'a'), voice('validating', 'b')))).toBeUndefined();
    expect(voiceEventFrom(record(voice('validating', 'a'), voice('cloning', 'b')))).toBeUndefined();
    expect(voiceEventFrom(record(voice('ready', 'a'), voice('deleting', 'b')))).toBeUndefined();
    expect(voiceEventFrom(record(voice('ready', 'a'), voice('ready', 'b')))).toBeUndefined();
    expect(voiceEventFrom(record(voice('deleted', 'a'), undefined))).toBeUndefined();
    // An audio claim and a provider slot: no list partition, even with a status-like attribute.
    const claim = { voiceId: 'audio#smallest#m#-#abc', ownerVoiceId: VOICE_ID, createdAt: 'x' };
    expect(voiceEventFrom(record(undefined, claim))).toBeUndefined();
    const slot = { voiceId: 'slot#smallest#0', status: 'ready', updatedAt: 'x' };
    expect(voiceEventFrom(record(undefined, slot))).toBeUndefined();
    const consent = { voiceId: 'cs_abc', status: 'deleted', updatedAt: 'x' };
    expect(voiceEventFrom(record({ ...consent, status: 'ready' }, consent))).toBeUndefined();
  });

  it('publishes in order and reports the first record of a failed chunk (PutEvents is mocked: no local EventBridge)', async () => {
    const published: EventEntry[] = [];
    let fail = true;
    const records = [
      record(undefined, voice('received', '2026-12-01T00:00:00.000Z'), '1'),
      record(voice('received', 'a'), voice('validating', 'b'), '2'),
      record(voice('validating', 'b'), voice('rejected', '2026-12-01T00:00:02.000Z'), '3'),
    ];
    const publish = async (entries: readonly EventEntry[]) => {
      if (fail) throw new Error('throttled');
      published.push(...entries);
    };
    expect(await handleVoiceStream({ Records: records }, { publish, log: silentLog })).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
    });
    fail = false;
    expect(await handleVoiceStream({ Records: records }, { publish, log: silentLog })).toEqual({
      batchItemFailures: [],
    });
    expect(published.map((entry) => entry.DetailType)).toEqual(['Voice Received', 'Voice Rejected']);
    expect(
      published.every((entry) => entry.Source === 'voicedrop' && entry.EventBusName === 'voicedrop'),
    ).toBe(true);
  });
});

describe('webhook deliveries', () => {
  async function receiver(answers: number[]) {
    const bodies: { headers: Record<string, string>; body: string }[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        bodies.push({ headers: request.headers as Record<string, string>, body });
        response.writeHead(answers.shift() ?? 204, { location: 'https://elsewhere.example' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return { url, bodies, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
  const event = voiceEventFrom(record(voice('cloning', 'a'), voice('ready', '2026-12-01T00:00:05.000Z')));
  if (!event) throw new Error('no event');

  async function deliverOnce(url: string, receiveCount = 1) {
    const deadLetters: string[] = [];
    const result = await handleWebhookBatch(
      {
        Records: [
          sqsRecord(
            webhookMessage('endpoint-1', event?.detailType ?? '', event?.detail as never),
            receiveCount,
          ),
        ],
      },
      {
        endpoints: new Map([['endpoint-1', { id: 'endpoint-1', url }]]),
        secretOf: async () => secret,
        deadLetter: async (_record, reason) => {
          deadLetters.push(reason);
        },
        log: silentLog,
      },
    );
    return { result, deadLetters };
  }

  it('signs per Standard Webhooks, sends the schema’s payload, retries 5xx and 429 with backoff under one webhook-id', async () => {
    const server = await receiver([500, 429]);
    try {
      const first = await deliverOnce(server.url, 1);
      expect(first.result.batchItemFailures).toHaveLength(1);
      expect(first.result.redeliveries[0]?.delaySeconds).toBeGreaterThanOrEqual(15);
      const second = await deliverOnce(server.url, 2);
      expect(second.result.redeliveries[0]?.delaySeconds).toBeGreaterThanOrEqual(30);
      const third = await deliverOnce(server.url, 3);
      expect(third.result).toEqual({ batchItemFailures: [], redeliveries: [] });
      const verifier = new Webhook(secret);
      for (const { headers, body } of server.bodies) {
        expect(headers['webhook-id']).toBe(event?.detail.eventId);
        expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
        const payload = verifier.verify(body, headers);
        expect(validPayload(payload), JSON.stringify(validPayload.errors)).toBe(true);
        expect(payload).toMatchObject({ type: 'voice.ready', data: { voiceId: VOICE_ID, status: 'ready' } });
      }
    } finally {
      await server.close();
    }
  });

  it('dead-letters other 4xx and redirects at once, without following them', async () => {
    const server = await receiver([410, 302]);
    try {
      expect((await deliverOnce(server.url)).deadLetters).toEqual(['HTTP 410']);
      const redirected = await deliverOnce(server.url);
      expect(redirected.deadLetters).toEqual(['HTTP 302']);
      expect(redirected.result.batchItemFailures).toEqual([]);
      expect(server.bodies).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  it('retries a timeout', async () => {
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const result = await handleWebhookBatch(
        { Records: [sqsRecord(webhookMessage('endpoint-1', 'Voice Ready', event.detail), 1)] },
        {
          endpoints: new Map([['endpoint-1', { id: 'endpoint-1', url }]]),
          secretOf: async () => secret,
          deadLetter: async () => undefined,
          timeoutMs: 200,
          log: silentLog,
        },
      );
      expect(result.batchItemFailures).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('reads the message an endpoint rule writes, and says in English what is wrong with another', () => {
    expect(parseWebhookMessage(webhookMessage('endpoint-1', 'Voice Ready', event.detail))).toEqual({
      ok: true,
      message: { endpoint: 'endpoint-1', detailType: 'Voice Ready', detail: event.detail },
    });
    const malformed = { endpoint: '', detailType: 'Voice Ready', detail: { ...event.detail, eventId: 'x' } };

    // The dead-letter reason: each field with zod's English message (functions/shared/zod-messages.ts).
    expect(parseWebhookMessage(JSON.stringify(malformed))).toEqual({
      ok: false,
      problem:
        'endpoint: Too small: expected string to have >=1 characters; ' +
        'detail.eventId: Invalid string: must match pattern /^evt_[a-z2-7]{26}$/',
    });
    expect(parseWebhookMessage('{')).toEqual({ ok: false, problem: 'the body is not JSON' });
  });
});
