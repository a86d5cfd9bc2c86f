/**
 * Streamed speech against providers with a realistic speech latency: the simulators answer their first
 * audio byte after SPEECH_LATENCY.speechFirstByteMs and make audio at SPEECH_LATENCY.speechRealTimeFactor
 * × real time. For 250, 2,000 and 5,000 characters per provider it measures the time to the first audio
 * byte and to the last, next to what the providers alone need for the same pieces at the allowed
 * concurrency; then the same request again, answered from the synthesis cache.
 */

import { createApiApp } from '../../functions/api/app';
import { speechPieces } from '../../functions/api/speech/split-text';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import type { ProviderName, SpeechStream, VoiceProvider } from '../../functions/shared/providers/types';
import { collectAfterResponse } from '../../test/support/after-response';
import { startPipelineFixture } from '../../test/support/pipeline-fixture';
import type { PipelineFixture } from './runtime';
import { median } from './stats';

export const SPEECH_LATENCY = { speechFirstByteMs: 400, speechRealTimeFactor: 20 } as const;
export const SPEECH_LENGTHS = [250, 2_000, 5_000] as const;
const CACHE_HIT_RUNS = 15;

/** Per provider, per text length in characters: `ttfbMs.smallest.5000`. */
export type ByLength = Readonly<Record<ProviderName, Readonly<Record<number, number>>>>;

export interface SpeechLatencyFigures {
  /** ms from the request to its first audio byte. */
  readonly ttfbMs: ByLength;
  /** ms to the last byte. */
  readonly totalMs: ByLength;
  /** The providers' own time for the same pieces, in order, at the allowed concurrency. */
  readonly providerScheduleMs: ByLength;
  /** totalMs ÷ providerScheduleMs. */
  readonly totalOverSchedule: ByLength;
  /** The first piece's own first-byte latency, from the client's request to its first chunk. */
  readonly providerFirstByteMs: ByLength;
  /** ttfbMs − providerFirstByteMs: what voicedrop adds before the first byte. */
  readonly ttfbOverFirstByteMs: ByLength;
  readonly pieces: ByLength;
  /**
   * Median ms of a 250-character request answered whole from the cache (both providers), on a warm
   * instance: the pieces come from its memory (RecentPieces), no S3 request.
   */
  readonly cacheHitMsP50: number;
  /** The same on an instance whose memory does not hold them: every piece read from S3. Not budgeted. */
  readonly cacheHitFromS3MsP50: number;
  readonly latency: typeof SPEECH_LATENCY;
}

/** Distinct sentences (so nothing is cached) of about `length` characters. */
function textOf(length: number, seed: string): string {
  const sentences: string[] = [];
  for (let index = 0; sentences.join(' ').length < length; index += 1) {
    sentences.push(`Sentence ${index} of the ${seed} reading goes on at an easy, even pace for a while.`);
  }
  return sentences
    .join(' ')
    .slice(0, length)
    .replace(/\s+\S*$/, '.');
}

interface Span {
  readonly start: number;
  /** When its first chunk arrived: the provider's own first-byte latency, as this client sees it. */
  firstChunk?: number;
  end?: number;
}

/** Records when each synthesis began, sent its first chunk and ended, in the order they began. */
function timed(provider: VoiceProvider, spans: Span[]): VoiceProvider {
  return Object.assign(Object.create(provider) as VoiceProvider, {
    synthesizeStream: async (
      ...args: Parameters<VoiceProvider['synthesizeStream']>
    ): Promise<SpeechStream> => {
      const span: Span = { start: performance.now() };
      spans.push(span);
      const stream = await provider.synthesizeStream(...args);
      return {
        ...stream,
        chunks: (async function* () {
          try {
            for await (const chunk of stream.chunks) {
              span.firstChunk ??= performance.now();
              yield chunk;
            }
          } finally {
            span.end = performance.now();
          }
        })(),
      };
    },
  });
}

/** How long `durations`, run in order with at most `concurrency` at once, take (list scheduling). */
function schedule(durations: readonly number[], concurrency: number): number {
  const free = Array.from({ length: concurrency }, () => 0);
  for (const duration of durations) {
    const worker = free.indexOf(Math.min(...free));
    free[worker] = (free[worker] ?? 0) + duration;
  }
  return Math.max(...free);
}

const byLength = () => ({ smallest: {}, typecast: {} }) as Record<ProviderName, Record<number, number>>;

/** The figures per provider and text length, filled in request by request. */
function emptyLengthFigures() {
  return {
    ttfbMs: byLength(),
    totalMs: byLength(),
    providerScheduleMs: byLength(),
    totalOverSchedule: byLength(),
    ttfbOverFirstByteMs: byLength(),
    providerFirstByteMs: byLength(),
    pieces: byLength(),
  };
}

type LengthFigures = ReturnType<typeof emptyLengthFigures>;

/** The times (ms) of the cache-hit requests of both providers: from a warm instance's memory, and from S3. */
interface CacheHitTimes {
  readonly hits: number[];
  readonly s3Hits: number[];
}

type ApiApp = ReturnType<typeof createApiApp>;
type AfterResponseCollector = ReturnType<typeof collectAfterResponse>;

