/**
 * Runtime benchmarks against real local servers (s3rver, dynalite) and the zero-latency provider
 * simulators: validation reads, clone pipeline and speech overhead, and a clone's peak memory.
 */

import { fileURLToPath } from 'node:url';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type ApiDependencies, createApiApp } from '../../functions/api/app';
import { handleCloneEvent } from '../../functions/clone/batch';
import type { ClonePipelineDependencies } from '../../functions/clone/dependencies';
import { s3ByteSource } from '../../functions/shared/audio/sources';
import type { MeteredByteSource } from '../../functions/shared/audio/types';
import { TYPECAST_LIMITS } from '../../functions/shared/providers/typecast/limits';
import type { ProviderName, VoiceProvider } from '../../functions/shared/providers/types';
import { validateSource } from '../../functions/shared/validation/validate';
import { deriveVoiceId } from '../../functions/shared/voices/record';
import { collectAfterResponse } from '../../test/support/after-response';
import { makeMp3, makeWav } from '../../test/support/audio';
import { lambdaContext, s3NotificationRecord, sqsEvent } from '../../test/support/aws-local';
import { SIMULATOR_KEYS } from '../../test/support/clone-dependencies';
import type { startPipelineFixture } from '../../test/support/pipeline-fixture';
import type { MemoryChildInput, MemoryChildOutput } from './memory-child';
import type {
  ClonePipelineFigures,
  MemoryFigures,
  SpeechFigures,
  ValidationCase,
  ValidationFigures,
} from './report';
import { lastJsonLine, runNode } from './spawn';
import { median, percentile } from './stats';

export type PipelineFixture = Awaited<ReturnType<typeof startPipelineFixture>>;

/**
 * Wraps providers so that every clone and synthesis call adds its wall time (the HTTP request to the
 * simulator, retries included) to `providerMs`: the time that is the provider's, not ours.
 */
export class ProviderClock {
  providerMs = 0;

  wrap(provider: VoiceProvider): VoiceProvider {
    const timed =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const started = performance.now();
        try {
          return await call(...args);
        } finally {
          this.providerMs += performance.now() - started;
        }
      };
    return {
      name: provider.name,
      limits: provider.limits,
      cloneVoice: timed((request, options) => provider.cloneVoice(request, options)),
      synthesize: timed((request, options) => provider.synthesize(request, options)),
      // The provider's time for a stream runs from the request until its last chunk has arrived.
      synthesizeStream: async (request, options) => {
        const started = performance.now();
        const stream = await provider.synthesizeStream(request, options);
        const clock = this;
        return {
          ...stream,
          chunks: (async function* () {
            try {
              yield* stream.chunks;
            } finally {
              clock.providerMs += performance.now() - started;
            }
          })(),
        };
      },
      deleteVoice: (providerVoiceId, options) => provider.deleteVoice(providerVoiceId, options),
      findClone: (hint, options) => provider.findClone(hint, options),
    };
  }

  wrapAll(providers: Readonly<Record<ProviderName, VoiceProvider>>): Record<ProviderName, VoiceProvider> {
    return { smallest: this.wrap(providers.smallest), typecast: this.wrap(providers.typecast) };
  }
}

/** Deterministic noise (xorshift32): the same bytes every run, so bytes-read figures are comparable. */
export function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Uint8Array {
  const bytes = new Uint8Array(length);
  const words = new Uint32Array(bytes.buffer, 0, Math.floor(length / 4));
  let state = seed >>> 0 || 1;
  for (let index = 0; index < words.length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    words[index] = state >>> 0;
  }
  for (let index = words.length * 4; index < length; index += 1) bytes[index] = index & 0xff;
  return bytes;
}

async function putObject(fixture: PipelineFixture, key: string, body: Uint8Array): Promise<string> {
  const { s3 } = fixture.local;
  await s3.send(new PutObjectCommand({ Bucket: fixture.bucket, Key: key, Body: body }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: fixture.bucket, Key: key }));
  return (head.ETag ?? '').replace(/"/g, '');
}

const MIB = 1024 * 1024;

/**
 * validateSource over s3ByteSource (ranged GETs against s3rver) with Typecast's rules: how many bytes each
 * kind of upload costs to judge, and how long it takes (median of `runs`).
 */
