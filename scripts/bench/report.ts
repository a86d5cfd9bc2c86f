/**
 * What `npm run bench` measures and the two ways it prints it: one JSON line (`--json`) or a readable
 * report (the budgets it holds the figures to are in budgets.ts). Pure: no timing, no I/O.
 */
import type { Budget, BudgetVerdict } from './budgets';
import type { SpeechLatencyFigures } from './speech-latency';

/**
 * Every Lambda bundle the stack builds (the speech function runs the api bundle). `webhooks` exists only
 * when webhooks are configured: the bench synthesizes with one (bundles.ts, withBenchWebhook).
 */
export type FunctionName = 'clone' | 'api' | 'events' | 'retention' | 'webhooks';
export const FUNCTION_NAMES: readonly FunctionName[] = ['clone', 'api', 'events', 'retention', 'webhooks'];

export interface MachineFacts {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryBytes: number;
  readonly nodeVersion: string;
  readonly platform: string;
}

export interface BundleFigures {
  /** index.mjs as CDK bundled it (source map not counted). */
  readonly bytes: number;
  readonly mapBytes: number;
  /** Median time of `await import(bundle)` inside fresh processes, with the function's environment. */
  readonly importMs: number;
  /** importMs minus the same measurement for an empty module. */
  readonly importOverheadMs: number;
  /**
   * index.mjs of the plain SDK build: the same handler with the same esbuild options, without the module
   * substitutes (BUNDLE_SUBSTITUTES), so with the SDK's full credential chain. A baseline, not budgeted.
   */
  readonly plainSdkBytes: number;
  /**
   * importOverheadMs of the plain SDK build, timed in the same interleaved rounds with the same variables:
   * what the bundle's import overhead is compared with. A baseline, not budgeted.
   */
  readonly plainSdkImportOverheadMs: number;
  /**
   * The same import without the function's NODE_OPTIONS: equal to importMs unless the function sets some
   * (as `--enable-source-maps` once did, which read the whole source map at every cold start).
   */
  readonly importMsWithoutSourceMaps: number;
  /** Median wall time of the whole process (spawn to exit), for comparison. */
  readonly processWallMs: number;
  readonly processWallOverheadMs: number;
  readonly runs: number;
}

export interface ValidationFigures {
  readonly sizeBytes: number;
  readonly bytesRead: number;
  /** Reads (ranged GETs, or one whole-object GET) one validation makes. */
  readonly requests: number;
  /** Median of `runs` validations. */
  readonly ms: number;
  /** `ok`, or the issue codes the validator reported. */
  readonly verdict: string;
  readonly runs: number;
}

export type ValidationCase = 'oversize' | 'garbage' | 'wav' | 'mp3';

/** Decoding and measuring one 150 s sample for the speech-quality gate (scripts/bench/quality.ts). */
export interface QualityFigures {
  readonly durationSec: number;
  readonly sizeBytes: number;
  /** Median of `runs`. */
  readonly ms: number;
  readonly speechSec: number;
  /** Highest RSS growth over the runs (decoded mono samples are 4 bytes per sample). */
  readonly rssGrowthBytes: number;
  readonly runs: number;
}

export interface ClonePipelineFigures {
  readonly overheadMsP50: number;
  readonly overheadMsP95: number;
  readonly clonesPerSecond: number;
  readonly uploads: number;
  /** Uploads processed at a time (1: one after another). */
  readonly concurrency: number;
  readonly uploadBytes: number;
  readonly handlerMsP50: number;
  readonly providerMsP50: number;
}

export interface SpeechFigures extends Partial<SpeechLatencyFigures> {
  readonly overheadMsP50: number;
  readonly overheadMsP95: number;
  readonly requests: number;
  readonly characters: number;
  readonly handlerMsP50: number;
  readonly providerMsP50: number;
}

export interface MemoryFigures {
  readonly peakRssGrowthPerUploadByte: number;
  readonly uploadBytes: number;
  readonly durationSec: number;
  readonly rssBeforeBytes: number;
  readonly peakRssBytes: number;
  readonly growthBytes: number;
  /** RSS samples taken during the event (plus the kernel's high-water mark). */
  readonly samples: number;
  readonly handlerMs: number;
  /**
   * Highest sampled RSS minus RSS before, per phase: up to the provider's cloneVoice (download, validation,
   * hash), during it (multipart body, HTTP request), after it (records).
   */
  readonly growthByPhaseBytes: Readonly<Record<'beforeProvider' | 'provider' | 'afterProvider', number>>;
  /** process.memoryUsage() minus the same before the event, as cloneVoice is entered. */
  readonly atProviderCallGrowthBytes: Readonly<
    Record<'rss' | 'heapUsed' | 'external' | 'arrayBuffers', number>
  >;
  /** The voice's status afterwards: `ready` proves the whole clone ran. */
  readonly outcome: string;
}