interface SpeechRun {
  /** ms from the request to its first body chunk. */
  readonly ttfb: number;
  /** ms to its last body chunk. */
  readonly total: number;
  readonly bytes: number;
  /** The X-Cache header: `hit` or `miss`. */
  readonly cache: string | null;
}

export async function benchSpeechLatency(): Promise<SpeechLatencyFigures> {
  const fixture = await startPipelineFixture({
    bucket: 'bench-speech',
    table: 'bench-speech-voices',
    simulators: { smallest: SPEECH_LATENCY, typecast: SPEECH_LATENCY },
  });
  const figures = emptyLengthFigures();
  const cacheHits: CacheHitTimes = { hits: [], s3Hits: [] };
  try {
    for (const provider of ['smallest', 'typecast'] as const satisfies readonly ProviderName[]) {
      await benchProvider(fixture, provider, figures, cacheHits);
    }
  } finally {
    await fixture.stop();
  }
  return {
    ...figures,
    cacheHitMsP50: median(cacheHits.hits),
    cacheHitFromS3MsP50: median(cacheHits.s3Hits),
    latency: SPEECH_LATENCY,
  };
}

/** One provider: a request of every length, each a cache miss, then the shortest again from the cache. */
async function benchProvider(
  fixture: PipelineFixture,
  provider: ProviderName,
  figures: LengthFigures,
  cacheHits: CacheHitTimes,
): Promise<void> {
  const voiceId = await fixture.cloneVoice(`incoming/${provider}/bench-latency.wav`);
  const spans: Span[] = [];
  const providers = { ...fixture.providers, [provider]: timed(fixture.providers[provider], spans) };
  const app = createApiApp(fixture.apiDependencies({ providers }));
  // An instance whose memory does not hold the pieces: every lookup goes to S3 (s3rver here).
  const fromS3 = createApiApp(fixture.apiDependencies({ providers, recentPieces: false }));
  // As the streaming adapter does: the work a request leaves for after its response (usage) is not
  // part of its time, and is done before the next request starts (one invocation at a time).
  const after = collectAfterResponse();
  const speak = (text: string, target = app) => requestSpeech(target, voiceId, text, after);
  for (const length of SPEECH_LENGTHS) {
    const text = textOf(length, `${provider}-${length}-${Date.now()}`);
    spans.length = 0;
    const run = await speak(text);
    if (run.cache !== 'miss') throw new Error(`expected a cache miss, got ${run.cache}`);
    recordCacheMiss(figures, provider, length, text, run, spans);
    if (length === SPEECH_LENGTHS[0]) {
      for (let index = 0; index < CACHE_HIT_RUNS; index += 1) {
        const hit = await speak(text);
        if (hit.cache !== 'hit') throw new Error(`expected a cache hit, got ${hit.cache}`);
        cacheHits.hits.push(hit.total);
        const s3Hit = await speak(text, fromS3);
        if (s3Hit.cache !== 'hit') throw new Error(`expected a cache hit from S3, got ${s3Hit.cache}`);
        cacheHits.s3Hits.push(s3Hit.total);
      }
    }
  }
}

/** One speech request, its body read to the end, timed after the previous request's leftover work. */
async function requestSpeech(
  target: ApiApp,
  voiceId: string,
  text: string,
  after: AfterResponseCollector,
): Promise<SpeechRun> {
  await after.settled();
  const started = performance.now();
  const response = await target.request(
    `/voices/${voiceId}/speech`,
    { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text }) },
    undefined,
    after.executionContext,
  );
  if (response.status !== 200 || !response.body) throw new Error(`speech answered ${response.status}`);
  let first: number | undefined;
  let bytes = 0;
  for await (const chunk of response.body) {
    first ??= performance.now() - started;
    bytes += chunk.length;
  }
  return {
    ttfb: first ?? Number.NaN,
    total: performance.now() - started,
    bytes,
    cache: response.headers.get('x-cache'),
  };
}

/** The figures of one uncached request, next to the spans its provider's syntheses took. */
function recordCacheMiss(
  figures: LengthFigures,
  provider: ProviderName,
  length: number,
  text: string,
  run: SpeechRun,
  spans: readonly Span[],
): void {
  const durations = spans.map((span) => (span.end ?? span.start) - span.start);
  const firstPiece = spans[0];
  const providerFirstByte = (firstPiece?.firstChunk ?? Number.NaN) - (firstPiece?.start ?? 0);
  const concurrency = PROVIDER_LIMITS[provider].speech.concurrency;
  figures.ttfbMs[provider][length] = run.ttfb;
  figures.totalMs[provider][length] = run.total;
  const scheduledMs = schedule(durations, concurrency);
  figures.providerScheduleMs[provider][length] = scheduledMs;
  figures.totalOverSchedule[provider][length] = run.total / scheduledMs;
  figures.providerFirstByteMs[provider][length] = providerFirstByte;
  figures.ttfbOverFirstByteMs[provider][length] = run.ttfb - providerFirstByte;
  figures.pieces[provider][length] = speechPieces(
    text,
    PROVIDER_LIMITS[provider].speech.maxCharsPerRequest,
  ).length;
}