export async function benchValidation(
  fixture: PipelineFixture,
  runs: number,
): Promise<Record<ValidationCase, ValidationFigures>> {
  const objects: Record<ValidationCase, Uint8Array> = {
    // Over Typecast's 25 MiB: the size alone decides, so nothing should be read.
    oversize: new Uint8Array(30 * MIB),
    // Within the limit but not audio: the probe should give up after the first bytes.
    garbage: pseudoRandomBytes(20 * MIB),
    wav: makeWav({ durationSec: 118, sampleRate: 44_100, channels: 2 }),
    mp3: makeMp3({ durationSec: 10 }),
  };
  const figures = {} as Record<ValidationCase, ValidationFigures>;
  for (const [name, body] of Object.entries(objects) as [ValidationCase, Uint8Array][]) {
    const key = `incoming/typecast/bench-validation-${name}`;
    await putObject(fixture, key, body);
    const times: number[] = [];
    let bytesRead = 0;
    let requests = 0;
    let verdict = '';
    for (let run = 0; run < runs; run += 1) {
      const source = countingRequests(
        s3ByteSource({ client: fixture.local.s3, bucket: fixture.bucket, key, size: body.length }),
      );
      const started = performance.now();
      const { report } = await validateSource(source, {
        provider: 'typecast',
        displayName: 'Bench',
        options: {},
      });
      times.push(performance.now() - started);
      bytesRead = source.bytesRead;
      requests = source.requests;
      verdict = report.ok ? 'ok' : report.errors.map((issue) => issue.code).join(', ');
    }
    figures[name] = { sizeBytes: body.length, bytesRead, requests, ms: median(times), verdict, runs };
  }
  return figures;
}

/** Counts the GETs a validation makes (each one is a round trip to S3). */
function countingRequests(source: MeteredByteSource): MeteredByteSource & { readonly requests: number } {
  let requests = 0;
  return {
    size: source.size,
    get bytesRead() {
      return source.bytesRead;
    },
    get requests() {
      return requests;
    },
    read(start, end) {
      // An empty range is answered without a request (see s3ByteSource).
      if (Math.min(end, source.size) > Math.max(0, start)) requests += 1;
      return source.read(start, end);
    },
    readAll() {
      requests += 1;
      return source.readAll();
    },
  };
}

/**
 * `uploads` distinct 6 s Smallest uploads, each cloned by handleCloneEvent one after another (plus
 * `warmup` unmeasured ones first). Overhead per upload = handler wall time − provider wall time.
 */
export async function benchClonePipeline(
  fixture: PipelineFixture,
  uploads: number,
  warmup: number,
): Promise<ClonePipelineFigures & { readonly voiceIds: readonly string[] }> {
  const clock = new ProviderClock();
  const dependencies: ClonePipelineDependencies = {
    ...fixture.cloneDependencies,
    providers: clock.wrapAll(fixture.providers),
  };
  const overheads: number[] = [];
  const handlerTimes: number[] = [];
  const providerTimes: number[] = [];
  const voiceIds: string[] = [];
  let uploadBytes = 0;
  for (let index = 0; index < warmup + uploads; index += 1) {
    const body = makeWav({ durationSec: 6, sampleRate: 16_000, seed: 1_000 + index });
    uploadBytes = body.length;
    const key = `incoming/smallest/bench-clone-${index}.wav`;
    const etag = await putObject(fixture, key, body);
    const event = sqsEvent(s3NotificationRecord({ bucket: fixture.bucket, key, size: body.length, etag }));
    const providerBefore = clock.providerMs;
    const started = performance.now();
    const response = await handleCloneEvent(event, lambdaContext(), dependencies);
    const handlerMs = performance.now() - started;
    const providerMs = clock.providerMs - providerBefore;

    const voiceId = deriveVoiceId(fixture.bucket, key, etag);
    const record = await fixture.voices.get(voiceId);
    if (response.batchItemFailures.length > 0 || record?.status !== 'ready') {
      throw new Error(`bench upload ${key} ended ${record?.status ?? 'without a record'}, not ready`);
    }
    voiceIds.push(voiceId);
    if (index < warmup) continue;
    handlerTimes.push(handlerMs);
    providerTimes.push(providerMs);
    overheads.push(handlerMs - providerMs);
  }
  const totalMs = handlerTimes.reduce((sum, ms) => sum + ms, 0);
  return {
    overheadMsP50: percentile(overheads, 50),
    overheadMsP95: percentile(overheads, 95),
    clonesPerSecond: uploads / (totalMs / 1000),
    uploads,
    concurrency: 1,
    uploadBytes,
    handlerMsP50: median(handlerTimes),
    providerMsP50: median(providerTimes),
    voiceIds,
  };
}

export const SPEECH_TEXT = 'Hello from the voicedrop benchmark.';

