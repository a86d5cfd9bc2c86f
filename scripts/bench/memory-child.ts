/**
 * Child process for the memory benchmark (run with `--expose-gc --import tsx`): clones one small upload to
 * warm up, then one large upload while sampling RSS, and prints one JSON line. It holds the clone pipeline
 * only; S3, DynamoDB and the provider simulators run in the parent.
 */

import { handleCloneEvent } from '../../functions/clone/batch';
import { createStaticKeyStore } from '../../functions/shared/keys';
import type { ProviderName, VoiceProvider } from '../../functions/shared/providers/types';
import { sleep } from '../../functions/shared/retry';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { localDynamoClient, localS3Client } from '../../local/servers';
import { lambdaContext, s3NotificationRecord, sqsEvent } from '../../test/support/aws-local';
import { testCloneDependencies, testProviders } from '../../test/support/clone-dependencies';

export interface MemoryChildObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

export interface MemoryChildInput {
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  readonly bucket: string;
  readonly table: string;
  readonly providerUrls: Readonly<Record<ProviderName, string>>;
  readonly keys: Readonly<Record<ProviderName, string>>;
  readonly warmup: MemoryChildObject;
  readonly upload: MemoryChildObject;
}

export interface MemoryChildOutput {
  /** RSS right before the large event, after two full collections. */
  readonly rssBeforeBytes: number;
  /** The highest of the samples and (if it rose during the event) the kernel's high-water mark. */
  readonly peakRssBytes: number;
  readonly samples: number;
  readonly handlerMs: number;
  readonly batchItemFailures: number;
  /** Highest sampled RSS per phase of the event: up to the provider call, during it, after it. */
  readonly peakRssByPhase: Readonly<Record<Phase, number>>;
  /** process.memoryUsage() as the provider's cloneVoice is entered (audio downloaded, validated, hashed). */
  readonly atProviderCall: MemoryUsage;
  /** The same right before the event. */
  readonly before: MemoryUsage;
}

export type MemoryUsage = Readonly<Record<'rss' | 'heapUsed' | 'external' | 'arrayBuffers', number>>;

export type Phase = 'beforeProvider' | 'provider' | 'afterProvider';

/** RSS sampling interval: a clone of 25 MB takes a few hundred milliseconds. */
const SAMPLE_EVERY_MS = 2;

/** Samples RSS into the peak of the phase the event is in; the phased providers move it on. */
class PhaseRecorder {
  phase: Phase = 'beforeProvider';
  readonly peakRssByPhase: Record<Phase, number> = { beforeProvider: 0, provider: 0, afterProvider: 0 };
  atProviderCall: MemoryUsage = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };

  sample(): number {
    const rss = process.memoryUsage.rss();
    this.peakRssByPhase[this.phase] = Math.max(this.peakRssByPhase[this.phase], rss);
    return rss;
  }

  /** Back to the start, so that the warm-up event's figures do not count. */
  reset(): void {
    this.phase = 'beforeProvider';
    for (const phase of Object.keys(this.peakRssByPhase) as Phase[]) this.peakRssByPhase[phase] = 0;
  }
}

/** Marks the phases: the provider's clone call is where the multipart body is built and sent. */
function phased(inner: VoiceProvider, recorder: PhaseRecorder): VoiceProvider {
  return {
    name: inner.name,
    limits: inner.limits,
    cloneVoice: async (request, options) => {
      recorder.sample();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      recorder.atProviderCall = { rss, heapUsed, external, arrayBuffers };
      recorder.phase = 'provider';
      try {
        return await inner.cloneVoice(request, options);
      } finally {
        recorder.sample();
        recorder.phase = 'afterProvider';
      }
    },
    synthesize: (request, options) => inner.synthesize(request, options),
    synthesizeStream: (request, options) => inner.synthesizeStream(request, options),
    deleteVoice: (providerVoiceId, options) => inner.deleteVoice(providerVoiceId, options),
    findClone: (hint, options) => inner.findClone(hint, options),
  };
}

/** The clone pipeline against the parent's S3, DynamoDB and simulators, with phased providers. */
function cloneDependencies(input: MemoryChildInput, recorder: PhaseRecorder) {
  const keys = createStaticKeyStore(input.keys, 'the benchmark');
  const clients = testProviders({ urls: input.providerUrls, keys, timeoutMs: 60_000 });
  return testCloneDependencies({
    s3: localS3Client(input.s3Endpoint),
    voices: new VoiceRepository(localDynamoClient(input.dynamoEndpoint), input.table),
    providers: { smallest: phased(clients.smallest, recorder), typecast: phased(clients.typecast, recorder) },
    keys,
  });
}

interface SampledRun<T> {
  readonly result: T;
  readonly peakRssBytes: number;
  readonly samples: number;
  readonly handlerMs: number;
}

/** Runs `handle` while sampling RSS every SAMPLE_EVERY_MS, and once more when it is done. */
async function sampledRun<T>(
  recorder: PhaseRecorder,
  rssBeforeBytes: number,
  handle: () => Promise<T>,
): Promise<SampledRun<T>> {
  const highWaterBefore = process.resourceUsage().maxRSS * 1024;
  let peak = rssBeforeBytes;
  let samples = 0;
  const sampler = setInterval(() => {
    samples += 1;
    peak = Math.max(peak, recorder.sample());
  }, SAMPLE_EVERY_MS);
  const started = performance.now();
  const result = await handle();
  const handlerMs = performance.now() - started;
  clearInterval(sampler);
  peak = Math.max(peak, recorder.sample());
  // Synchronous stretches (hashing, copying) block the sampler; the kernel's high-water mark does not miss
  // them, but it only says something about this event if the event raised it.
  const highWaterAfter = process.resourceUsage().maxRSS * 1024;
  if (highWaterAfter > highWaterBefore) peak = Math.max(peak, highWaterAfter);
  return { result, peakRssBytes: peak, samples: samples + 1, handlerMs };
}

async function main(input: MemoryChildInput): Promise<MemoryChildOutput> {
  const recorder = new PhaseRecorder();
  const dependencies = cloneDependencies(input, recorder);
  const eventFor = (object: MemoryChildObject) =>
    sqsEvent(s3NotificationRecord({ bucket: input.bucket, ...object }));

  await handleCloneEvent(eventFor(input.warmup), lambdaContext(), dependencies);
  recorder.reset();
  globalThis.gc?.();
  await sleep(50);
  globalThis.gc?.();

  const { rss: rssBeforeBytes, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const run = await sampledRun(recorder, rssBeforeBytes, () =>
    handleCloneEvent(eventFor(input.upload), lambdaContext(), dependencies),
  );
  return {
    rssBeforeBytes,
    peakRssBytes: run.peakRssBytes,
    samples: run.samples,
    handlerMs: run.handlerMs,
    batchItemFailures: run.result.batchItemFailures.length,
    peakRssByPhase: recorder.peakRssByPhase,
    atProviderCall: recorder.atProviderCall,
    before: { rss: rssBeforeBytes, heapUsed, external, arrayBuffers },
  };
}

const output = await main(JSON.parse(process.argv[2] ?? '{}') as MemoryChildInput);
process.stdout.write(`${JSON.stringify(output)}\n`, () => process.exit(0));
