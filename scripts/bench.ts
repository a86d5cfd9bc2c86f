/**
 * `npm run bench`: bundle sizes and import times of the Lambda bundles as CDK builds them, validation reads,
 * clone and speech overhead over a zero-latency provider, and a clone's peak memory, each next to its
 * budget. `--json` prints exactly one JSON line on stdout; progress always goes to stderr. Exits 0 whether
 * or not the budgets pass; 1 only when a figure could not be measured.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../functions/shared/errors';
import { startPipelineFixture } from '../test/support/pipeline-fixture';
import { evaluateBudgets } from './bench/budgets';
import { bundleContributors } from './bench/bundle-contents';
import { findBundles, type LambdaBundle, synthesize } from './bench/bundles';
import { buildPlainSdkBundle } from './bench/house-build';
import { profileImports, timeImports } from './bench/import-times';
import { benchQuality } from './bench/quality';
import {
  type BenchResult,
  FUNCTION_NAMES,
  type FunctionName,
  formatJsonLine,
  formatReport,
} from './bench/report';
import {
  benchClonePipeline,
  benchMemory,
  benchSpeech,
  benchValidation,
  MEMORY_UPLOAD,
  type PipelineFixture,
} from './bench/runtime';
import { benchSpeechLatency, SPEECH_LATENCY } from './bench/speech-latency';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMPORT_RUNS = 15;
const PROFILE_RUNS = 5;
/**
 * The functions off every caller's path (a stream, a daily sweep, webhook deliveries) are measured with
 * fewer runs, which keeps the bench's time near what it was with clone and api alone.
 */
const SECONDARY_FUNCTIONS: readonly FunctionName[] = ['events', 'retention', 'webhooks'];
const SECONDARY_IMPORT_RUNS = 7;
const SECONDARY_PROFILE_RUNS = 2;
const importRuns = (name: FunctionName) =>
  SECONDARY_FUNCTIONS.includes(name) ? SECONDARY_IMPORT_RUNS : IMPORT_RUNS;
const profileRuns = (name: FunctionName) =>
  SECONDARY_FUNCTIONS.includes(name) ? SECONDARY_PROFILE_RUNS : PROFILE_RUNS;
const VALIDATION_RUNS = 7;
const CLONE_UPLOADS = 40;
const CLONE_WARMUP = 3;
const SPEECH_REQUESTS = 300;
const SPEECH_WARMUP = 30;

const json = process.argv.includes('--json');
const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