export interface Contributor {
  readonly name: string;
  /** Bytes in the bundle (bundle contributors) or milliseconds (import-time contributors). */
  readonly value: number;
  /** Share of the whole, 0–1. */
  readonly share: number;
}

export interface BundleContributors {
  /** The metafile build's output size: equal to the CDK bundle when the options match. */
  readonly totalBytes: number;
  /** Whether totalBytes equals the CDK bundle's size (undefined when synth failed). */
  readonly matchesCdkBundle?: boolean;
  readonly topInputs: readonly Contributor[];
  readonly topPackages: readonly Contributor[];
}

export interface ImportTimeContributors {
  /** Median import time of the profiled runs (profiling slows them down). */
  readonly profiledImportMs: number;
  /** Median time with a bundle frame on the stack: the bundle's own code running. */
  readonly evaluationMs: number;
  /**
   * Where an import's time goes (mean ms per import): bundle code by package, everything else by Node
   * module or V8 pseudo-frame (`(program)`: parsing and compiling; `(garbage collector)`).
   */
  readonly top: readonly Contributor[];
  readonly runs: number;
}

export interface BenchResult {
  readonly timestamp: string;
  readonly machine: MachineFacts;
  readonly durationSec: number;
  readonly bundles?: Readonly<Record<FunctionName, BundleFigures>>;
  readonly validation?: Readonly<Record<ValidationCase, ValidationFigures>> & {
    readonly quality?: Readonly<Record<'wav' | 'mp3', QualityFigures>>;
  };
  readonly clonePipeline?: ClonePipelineFigures;
  readonly speech?: SpeechFigures;
  readonly memory?: MemoryFigures;
  readonly contributors?: {
    readonly bundleBytes?: Readonly<Record<FunctionName, BundleContributors>>;
    readonly importTime?: Readonly<Record<FunctionName, ImportTimeContributors>>;
  };
  /** How each figure was measured, in one sentence each. */
  readonly methods: Readonly<Record<string, string>>;
  readonly budgets: readonly BudgetVerdict[];
  /** Sections that could not be measured, with the reason. */
  readonly errors: Readonly<Record<string, string>>;
}

/**
 * Exactly one line: `JSON.stringify` without indentation escapes every newline inside strings. Fractions
 * are rounded to three decimals (microseconds for milliseconds), integers are kept.
 */
export function formatJsonLine(result: BenchResult): string {
  return JSON.stringify(result, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1000) / 1000 : value,
  );
}

const KIB = 1024;
const MIB = 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) >= MIB) return `${(bytes / MIB).toFixed(2)} MiB`;
  if (Math.abs(bytes) >= KIB) return `${(bytes / KIB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

export function formatValue(value: number | undefined, unit: Budget['unit']): string {
  if (value === undefined) return 'not measured';
  if (unit === 'bytes') return `${value.toLocaleString('en-US')} B`;
  if (unit === 'ms') return `${value.toFixed(2)} ms`;
  if (unit === 'count') return value.toLocaleString('en-US');
  return `${value.toFixed(3)}×`;
}

function table(rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return rightAligned.includes(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const ms = (value: number) => `${value.toFixed(2)} ms`;
/** A section's table stands two spaces in under its heading (contributor tables four: contributorRows). */
const indented = (lines: readonly string[]) => lines.map((line) => `  ${line}`);

/** The human-readable report: machine, figures per section, budgets, contributors, methods. */
export function formatReport(result: BenchResult): string {
  return [
    ...headerLines(result),
    ...bundleLines(result.bundles),
    ...validationLines(result.validation),
    ...clonePipelineLines(result.clonePipeline),
    ...speechLines(result.speech),
    ...memoryLines(result.memory),
    ...budgetLines(result.budgets),
    ...perFunction(result.contributors?.bundleBytes, bundleSizeLines),
    ...perFunction(result.contributors?.importTime, importTimeLines),
    ...methodLines(result.methods),
    ...notMeasuredLines(result.errors),
  ].join('\n');
}

function headerLines(result: BenchResult): string[] {
  const { machine } = result;
  return [
    `voicedrop bench — ${result.timestamp} (${result.durationSec.toFixed(1)} s)`,
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${formatBytes(machine.totalMemoryBytes)} RAM, ` +
      `Node ${machine.nodeVersion} (${machine.platform})`,
  ];
}

