import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleCloneEvent } from '../../functions/clone/batch';
import { PROVIDER_NAMES, type ProviderName } from '../../functions/shared/providers/types';
import { VALIDATION_CODES } from '../../functions/shared/validation/types';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { concat, randomBytes } from '../audio/helpers';
import { makeMp3, makeWav } from '../support/audio';
import { lambdaContext, s3NotificationRecord, sqsEvent } from '../support/aws-local';
import { startPipelineFixture } from '../support/pipeline-fixture';

/**
 * End-to-end fuzzing of the clone pipeline: random and damaged uploads go through the real S3 and
 * DynamoDB servers and the real clone handler, with both provider simulators listening. Garbage must end
 * `rejected` with a reason and never cost a provider call; a damaged file that is still valid audio may
 * legitimately be cloned. Few runs: each one is a real upload and a real handler invocation.
 */

const CODES: ReadonlySet<string> = new Set(VALIDATION_CODES);
const FINAL_STATUSES = new Set(['ready', 'rejected', 'failed', 'duplicate']);

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let uploadNumber = 0;

beforeAll(async () => {
  fixture = await startPipelineFixture({ bucket: 'fuzz-uploads', table: 'fuzz-voices' });
}, 60_000);

afterAll(async () => {
  await fixture?.stop();
});

const ascii = (text: string) => [...text].map((character) => character.charCodeAt(0));

const MAGIC_PREFIXES: readonly (readonly number[])[] = [
  [],
  [...ascii('RIFF'), 0xff, 0xff, 0xff, 0x7f, ...ascii('WAVE')],
  [...ascii('ID3'), 3, 0, 0, 0, 0, 0x7f, 0x7f],
  [0xff, 0xfb, 0x90, 0x64],
  [0, 0, 0, 0x18, ...ascii('ftypM4A ')],
  [0x1a, 0x45, 0xdf, 0xa3],
];

/** Bytes that are not audio: random, or random behind a real magic number. */
const garbage = fc
  .record({
    prefix: fc.constantFrom(...MAGIC_PREFIXES),
    length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 65, max: 100_000 })),
    seed: fc.integer(),
  })
  .map(({ prefix, length, seed }) => ({
    kind: 'garbage' as const,
    bytes: concat(Uint8Array.from(prefix), randomBytes(length, seed)),
  }));

// Samples both providers accept (7 s, WAV and MP3): their mutants may still be valid audio.
const VALID = {
  wav: makeWav({ durationSec: 7, sampleRate: 16_000, seed: 41 }),
  mp3: makeMp3({ durationSec: 7, seed: 42 }),
};

const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** A valid sample cut short, bit-flipped, spliced with random bytes, or with a WAV header field set to 0 or all ones. */
const damaged = fc
  .record({
    base: fc.constantFrom<keyof typeof VALID>('wav', 'mp3'),
    change: fc.oneof(
      fc.record({ kind: fc.constant('truncate' as const), keep: fraction }),
      fc.record({
        kind: fc.constant('flip' as const),
        where: fc.array(fraction, { minLength: 1, maxLength: 16 }),
      }),
      fc.record({ kind: fc.constant('splice' as const), from: fraction, seed: fc.integer() }),
      fc.record({
        kind: fc.constant('header' as const),
        // RIFF size, channels, sample rate, byte rate, block align, data size.
        offset: fc.constantFrom(4, 22, 24, 28, 32, 40),
        value: fc.constantFrom(0, 0xffff_ffff),
      }),
    ),
  })
  .map(({ base, change }) => {
    const original = VALID[base];
    const bytes = original.slice();
    const at = (share: number) => Math.floor(share * original.length);
    switch (change.kind) {
      case 'truncate':
        return { kind: 'damaged' as const, bytes: bytes.slice(0, at(change.keep)) };
      case 'flip':
        for (const share of change.where) bytes[at(share)] = (bytes[at(share)] ?? 0) ^ 0x10;
        return { kind: 'damaged' as const, bytes };
      case 'splice':
        bytes.set(randomBytes(512, change.seed).subarray(0, bytes.length - at(change.from)), at(change.from));
        return { kind: 'damaged' as const, bytes };
      default: {
        const view = new DataView(bytes.buffer);
        // Fields are 16 bits at 22 and 32, 32 bits elsewhere (an MP3 gets its frame headers hit instead).
        if (change.offset === 22 || change.offset === 32)
          view.setUint16(change.offset, change.value & 0xffff, true);
        else view.setUint32(change.offset, change.value, true);
        return { kind: 'damaged' as const, bytes };
      }
    }
  });

/** Display-name metadata as clients send it: plain, percent-encoded, malformed, or hiding a line break. */
const displayName = fc.option(
  fc.constantFrom('Fuzz', '%F0%9F%98%80%E2%80%AE', '%E0%A4%A', '%0A', '=?UTF-8?B?w5zDsQ==?=', '%00'),
  { nil: undefined },
);

async function uploadAndClone(provider: ProviderName, bytes: Uint8Array, name: string | undefined) {
  uploadNumber += 1;
  const key = `incoming/${provider}/fuzz ${uploadNumber}.wav`;
  const { bucket, local } = fixture;
  await local.s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: bytes,
      Metadata: name === undefined ? {} : { 'display-name': name },
    }),
  );
  const head = await local.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const etag = (head.ETag ?? '').replace(/"/g, '');
  const response = await handleCloneEvent(
    sqsEvent(s3NotificationRecord({ bucket, key, size: bytes.length, etag })),
    lambdaContext(),
    fixture.cloneDependencies,
  );
  return { response, record: await fixture.voices.get(deriveVoiceId(bucket, key, etag)) };
}

function cloneRequests(): number {
  return fixture.smallest.state.counts.clone + fixture.typecast.state.counts.clone;
}

describe('clone pipeline fuzzing (S3 and DynamoDB servers, provider simulators over HTTP)', () => {
  it('rejects garbage with a reason and never sends it to a provider; damaged audio gets a legitimate verdict', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(garbage, damaged),
        fc.constantFrom(...PROVIDER_NAMES),
        displayName,
        async (upload, provider, name) => {
          const before = cloneRequests();

          const { response, record } = await uploadAndClone(provider, upload.bytes, name);

          const providerCalls = cloneRequests() - before;
          expect(record, 'a record for every upload').toBeDefined();
          if (!record) return;
          expect(FINAL_STATUSES.has(record.status), record.status).toBe(true);
          if (upload.kind === 'garbage') expect(record.status).toBe('rejected');
          if (record.status === 'rejected') {
            // A rejection is final: not retried, and nothing reached a provider.
            expect(response.batchItemFailures).toEqual([]);
            expect(providerCalls).toBe(0);
            expect(CODES.has(record.error?.code ?? ''), record.error?.code).toBe(true);
            expect(record.error?.message).toMatch(/\w/);
            // The reason is for people: no parser crash text, no values that went missing on the way.
            expect(record.error?.message).not.toMatch(/NaN|undefined|Cannot read prop|is not a function/);
            expect(record.error?.retryable).toBe(false);
            expect(record.providerVoiceId).toBeUndefined();
          }
          if (record.status === 'failed') {
            expect(record.error?.code.length).toBeGreaterThan(0);
            expect(record.error?.message.length).toBeGreaterThan(0);
          }
          if (record.status === 'ready') {
            expect(providerCalls).toBe(1);
            expect(record.providerVoiceId).toEqual(expect.any(String));
            expect(record.source.durationSec).toBeGreaterThanOrEqual(5);
          }
          if (record.status === 'duplicate') expect(providerCalls).toBe(0);
        },
      ),
      { numRuns: 15 },
    );
  });
});