const METHODS: Readonly<Record<string, string>> = {
  bundles:
    "`cdk synth --quiet -c voicedrop=<cdk.json's settings plus one webhook endpoint when it has none> -o <tmp>` (the webhook function exists only with an endpoint); every function (clone, api, events, retention, webhooks; speech runs the api bundle) found by POWERTOOLS_SERVICE_NAME, Code.S3Key → asset.<hash>/index.mjs; bytes = index.mjs without its .map.",
  importMs: `median of ${IMPORT_RUNS} fresh Node processes (this Node) for clone and api, ${SECONDARY_IMPORT_RUNS} for ${SECONDARY_FUNCTIONS.join(', ')} (in rounds spread evenly over the ${IMPORT_RUNS}), timing \`await import(bundle)\` with performance.now() inside the child, with the function's environment from the template (NODE_OPTIONS as the template sets it, dummies for references, Fn::Join joined around them, Lambda runtime variables); variants interleaved round by round after one warm-up round; importMsWithoutSourceMaps is a variant of its own only for a function that sets NODE_OPTIONS, else the same measurement as importMs.`,
  importOverheadMs:
    'importMs − the same in-child measurement of importing an empty module; processWallMs is spawn-to-exit wall time measured by the parent, for comparison.',
  plainSdk:
    "plainSdkImportOverheadMs and plainSdkBytes: the same handler built with lib/house-function.ts's esbuild options but without BUNDLE_SUBSTITUTES (the SDK's full credential chain) into <tmp>/plain-sdk/<function>/index.mjs with its map, checked to contain the chain's markers the real bundle lacks, and timed in the same interleaved rounds with the same variables; printed as the baseline, not budgeted.",
  validation: `validateSource(s3ByteSource(...)) against s3rver with Typecast's rules; bytesRead from the source's counter, GETs counted by a wrapper; ms = median of ${VALIDATION_RUNS} runs. oversize = 30 MiB, garbage = 20 MiB deterministic noise, wav = 118 s 44.1 kHz stereo, mp3 = 10 s 64 kbit/s mono.`,
  clonePipeline: `${CLONE_UPLOADS} distinct 6 s 16 kHz Smallest uploads (after ${CLONE_WARMUP} warm-up ones), handleCloneEvent one after another (concurrency 1) against s3rver + dynalite and the zero-latency simulator, silent logger, no metrics; overhead = handler wall time − wall time of provider.cloneVoice (timing decorator); clonesPerSecond = uploads / summed handler time.`,
  speech: `${SPEECH_REQUESTS} POST /voices/{id}/speech (after ${SPEECH_WARMUP} warm-up) via app.request, inline WAV, "cache": false, body read; overhead = request time − wall time of provider.synthesizeStream until its last chunk (timing decorator); voice lookup goes to dynalite.`,
  speechLatency: `speech.ttfbMs/totalMs: one POST per provider of 250, 2,000 and 5,000 characters of distinct sentences via app.request against simulators at ${SPEECH_LATENCY.speechFirstByteMs} ms to the first byte and ${SPEECH_LATENCY.speechRealTimeFactor}× real time, to the first and last body chunk; providerScheduleMs = each piece's synthesizeStream wall time (request to last chunk), list-scheduled in order at the provider's speech concurrency; cacheHitMsP50 = 15 repeats of the 250-character request per provider, all X-Cache: hit, on the same app (a warm instance: pieces from its memory); cacheHitFromS3MsP50 = the same requests, interleaved, on an app without the memory tier (recentPieces: false), every piece read from s3rver.`,
  memory: `fresh child process (--expose-gc, tsx) holding only the clone pipeline; one warm-up clone, two GCs, then RSS sampled every 2 ms during handleCloneEvent of a ${MEMORY_UPLOAD.durationSec} s 44.1 kHz stereo WAV for Typecast (plus maxRSS if the event raised it); growth = peak − RSS before, ÷ upload bytes.`,
  contributors: `bundle bytes: esbuild metafile of the handler built with lib/house-function.ts options (bytesInOutput per input, summed per package); import time: V8 CPU profiles (100 µs) of ${PROFILE_RUNS} imports per bundle (${SECONDARY_PROFILE_RUNS} for ${SECONDARY_FUNCTIONS.join(', ')}) in the function's environment, frames attributed through the bundle's source map, cut to the import by the monotonic clock; a sample with bundle code on its stack is charged to the package of the innermost bundle frame (source-mapped), any other to the loading step on its stack (compiling, built-ins, undici, source map, reading) or V8's pseudo-frame; mean ms per import (profiling inflates the total by ~15–25 %).`,
};

type MutableBenchResult = { -readonly [K in keyof BenchResult]: BenchResult[K] };

/** What the sections share while the bench runs: the result they fill in, a scratch folder, the local servers. */
class BenchRun {
  readonly scratch = mkdtempSync(join(tmpdir(), 'voicedrop-bench-'));
  /** The voice the clone pipeline section made, which the speech section reuses when there is one. */
  clonedVoiceId: string | undefined;
  private fixture: PipelineFixture | undefined;

  constructor(readonly result: MutableBenchResult) {}

  /** S3, DynamoDB and the provider simulators, started by the first section that needs them. */
  async pipelineFixture(): Promise<PipelineFixture> {
    this.fixture ??= await startPipelineFixture({ bucket: 'bench-uploads', table: 'bench-voices' });
    return this.fixture;
  }