function bundleLines(bundles: BenchResult['bundles']): string[] {
  if (!bundles) return [];
  const rows = [
    [
      'function',
      'bytes',
      'plain SDK bytes',
      'map',
      'import',
      'overhead',
      'plain SDK overhead',
      'no source maps',
      'process wall',
      'runs',
    ],
    ...FUNCTION_NAMES.filter((name) => bundles[name]).map((name) => {
      const bundle = bundles[name];
      return [
        name,
        bundle.bytes.toLocaleString('en-US'),
        bundle.plainSdkBytes.toLocaleString('en-US'),
        formatBytes(bundle.mapBytes),
        ms(bundle.importMs),
        ms(bundle.importOverheadMs),
        ms(bundle.plainSdkImportOverheadMs),
        ms(bundle.importMsWithoutSourceMaps),
        ms(bundle.processWallMs),
        String(bundle.runs),
      ];
    }),
  ];
  return [
    '',
    'Bundles (as `cdk synth` builds them)',
    ...indented(table(rows, [1, 2, 3, 4, 5, 6, 7, 8, 9])),
    '  plain SDK: the same handler and esbuild options without the bundle substitutes (the full ' +
      'credential chain), timed in the same rounds; a baseline, not budgeted',
  ];
}

function validationLines(validation: BenchResult['validation']): string[] {
  if (!validation) return [];
  const rows = [
    ['case', 'size', 'bytes read', 'GETs', 'ms (median)', 'verdict'],
    ...(Object.entries(validation) as [string, ValidationFigures | undefined][])
      .filter(
        (entry): entry is [string, ValidationFigures] => entry[0] !== 'quality' && entry[1] !== undefined,
      )
      .map(([name, figures]) => [
        name,
        formatBytes(figures.sizeBytes),
        figures.bytesRead.toLocaleString('en-US'),
        String(figures.requests),
        ms(figures.ms),
        figures.verdict,
      ]),
  ];
  return [
    '',
    'Validation (validateSource over s3ByteSource, Typecast rules)',
    ...indented(table(rows, [1, 2, 3, 4])),
    ...qualityLines(validation.quality),
  ];
}

function qualityLines(quality: NonNullable<BenchResult['validation']>['quality']): string[] {
  if (!quality) return [];
  const rows = [
    ['case', 'size', 'ms (median)', 'speech s', 'RSS growth'],
    ...Object.entries(quality).map(([name, figures]) => [
      name,
      formatBytes(figures.sizeBytes),
      ms(figures.ms),
      figures.speechSec.toFixed(1),
      formatBytes(figures.rssGrowthBytes),
    ]),
  ];
  return ['', 'Speech-quality gate (decode + measure, 150 s sample)', ...indented(table(rows, [1, 2, 3, 4]))];
}

function clonePipelineLines(clone: BenchResult['clonePipeline']): string[] {
  if (!clone) return [];
  return [
    '',
    'Clone pipeline (handleCloneEvent, zero-latency simulator, local S3 and DynamoDB)',
    `  ${clone.uploads} uploads of ${formatBytes(clone.uploadBytes)}, concurrency ${clone.concurrency}: ` +
      `overhead p50 ${ms(clone.overheadMsP50)}, p95 ${ms(clone.overheadMsP95)}; ` +
      `handler p50 ${ms(clone.handlerMsP50)}, provider p50 ${ms(clone.providerMsP50)}; ` +
      `${clone.clonesPerSecond.toFixed(1)} clones/s`,
  ];
}

function speechLines(speech: BenchResult['speech']): string[] {
  if (!speech) return [];
  return [
    '',
    'Speech (Hono app in-process, app.request)',
    `  ${speech.requests} requests of ${speech.characters} characters: overhead p50 ` +
      `${ms(speech.overheadMsP50)}, p95 ${ms(speech.overheadMsP95)}; handler p50 ` +
      `${ms(speech.handlerMsP50)}, provider p50 ${ms(speech.providerMsP50)}`,
    ...streamedSpeechLines(speech),
  ];
}

