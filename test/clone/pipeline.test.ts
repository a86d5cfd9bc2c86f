import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { handleCloneEvent } from '../../functions/clone/batch';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { makeWav } from '../support/audio';
import { lambdaContext, s3NotificationRecord, sqsEvent, sqsRecord } from '../support/aws-local';
import { BUCKET, useClonePipeline } from './pipeline-support';

// Uploads through the clone pipeline: cloned, deduplicated, rejected, counted, handed back.
const { env, uniqueWav, pipeline, upload, voice } = useClonePipeline();

describe('clone pipeline (S3 and DynamoDB servers, provider simulators over HTTP)', () => {
  it('clones an upload whose key has spaces and non-Latin characters, as S3 encodes it in the event', async () => {
    const key = 'incoming/smallest/Zoë Ünal 東京 (take 2).wav';
    const { voiceId, record } = await upload(key, uniqueWav());
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    expect(response.batchItemFailures).toEqual([]);
    const stored = await voice(voiceId);
    expect(stored.status).toBe('ready');
    expect(stored.source.key).toBe(key);
    expect(stored.displayName).toBe('Zoë Ünal 東京 (take 2)');
    expect(stored.providerVoiceId).toMatch(/^voice_/);
    expect(stored.source).toMatchObject({
      format: 'wav',
      sampleRate: 16_000,
      channels: 1,
      bytes: expect.any(Number),
    });
    expect(stored.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    const clone = env.smallest.state.clones.get(stored.providerVoiceId as string);
    expect(clone?.tags).toContain(voiceId);
  });

  it('clones through Typecast for incoming/typecast/ and takes options from object metadata', async () => {
    const { voiceId, record } = await upload('incoming/typecast/bob.mp3.wav', uniqueWav(7), {
      'display-name': encodeURIComponent('Bøb – narrator'),
      model: 'ssfm-v21',
      language: 'eng',
      tags: 'warm, calm ,',
    });
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    const stored = await voice(voiceId);
    expect(stored).toMatchObject({
      status: 'ready',
      provider: 'typecast',
      displayName: 'Bøb – narrator',
      model: 'ssfm-v21',
      language: 'eng',
    });
    expect(stored.tags).toEqual(['warm', 'calm']);
    expect(stored.providerVoiceId).toMatch(/^uc_[0-9a-f]{24}$/);
  });

  it('ignores the s3:TestEvent S3 sends when the notification is created', async () => {
    const before = env.smallest.state.counts.clone;
    const body = JSON.stringify({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Time: '2026-01-01T00:00:00Z',
      Bucket: BUCKET,
    });
    expect(await handleCloneEvent(sqsEvent(sqsRecord(body)), lambdaContext(), env.dependencies)).toEqual({
      batchItemFailures: [],
      redeliveries: [],
    });
    expect(env.smallest.state.counts.clone).toBe(before);
  });

  it('calls the provider once when one S3 event is delivered twice at the same moment', async () => {
    const { voiceId, record } = await upload('incoming/smallest/twice.wav', uniqueWav());
    const before = env.smallest.state.counts.clone;
    const responses = await Promise.all([
      handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies),
      handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies),
    ]);
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    expect(env.smallest.state.counts.clone - before).toBe(1);
    expect((await voice(voiceId)).status).toBe('ready');
    // A late third delivery changes nothing.
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    expect(env.smallest.state.counts.clone - before).toBe(1);
  });

  it('records a byte-identical re-upload as a duplicate of the existing voice without cloning again', async () => {
    const audio = uniqueWav();
    const first = await upload('incoming/smallest/original.wav', audio);
    await handleCloneEvent(sqsEvent(first.record()), lambdaContext(), env.dependencies);
    const before = env.smallest.state.counts.clone;
    const second = await upload('incoming/smallest/copy of original.wav', audio);
    await handleCloneEvent(sqsEvent(second.record()), lambdaContext(), env.dependencies);
    expect(env.smallest.state.counts.clone).toBe(before);
    expect(await voice(second.voiceId)).toMatchObject({ status: 'duplicate', duplicateOf: first.voiceId });
  });

  it('clones once when two byte-identical uploads are processed at the same moment', async () => {
    const audio = uniqueWav();
    const a = await upload('incoming/smallest/same-a.wav', audio);
    const b = await upload('incoming/smallest/same-b.wav', audio);
    const before = env.smallest.state.counts.clone;
    await Promise.all([
      handleCloneEvent(sqsEvent(a.record()), lambdaContext(), env.dependencies),
      handleCloneEvent(sqsEvent(b.record()), lambdaContext(), env.dependencies),
    ]);
    expect(env.smallest.state.counts.clone - before).toBe(1);
    const statuses = [(await voice(a.voiceId)).status, (await voice(b.voiceId)).status].sort();
    expect(statuses).toEqual(['duplicate', 'ready']);
  });

  it('clones byte-identical audio again for another model', async () => {
    const audio = uniqueWav();
    const first = await upload('incoming/typecast/m1.wav', audio);
    const second = await upload('incoming/typecast/m2.wav', audio, { model: 'ssfm-v21' });
    await handleCloneEvent(sqsEvent(first.record(), second.record()), lambdaContext(), env.dependencies);
    expect((await voice(first.voiceId)).status).toBe('ready');
    expect((await voice(second.voiceId)).status).toBe('ready');
  });

  it('rejects invalid uploads with every problem, keeps the object and never calls the provider', async () => {
    const before = env.smallest.state.counts.clone + env.typecast.state.counts.clone;
    const cases: [string, Uint8Array, Record<string, string>, string[]][] = [
      ['incoming/smallest/empty.wav', new Uint8Array(0), {}, ['empty_file']],
      [
        'incoming/smallest/notes.wav',
        new TextEncoder().encode('these are not audio bytes '.repeat(100)),
        {},
        ['unreadable_audio'],
      ],
      ['incoming/smallest/short.wav', makeWav({ durationSec: 2 }), {}, ['audio_too_short']],
      ['incoming/smallest/long.wav', makeWav({ durationSec: 20, sampleRate: 8_000 }), {}, ['audio_too_long']],
      ['incoming/typecast/a name that is far too long for typecast.wav', uniqueWav(), {}, ['invalid_name']],
      [
        'incoming/smallest/old-model.wav',
        uniqueWav(),
        { model: 'lightning-v2', language: 'english' },
        ['invalid_option'],
      ],
      ['incoming/elevenlabs/x.wav', uniqueWav(), {}, ['unknown_provider']],
      [
        'incoming/smallest/big.wav',
        makeWav({ durationSec: 40, sampleRate: 44_100, channels: 2 }),
        {},
        ['file_too_large', 'audio_too_long'],
      ],
    ];
    for (const [key, body, metadata, codes] of cases) {
      const { voiceId, record } = await upload(key, body, metadata);
      const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
      expect(response.batchItemFailures, key).toEqual([]);
      const stored = await voice(voiceId);
      expect(stored.status, key).toBe('rejected');
      expect(stored.error?.retryable, key).toBe(false);
      expect(codes, key).toContain(stored.error?.code);
      expect(stored.error?.message.length, key).toBeGreaterThan(10);
      const head = await env.local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      expect(head.ContentLength, key).toBe(body.length);
    }
    expect(env.smallest.state.counts.clone + env.typecast.state.counts.clone).toBe(before);
  });

  it('rejects an oversize upload with file_too_large (and an invalid option) in one record', async () => {
    const body = new Uint8Array(5 * 1024 * 1024 + 1);
    const { voiceId, record } = await upload('incoming/smallest/huge.wav', body, { model: 'lightning-v2' });
    await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    const stored = await voice(voiceId);
    expect(stored.error?.code).toBe('file_too_large');
    expect(stored.error?.message).toMatch(/lightning-v2/);
  });

  it('rejects a key with a ".." segment, which no URL can address, instead of retrying it forever', async () => {
    const key = 'incoming/smallest/../escape.wav';
    const before = env.smallest.state.counts.clone;
    const response = await handleCloneEvent(
      sqsEvent(s3NotificationRecord({ bucket: BUCKET, key, size: 100_000, etag: 'dot-segment' })),
      lambdaContext(),
      env.dependencies,
    );

    expect(response.batchItemFailures).toEqual([]);
    expect(await voice(deriveVoiceId(BUCKET, key, 'dot-segment'))).toMatchObject({
      status: 'rejected',
      error: { code: 'unsupported_key', retryable: false },
    });
    expect(env.smallest.state.counts.clone).toBe(before);
  });

  it('records source_missing when the object was deleted before processing', async () => {
    const { voiceId, record } = await upload('incoming/smallest/vanished.wav', uniqueWav());
    await env.local.s3.send(
      new DeleteObjectCommand({ Bucket: BUCKET, Key: 'incoming/smallest/vanished.wav' }),
    );
    const response = await handleCloneEvent(sqsEvent(record()), lambdaContext(), env.dependencies);
    expect(response.batchItemFailures).toEqual([]);
    expect(await voice(voiceId)).toMatchObject({ status: 'failed', error: { code: 'source_missing' } });
  });

  it('counts each outcome and the provider latency as business metrics', async () => {
    const counts: Record<string, number> = {};
    const latencies: string[] = [];
    const deps = pipeline({
      metrics: {
        count: (name, value = 1) => {
          counts[name] = (counts[name] ?? 0) + value;
        },
        providerLatency: (provider, operation) => latencies.push(`${provider}:${operation}`),
        providerCount: () => undefined,
      },
    });
    const audio = uniqueWav();
    const ready = await upload('incoming/smallest/metrics-ready.wav', audio);
    const duplicate = await upload('incoming/smallest/metrics-duplicate.wav', audio);
    const rejected = await upload('incoming/smallest/metrics-rejected.wav', new Uint8Array(0));
    await handleCloneEvent(
      sqsEvent(ready.record(), duplicate.record(), rejected.record()),
      lambdaContext(),
      deps,
    );
    expect(counts).toEqual({ ClonesStarted: 1, ClonesReady: 1, UploadsDuplicate: 1, UploadsRejected: 1 });
    expect(latencies).toEqual(['smallest:clone']);
  });

  it('hands messages back untouched when the invocation has too little time left', async () => {
    const { voiceId, record } = await upload('incoming/smallest/late.wav', uniqueWav());
    const message = record();
    const response = await handleCloneEvent(sqsEvent(message), lambdaContext(10), env.dependencies);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: message.messageId }]);
    // Sent again as a new message, so a delivery that was never tried does not count towards the DLQ.
    expect(response.redeliveries).toEqual([
      { messageId: message.messageId, kind: 'requeue', delaySeconds: 0 },
    ]);
    expect(await env.voices.get(voiceId)).toBeUndefined();
  });
});
