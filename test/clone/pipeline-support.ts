import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { ClonePipelineDependencies } from '../../functions/clone/dependencies';
import { createStaticKeyStore } from '../../functions/shared/keys';
import { deriveVoiceId, type VoiceRecord } from '../../functions/shared/voices/record';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import {
  type SmallestSimulator,
  startSmallestSimulator,
  startTypecastSimulator,
  type TypecastSimulator,
} from '../../simulators';
import { makeWav } from '../support/audio';
import { s3NotificationRecord, startAwsLocal } from '../support/aws-local';
import { SIMULATOR_KEYS, testCloneDependencies, testProviders } from '../support/clone-dependencies';

/**
 * The clone pipeline tests' world: real S3 and DynamoDB servers, both provider simulators over HTTP, and
 * the clone pipeline wired to them with short provider timeouts and fast retries.
 */

export const BUCKET = 'uploads';
export const TABLE = 'voices';
export const KEYS = SIMULATOR_KEYS;

export interface ClonePipelineEnvironment {
  local: Awaited<ReturnType<typeof startAwsLocal>>;
  smallest: SmallestSimulator;
  typecast: TypecastSimulator;
  voices: VoiceRepository;
  /** A fresh pipeline for each test (simulator faults cleared). */
  dependencies: ClonePipelineDependencies;
}

/**
 * Starts the servers and simulators around the calling test file (beforeAll, afterAll) and gives each test
 * a fresh pipeline (beforeEach). The returned environment is filled in once the servers are up.
 */
export function useClonePipeline() {
  const env = {} as ClonePipelineEnvironment;
  let sampleNumber = 0;

  /** A distinct speech-like WAV each call (byte-identical audio would be deduplicated across tests). */
  function uniqueWav(seconds = 6): Uint8Array {
    sampleNumber += 1;
    return makeWav({ durationSec: seconds + sampleNumber * 0.01, sampleRate: 16_000 });
  }

  function pipeline(overrides: Partial<ClonePipelineDependencies> = {}): ClonePipelineDependencies {
    const keys = createStaticKeyStore(KEYS, 'the test');
    const providers = testProviders({
      urls: { smallest: env.smallest.url, typecast: env.typecast.url },
      keys,
      timeoutMs: 2_000,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
    });
    return testCloneDependencies({ s3: env.local.s3, voices: env.voices, providers, keys }, overrides);
  }

  async function upload(key: string, body: Uint8Array, metadata: Record<string, string> = {}) {
    await env.local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: metadata }),
    );
    const head = await env.local.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const etag = (head.ETag ?? '').replace(/"/g, '');
    return {
      voiceId: deriveVoiceId(BUCKET, key, etag),
      record: (receiveCount = 1) =>
        s3NotificationRecord({ bucket: BUCKET, key, size: body.length, etag, receiveCount }),
    };
  }

  async function voice(voiceId: string): Promise<VoiceRecord> {
    const record = await env.voices.get(voiceId);
    if (!record) throw new Error(`no record ${voiceId}`);
    return record;
  }

  beforeAll(async () => {
    env.local = await startAwsLocal({ bucket: BUCKET, table: TABLE });
    // A Smallest that deletes (the guide's route): the stray-clone and failed-clone tests check that the
    // pipeline removes clones, which the real one refuses to an API key since July 2026.
    env.smallest = await startSmallestSimulator({ cloneSlots: 1_000, deleteMode: 'lightning-large' });
    env.typecast = await startTypecastSimulator({ cloneSlots: 1_000 });
    env.voices = new VoiceRepository(env.local.dynamo, TABLE);
  });

  afterAll(async () => {
    await env.smallest?.close();
    await env.typecast?.close();
    await env.local?.stop();
  });

  beforeEach(() => {
    env.smallest.clearFaults();
    env.typecast.clearFaults();
    env.dependencies = pipeline();
  });

  return { env, uniqueWav, pipeline, upload, voice };
}