/** The streamed-speech figures (speech-latency.ts), printed only when all of them were measured. */
function streamedSpeechLines(speech: SpeechFigures): string[] {
  if (!(speech.ttfbMs && speech.totalMs && speech.providerScheduleMs && speech.pieces && speech.latency)) {
    return [];
  }
  const lines = [
    `  streamed, providers at ${speech.latency.speechFirstByteMs} ms to the first byte and ` +
      `${speech.latency.speechRealTimeFactor}× real time:`,
  ];
  for (const provider of ['smallest', 'typecast'] as const) {
    for (const [length, ttfb] of Object.entries(speech.ttfbMs[provider] ?? {})) {
      const key = Number(length);
      lines.push(
        `    ${provider} ${length} characters (${speech.pieces[provider]?.[key]} pieces): first byte ` +
          `${ms(ttfb)}, last ${ms(speech.totalMs[provider]?.[key] ?? Number.NaN)}, the providers alone ` +
          `${ms(speech.providerScheduleMs[provider]?.[key] ?? Number.NaN)}`,
      );
    }
  }
  if (speech.cacheHitMsP50 !== undefined)
    lines.push(
      `  cache hit (250 characters) p50 ${ms(speech.cacheHitMsP50)} on a warm instance (pieces in its memory), ` +
        `${ms(speech.cacheHitFromS3MsP50 ?? Number.NaN)} with every piece read from S3`,
    );
  return lines;
}

function memoryLines(memory: BenchResult['memory']): string[] {
  if (!memory) return [];
  const phases = memory.growthByPhaseBytes;
  const atCall = memory.atProviderCallGrowthBytes;
  return [
    '',
    'Memory (fresh process, one Typecast clone)',
    `  upload ${formatBytes(memory.uploadBytes)} (${memory.durationSec} s WAV): RSS ` +
      `${formatBytes(memory.rssBeforeBytes)} → peak ${formatBytes(memory.peakRssBytes)}, growth ` +
      `${formatBytes(memory.growthBytes)} = ${memory.peakRssGrowthPerUploadByte.toFixed(3)}× the upload ` +
      `(${memory.samples} samples, ${ms(memory.handlerMs)}, outcome ${memory.outcome})`,
    `  sampled growth by phase: before the provider call ${formatBytes(phases.beforeProvider)}, during it ` +
      `${formatBytes(phases.provider)}, after it ${formatBytes(phases.afterProvider)}`,
    `  growth as cloneVoice is entered: RSS ${formatBytes(atCall.rss)}, heap ${formatBytes(atCall.heapUsed)}, ` +
      `external ${formatBytes(atCall.external)} (ArrayBuffers ${formatBytes(atCall.arrayBuffers)})`,
  ];
}

function budgetLines(budgets: BenchResult['budgets']): string[] {
  const rows = budgets.map((verdict) => [
    verdict.pass ? 'PASS' : 'FAIL',
    verdict.figure,
    formatValue(verdict.value, verdict.unit),
    `≤ ${formatValue(verdict.limit, verdict.unit)}`,
  ]);
  return ['', 'Budgets', ...indented(table(rows, [2]))];
}

/** The lines of every function that has figures, in the order of FUNCTION_NAMES. */
function perFunction<T>(
  byFunction: Readonly<Record<FunctionName, T>> | undefined,
  linesOf: (name: FunctionName, figures: T) => string[],
): string[] {
  return FUNCTION_NAMES.flatMap((name) => {
    const figures = byFunction?.[name];
    return figures ? linesOf(name, figures) : [];
  });
}

function bundleSizeLines(name: FunctionName, contributors: BundleContributors): string[] {
  const check =
    contributors.matchesCdkBundle === undefined
      ? ''
      : contributors.matchesCdkBundle
        ? ', the size of the CDK bundle'
        : ', NOT the size of the CDK bundle: the options differ';
  return [
    '',
    `Bundle size, ${name} (esbuild metafile: ${contributors.totalBytes.toLocaleString('en-US')} B${check})`,
    '  packages:',
    ...contributorRows(contributors.topPackages, formatBytes),
    '  inputs:',
    ...contributorRows(contributors.topInputs, formatBytes),
  ];
}

function importTimeLines(name: FunctionName, contributors: ImportTimeContributors): string[] {
  return [
    '',
    `Import time, ${name} (CPU profiles of ${contributors.runs} imports: median ` +
      `${ms(contributors.profiledImportMs)} while profiled, of which ${ms(contributors.evaluationMs)} ` +
      'running bundle code)',
    ...contributorRows(contributors.top, ms),
  ];
}

function methodLines(methods: BenchResult['methods']): string[] {
  return ['', 'Methods', ...Object.entries(methods).map(([name, method]) => `  ${name}: ${method}`)];
}

function notMeasuredLines(errors: BenchResult['errors']): string[] {
  const entries = Object.entries(errors);
  if (entries.length === 0) return [];
  return ['', 'Not measured', ...entries.map(([section, message]) => `  ${section}: ${message}`)];
}

function contributorRows(contributors: readonly Contributor[], format: (value: number) => string): string[] {
  const rows = contributors.map((contributor) => [
    format(contributor.value),
    percent(contributor.share),
    contributor.name,
  ]);
  return table(rows, [0, 1]).map((line) => `    ${line}`);
}
