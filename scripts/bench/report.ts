/**
 * What `npm run bench` measures, the budgets it holds the figures to, and the two ways it prints them:
 * one JSON line (`--json`) or a readable report. Pure: no timing, no I/O.
 */
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

export interface Budget {
  /** Dotted path of the figure in BenchResult, e.g. `bundles.clone.bytes`. */
  readonly figure: string;
  readonly limit: number;
  readonly unit: 'bytes' | 'ms' | 'ratio' | 'count';
}

export interface BudgetVerdict extends Budget {
  /** Undefined when the figure was not measured (which fails the budget). */
  readonly value: number | undefined;
  readonly pass: boolean;
}

/** Every budget is an upper bound: a figure passes when it is at most the limit. */
export const BUDGETS: readonly Budget[] = [
  // The clone function carries the MP3 decoder (mpg123-decoder, about 80 KB with its WebAssembly).
  { figure: 'bundles.clone.bytes', limit: 900_000, unit: 'bytes' },
  { figure: 'bundles.api.bytes', limit: 600_000, unit: 'bytes' },
  // The stream, sweep and webhook functions: size only (their cold starts are off any caller's path).
  { figure: 'bundles.events.bytes', limit: 250_000, unit: 'bytes' },
  { figure: 'bundles.retention.bytes', limit: 550_000, unit: 'bytes' },
  { figure: 'bundles.webhooks.bytes', limit: 300_000, unit: 'bytes' },
  { figure: 'bundles.clone.importOverheadMs', limit: 80, unit: 'ms' },
  { figure: 'bundles.api.importOverheadMs', limit: 80, unit: 'ms' },
  // An oversize upload: its first 64 KiB only, for every verdict its header allows.
  { figure: 'validation.oversize.bytesRead', limit: 64 * 1024, unit: 'bytes' },
  { figure: 'validation.oversize.requests', limit: 1, unit: 'count' },
  { figure: 'validation.quality.mp3.ms', limit: 1_000, unit: 'ms' },
  { figure: 'validation.quality.wav.ms', limit: 1_000, unit: 'ms' },
  { figure: 'validation.garbage.bytesRead', limit: 64 * 1024, unit: 'bytes' },
  { figure: 'clonePipeline.overheadMsP50', limit: 50, unit: 'ms' },
  { figure: 'speech.overheadMsP50', limit: 10, unit: 'ms' },
  // Streaming: 5,000 characters start within the provider's own first-byte latency + 50 ms and end within
  // 10 % of the providers' time for the pieces at the allowed concurrency; a cache hit is fast.
  { figure: 'speech.ttfbOverFirstByteMs.smallest.5000', limit: 50, unit: 'ms' },
  { figure: 'speech.ttfbOverFirstByteMs.typecast.5000', limit: 50, unit: 'ms' },
  { figure: 'speech.totalOverSchedule.smallest.5000', limit: 1.1, unit: 'ratio' },
  { figure: 'speech.totalOverSchedule.typecast.5000', limit: 1.1, unit: 'ratio' },
  { figure: 'speech.cacheHitMsP50', limit: 15, unit: 'ms' },
  { figure: 'memory.peakRssGrowthPerUploadByte', limit: 2.5, unit: 'ratio' },
];