/** POST /voices/{id}/speech through the Hono app in-process; overhead = request time − synthesize time. */
export async function benchSpeech(
  fixture: PipelineFixture,
  voiceId: string,
  requests: number,
  warmup: number,
): Promise<SpeechFigures> {
  const clock = new ProviderClock();
  const dependencies: ApiDependencies = {
    s3: fixture.local.s3,
    bucket: fixture.bucket,
    voices: fixture.voices,
    providers: clock.wrapAll(fixture.providers),
    defaultProvider: 'smallest',
    defaultModels: fixture.cloneDependencies.defaultModels,
    speechUrlTtlSeconds: 900,
    uploadUrlTtlSeconds: 900,
    logger: fixture.cloneDependencies.logger,
  };
  const app = createApiApp(dependencies);
  const init: RequestInit = {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    // Without the cache: every request reaches the (zero-latency) provider, so this is the pipeline's own cost.
    body: JSON.stringify({ text: SPEECH_TEXT, cache: false }),
  };
  const overheads: number[] = [];
  const handlerTimes: number[] = [];
  const providerTimes: number[] = [];
  // The work each request leaves for after its response (usage) is done before the next one starts.
  const after = collectAfterResponse();
  for (let index = 0; index < warmup + requests; index += 1) {
    await after.settled();
    const providerBefore = clock.providerMs;
    const started = performance.now();
    const response = await app.request(`/voices/${voiceId}/speech`, init, undefined, after.executionContext);
    const audio = await response.arrayBuffer();
    const handlerMs = performance.now() - started;
    const providerMs = clock.providerMs - providerBefore;
    if (response.status !== 200 || audio.byteLength === 0) {
      throw new Error(`speech answered ${response.status} (${audio.byteLength} bytes)`);
    }
    if (index < warmup) continue;
    handlerTimes.push(handlerMs);
    providerTimes.push(providerMs);
    overheads.push(handlerMs - providerMs);
  }
  return {
    overheadMsP50: percentile(overheads, 50),
    overheadMsP95: percentile(overheads, 95),
    requests,
    characters: [...SPEECH_TEXT].length,
    handlerMsP50: median(handlerTimes),
    providerMsP50: median(providerTimes),
  };
}

/** 44.1 kHz stereo 16-bit is 176,400 B/s: 148 s is just under Typecast's 25 MiB and 150 s limits. */
export const MEMORY_UPLOAD = { durationSec: 148, sampleRate: 44_100, channels: 2 } as const;

const MEMORY_CHILD = new URL('./memory-child.ts', import.meta.url);

/**
 * Peak RSS growth of one Typecast clone of a just-under-25 MiB WAV, in a fresh process that holds only
 * the clone pipeline (servers and simulators stay in this process). The child clones a small upload first,
 * so that lazily loaded code and connection set-up are not counted as growth.
 */
export async function benchMemory(fixture: PipelineFixture, root: string): Promise<MemoryFigures> {
  const upload = makeWav(MEMORY_UPLOAD);
  if (upload.length > TYPECAST_LIMITS.maxBytes) throw new Error('memory upload is over the Typecast limit');
  const warmup = makeWav({ durationSec: 6, sampleRate: 16_000, seed: 77 });
  const objects = {
    warmup: { key: 'incoming/typecast/bench-memory-warmup.wav', size: warmup.length, etag: '' },
    upload: { key: 'incoming/typecast/bench-memory.wav', size: upload.length, etag: '' },
  };
  objects.warmup.etag = await putObject(fixture, objects.warmup.key, warmup);
  objects.upload.etag = await putObject(fixture, objects.upload.key, upload);

  const input: MemoryChildInput = {
    s3Endpoint: fixture.local.s3Endpoint,
    dynamoEndpoint: fixture.local.dynamoEndpoint,
    bucket: fixture.bucket,
    table: fixture.table,
    providerUrls: { smallest: fixture.smallest.url, typecast: fixture.typecast.url },
    keys: SIMULATOR_KEYS,
    warmup: objects.warmup,
    upload: objects.upload,
  };
  const run = await runNode(
    ['--expose-gc', '--import', 'tsx', fileURLToPath(MEMORY_CHILD), JSON.stringify(input)],
    {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
      timeoutMs: 120_000,
    },
  );
  const output = lastJsonLine<MemoryChildOutput>(run.stdout);
  const record = await fixture.voices.get(
    deriveVoiceId(fixture.bucket, objects.upload.key, objects.upload.etag),
  );
  const growthBytes = output.peakRssBytes - output.rssBeforeBytes;
  return {
    peakRssGrowthPerUploadByte: growthBytes / upload.length,
    uploadBytes: upload.length,
    durationSec: MEMORY_UPLOAD.durationSec,
    rssBeforeBytes: output.rssBeforeBytes,
    peakRssBytes: output.peakRssBytes,
    growthBytes,
    samples: output.samples,
    handlerMs: output.handlerMs,
    growthByPhaseBytes: {
      beforeProvider: output.peakRssByPhase.beforeProvider - output.rssBeforeBytes,
      provider: output.peakRssByPhase.provider - output.rssBeforeBytes,
      afterProvider: output.peakRssByPhase.afterProvider - output.rssBeforeBytes,
    },
    atProviderCallGrowthBytes: {
      rss: output.atProviderCall.rss - output.before.rss,
      heapUsed: output.atProviderCall.heapUsed - output.before.heapUsed,
      external: output.atProviderCall.external - output.before.external,
      arrayBuffers: output.atProviderCall.arrayBuffers - output.before.arrayBuffers,
    },
    outcome: record?.status ?? 'no record',
  };
}