  async close(): Promise<void> {
    await this.fixture?.stop().catch(() => undefined);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

interface Section {
  readonly name: string;
  run(bench: BenchRun): Promise<void>;
}

async function measureBundles({ result, scratch }: BenchRun): Promise<void> {
  const outDir = join(scratch, 'cdk.out');
  progress('cdk synth');
  await synthesize(ROOT, outDir);
  const bundles = findBundles(outDir);
  progress('plain SDK builds (no bundle substitutes)');
  const plainSdk = {} as Record<FunctionName, LambdaBundle>;
  for (const name of FUNCTION_NAMES) {
    plainSdk[name] = await buildPlainSdkBundle(ROOT, bundles[name], scratch);
  }
  progress(`import timing (${IMPORT_RUNS} rounds)`);
  const runs = Object.fromEntries(FUNCTION_NAMES.map((name) => [name, importRuns(name)]));
  result.bundles = await timeImports(bundles, plainSdk, scratch, runs as Record<FunctionName, number>);
  progress(`import profiles (${PROFILE_RUNS} per bundle, ${SECONDARY_PROFILE_RUNS} for the others)`);
  const importTime = {} as Record<FunctionName, Awaited<ReturnType<typeof profileImports>>>;
  for (const name of FUNCTION_NAMES) {
    importTime[name] = await profileImports(bundles[name], scratch, profileRuns(name));
  }
  result.contributors = { ...result.contributors, importTime };
}

async function measureBundleContributors({ result }: BenchRun): Promise<void> {
  progress('esbuild metafiles');
  const bundleBytes = {} as Record<FunctionName, Awaited<ReturnType<typeof bundleContributors>>>;
  for (const name of FUNCTION_NAMES) {
    const contributors = await bundleContributors(ROOT, name);
    const cdkBytes = result.bundles?.[name].bytes;
    bundleBytes[name] = {
      ...contributors,
      ...(cdkBytes === undefined ? {} : { matchesCdkBundle: cdkBytes === contributors.totalBytes }),
    };
  }
  result.contributors = { ...result.contributors, bundleBytes };
}

async function measureValidation(bench: BenchRun): Promise<void> {
  const fixture = await bench.pipelineFixture();
  progress('validation');
  const validation = await benchValidation(fixture, VALIDATION_RUNS);
  progress('speech-quality gate (150 s WAV and MP3)');
  bench.result.validation = { ...validation, quality: await benchQuality(VALIDATION_RUNS) };
}

async function measureClonePipeline(bench: BenchRun): Promise<void> {
  const fixture = await bench.pipelineFixture();
  progress(`clone pipeline (${CLONE_UPLOADS} uploads)`);
  const { voiceIds, ...figures } = await benchClonePipeline(fixture, CLONE_UPLOADS, CLONE_WARMUP);
  bench.result.clonePipeline = figures;
  bench.clonedVoiceId = voiceIds[0];
}

async function measureSpeech(bench: BenchRun): Promise<void> {
  const fixture = await bench.pipelineFixture();
  bench.clonedVoiceId ??= await fixture.cloneVoice('incoming/smallest/bench-speech.wav');
  progress(`speech (${SPEECH_REQUESTS} requests)`);
  bench.result.speech = await benchSpeech(fixture, bench.clonedVoiceId, SPEECH_REQUESTS, SPEECH_WARMUP);
  progress('streamed speech against providers with latency (250, 2,000, 5,000 characters)');
  bench.result.speech = { ...bench.result.speech, ...(await benchSpeechLatency()) };
}

async function measureMemory(bench: BenchRun): Promise<void> {
  const fixture = await bench.pipelineFixture();
  progress('memory (fresh child process)');
  bench.result.memory = await benchMemory(fixture, ROOT);
}

/** In this order: bundle contributors compare with the bundles' sizes, speech reuses the cloned voice. */
const SECTIONS: readonly Section[] = [
  { name: 'bundles', run: measureBundles },
  { name: 'bundleContributors', run: measureBundleContributors },
  { name: 'validation', run: measureValidation },
  { name: 'clonePipeline', run: measureClonePipeline },
  { name: 'speech', run: measureSpeech },
  { name: 'memory', run: measureMemory },
];

function emptyResult(): MutableBenchResult {
  const cpu = cpus();
  return {
    timestamp: new Date().toISOString(),
    machine: {
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      totalMemoryBytes: totalmem(),
      nodeVersion: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    durationSec: 0,
    methods: METHODS,
    budgets: [],
    errors: {},
  };
}

/** Runs every section, one after another; a section that fails is recorded and the rest still run. */
async function runSections(bench: BenchRun): Promise<Record<string, string>> {
  const errors: Record<string, string> = {};
  try {
    for (const section of SECTIONS) {
      try {
        await section.run(bench);
      } catch (error) {
        errors[section.name] = errorMessage(error);
        progress(`${section.name} could not be measured: ${errors[section.name]}`);
      }
    }
  } finally {
    await bench.close();
  }
  return errors;
}

async function main(): Promise<number> {
  const started = performance.now();
  const result = emptyResult();
  const errors = await runSections(new BenchRun(result));
  result.errors = errors;
  result.durationSec = (performance.now() - started) / 1000;
  result.budgets = evaluateBudgets(result);
  process.stdout.write(`${json ? formatJsonLine(result) : formatReport(result)}\n`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

process.exitCode = await main();