/** The number at a dotted path, or undefined when any step is missing or the value is not a number. */
export function figureAt(result: unknown, path: string): number | undefined {
  let value: unknown = result;
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function evaluateBudgets(
  result: Omit<BenchResult, 'budgets'>,
  budgets: readonly Budget[] = BUDGETS,
): BudgetVerdict[] {
  return budgets.map((budget) => {
    const value = figureAt(result, budget.figure);
    return { ...budget, value, pass: value !== undefined && value <= budget.limit };
  });
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

/** The human-readable report: machine, figures per section, budgets, contributors, methods. */
export function formatReport(result: BenchResult): string {
  const lines: string[] = [];
  const { machine } = result;
  lines.push(`voicedrop bench — ${result.timestamp} (${result.durationSec.toFixed(1)} s)`);
  lines.push(
    `machine: ${machine.cpuModel}, ${machine.cores} cores, ${formatBytes(machine.totalMemoryBytes)} RAM, ` +
      `Node ${machine.nodeVersion} (${machine.platform})`,
  );

  if (result.bundles) {
    lines.push('', 'Bundles (as `cdk synth` builds them)');
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
      ...FUNCTION_NAMES.filter((name) => result.bundles?.[name]).map((name) => {
        const bundle = result.bundles?.[name] as BundleFigures;
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
    lines.push(...table(rows, [1, 2, 3, 4, 5, 6, 7, 8, 9]).map((line) => `  ${line}`));
    lines.push(
      '  plain SDK: the same handler and esbuild options without the bundle substitutes (the full ' +
        'credential chain), timed in the same rounds; a baseline, not budgeted',
    );
  }

  if (result.validation) {
    lines.push('', 'Validation (validateSource over s3ByteSource, Typecast rules)');
    const rows = [
      ['case', 'size', 'bytes read', 'GETs', 'ms (median)', 'verdict'],
      ...(Object.entries(result.validation) as [string, ValidationFigures | undefined][])
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
    lines.push(...table(rows, [1, 2, 3, 4]).map((line) => `  ${line}`));
    const quality = result.validation.quality;
    if (quality) {
      lines.push('', 'Speech-quality gate (decode + measure, 150 s sample)');
      const qualityRows = [
        ['case', 'size', 'ms (median)', 'speech s', 'RSS growth'],
        ...Object.entries(quality).map(([name, figures]) => [
          name,
          formatBytes(figures.sizeBytes),
          ms(figures.ms),
          figures.speechSec.toFixed(1),
          formatBytes(figures.rssGrowthBytes),
        ]),
      ];
      lines.push(...table(qualityRows, [1, 2, 3, 4]).map((line) => `  ${line}`));
    }
  }

  if (result.clonePipeline) {
    const clone = result.clonePipeline;
    lines.push('', 'Clone pipeline (handleCloneEvent, zero-latency simulator, local S3 and DynamoDB)');
    lines.push(
      `  ${clone.uploads} uploads of ${formatBytes(clone.uploadBytes)}, concurrency ${clone.concurrency}: ` +
        `overhead p50 ${ms(clone.overheadMsP50)}, p95 ${ms(clone.overheadMsP95)}; ` +
        `handler p50 ${ms(clone.handlerMsP50)}, provider p50 ${ms(clone.providerMsP50)}; ` +
        `${clone.clonesPerSecond.toFixed(1)} clones/s`,
    );
  }

  if (result.speech) {
    const speech = result.speech;
    lines.push('', 'Speech (Hono app in-process, app.request)');
    lines.push(
      `  ${speech.requests} requests of ${speech.characters} characters: overhead p50 ` +
        `${ms(speech.overheadMsP50)}, p95 ${ms(speech.overheadMsP95)}; handler p50 ` +
        `${ms(speech.handlerMsP50)}, provider p50 ${ms(speech.providerMsP50)}`,
    );
    if (speech.ttfbMs && speech.totalMs && speech.providerScheduleMs && speech.pieces && speech.latency) {
      lines.push(
        `  streamed, providers at ${speech.latency.speechFirstByteMs} ms to the first byte and ` +
          `${speech.latency.speechRealTimeFactor}× real time:`,
      );
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
    }
  }

  if (result.memory) {
    const memory = result.memory;
    lines.push('', 'Memory (fresh process, one Typecast clone)');
    lines.push(
      `  upload ${formatBytes(memory.uploadBytes)} (${memory.durationSec} s WAV): RSS ` +
        `${formatBytes(memory.rssBeforeBytes)} → peak ${formatBytes(memory.peakRssBytes)}, growth ` +
        `${formatBytes(memory.growthBytes)} = ${memory.peakRssGrowthPerUploadByte.toFixed(3)}× the upload ` +
        `(${memory.samples} samples, ${ms(memory.handlerMs)}, outcome ${memory.outcome})`,
    );
    const phases = memory.growthByPhaseBytes;
    const atCall = memory.atProviderCallGrowthBytes;
    lines.push(
      `  sampled growth by phase: before the provider call ${formatBytes(phases.beforeProvider)}, during it ` +
        `${formatBytes(phases.provider)}, after it ${formatBytes(phases.afterProvider)}`,
      `  growth as cloneVoice is entered: RSS ${formatBytes(atCall.rss)}, heap ${formatBytes(atCall.heapUsed)}, ` +
        `external ${formatBytes(atCall.external)} (ArrayBuffers ${formatBytes(atCall.arrayBuffers)})`,
    );
  }

  lines.push('', 'Budgets');
  const budgetRows = result.budgets.map((verdict) => [
    verdict.pass ? 'PASS' : 'FAIL',
    verdict.figure,
    formatValue(verdict.value, verdict.unit),
    `≤ ${formatValue(verdict.limit, verdict.unit)}`,
  ]);
  lines.push(...table(budgetRows, [2]).map((line) => `  ${line}`));

  const bundleBytes = result.contributors?.bundleBytes;
  if (bundleBytes) {
    for (const name of FUNCTION_NAMES) {
      const contributors = bundleBytes[name];
      if (!contributors) continue;
      const check =
        contributors.matchesCdkBundle === undefined
          ? ''
          : contributors.matchesCdkBundle
            ? ', the size of the CDK bundle'
            : ', NOT the size of the CDK bundle: the options differ';
      lines.push(
        '',
        `Bundle size, ${name} (esbuild metafile: ${contributors.totalBytes.toLocaleString('en-US')} B${check})`,
      );
      lines.push('  packages:');
      lines.push(...contributorRows(contributors.topPackages, formatBytes));
      lines.push('  inputs:');
      lines.push(...contributorRows(contributors.topInputs, formatBytes));
    }
  }
  const importTime = result.contributors?.importTime;
  if (importTime) {
    for (const name of FUNCTION_NAMES) {
      const contributors = importTime[name];
      if (!contributors) continue;
      lines.push(
        '',
        `Import time, ${name} (CPU profiles of ${contributors.runs} imports: median ` +
          `${ms(contributors.profiledImportMs)} while profiled, of which ${ms(contributors.evaluationMs)} ` +
          'running bundle code)',
      );
      lines.push(...contributorRows(contributors.top, ms));
    }
  }

  lines.push('', 'Methods');
  for (const [name, method] of Object.entries(result.methods)) lines.push(`  ${name}: ${method}`);

  const errors = Object.entries(result.errors);
  if (errors.length > 0) {
    lines.push('', 'Not measured');
    for (const [section, message] of errors) lines.push(`  ${section}: ${message}`);
  }
  return lines.join('\n');
}

function contributorRows(contributors: readonly Contributor[], format: (value: number) => string): string[] {
  const rows = contributors.map((contributor) => [
    format(contributor.value),
    percent(contributor.share),
    contributor.name,
  ]);
  return table(rows, [0, 1]).map((line) => `    ${line}`);
}
