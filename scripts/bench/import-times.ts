/**
 * How long a fresh process takes to import each bundle, against an empty module and the plain SDK build,
 * and, CPU-profiled, what that time is made of.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type LambdaBundle, lambdaEnvironment } from './bundles';
import { attributeProfile, type CpuProfile } from './cpu-profile';
import type { BundleFigures, FunctionName, ImportTimeContributors } from './report';
import { lastJsonLine, runNode } from './spawn';
import { median } from './stats';

const IMPORT_CHILD = new URL('./import-child.ts', import.meta.url);

interface ImportSample {
  readonly importMs: number;
  readonly wallMs: number;
  /** The import's start and end on the monotonic clock, in microseconds. */
  readonly startedUs: number;
  readonly finishedUs: number;
}

async function importOnce(
  modulePath: string,
  env: NodeJS.ProcessEnv,
  extraArgs: readonly string[] = [],
): Promise<ImportSample> {
  const run = await runNode([...extraArgs, fileURLToPath(IMPORT_CHILD), modulePath], {
    env,
    timeoutMs: 30_000,
  });
  const line = lastJsonLine<Omit<ImportSample, 'wallMs'> & { exports: string[] }>(run.stdout);
  if (!line.exports.includes('handler') && !modulePath.endsWith('empty.mjs')) {
    throw new Error(`${modulePath} does not export handler (exports: ${line.exports.join(', ')})`);
  }
  const { exports: _exports, ...sample } = line;
  return { ...sample, wallMs: run.wallMs };
}

/**
 * Whether a variant measured `runs` times over `rounds` rounds is measured in round `round` (0-based):
 * spread evenly over the rounds, first and last included when it has at least two runs, so that drift in
 * the machine's load reaches it as it reaches the variants measured every round.
 */
export function measuredInRound(round: number, runs: number, rounds: number): boolean {
  if (runs >= rounds) return true;
  if (runs <= 1) return round === 0;
  const step = (rounds - 1) / (runs - 1);
  return Array.from({ length: runs }, (_, index) => Math.round(index * step)).includes(round);
}

/**
 * Import time of each bundle: `runs[name]` fresh processes per variant, the variants interleaved round by
 * round (a function with fewer runs than the most is measured in rounds spread over them, measuredInRound)
 * so that drift in the machine's load spreads over all of them. The baseline imports an empty module; each
 * function's plain SDK build (see buildPlainSdkBundle, house-build.ts) is imported in the same rounds,
 * with the same variables, as the comparison its bundle is measured against. A function that sets no
 * NODE_OPTIONS is imported without them already, so its importMsWithoutSourceMaps is its importMs, not a
 * second variant.
 */
export async function timeImports(
  bundles: Readonly<Record<FunctionName, LambdaBundle>>,
  plainSdk: Readonly<Record<FunctionName, LambdaBundle>>,
  scratch: string,
  runs: Readonly<Record<FunctionName, number>>,
): Promise<Record<FunctionName, BundleFigures>> {
  const empty = join(scratch, 'empty.mjs');
  writeFileSync(empty, 'export {};\n');
  const names = Object.keys(bundles) as FunctionName[];
  const rounds = Math.max(...names.map((name) => runs[name]));
  const variants = importVariants(names, bundles, plainSdk, runs, empty, rounds);
  const samples = new Map<string, ImportSample[]>(variants.map((variant) => [variant.key, []]));
  // One unmeasured round warms the file system cache and Node's own start-up files.
  for (const variant of variants) await importOnce(variant.modulePath, variant.env);
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of variants) {
      if (!measuredInRound(round, variant.runs, rounds)) continue;
      samples.get(variant.key)?.push(await importOnce(variant.modulePath, variant.env));
    }
  }
  const medians = mediansOf(samples);
  const figures = {} as Record<FunctionName, BundleFigures>;
  for (const name of names)
    figures[name] = bundleFigures(name, bundles[name], plainSdk[name], samples, medians);
  return figures;
}

/** One way of importing a module, measured `runs` times. */
interface ImportVariant {
  readonly key: string;
  readonly modulePath: string;
  readonly env: NodeJS.ProcessEnv;
  readonly runs: number;
}

/** The baseline (an empty module), then per function its bundle, without source maps, its plain SDK build. */
function importVariants(
  names: readonly FunctionName[],
  bundles: Readonly<Record<FunctionName, LambdaBundle>>,
  plainSdk: Readonly<Record<FunctionName, LambdaBundle>>,
  runs: Readonly<Record<FunctionName, number>>,
  empty: string,
  rounds: number,
): ImportVariant[] {
  return [
    { key: 'baseline', modulePath: empty, env: lambdaEnvironment(bundles.clone), runs: rounds },
    ...names.flatMap((name) => [
      {
        key: `${name}`,
        modulePath: bundles[name].modulePath,
        env: lambdaEnvironment(bundles[name]),
        runs: runs[name],
      },
      ...(bundles[name].variables.NODE_OPTIONS === undefined
        ? []
        : [
            {
              key: `${name}-no-maps`,
              modulePath: bundles[name].modulePath,
              env: lambdaEnvironment(bundles[name], false),
              runs: runs[name],
            },
          ]),
      {
        key: `${name}-plain-sdk`,
        modulePath: plainSdk[name].modulePath,
        env: lambdaEnvironment(plainSdk[name]),
        runs: runs[name],
      },
    ]),
  ];
}

/** The median import and wall times of each variant, and the baseline's (taken once). */
interface Medians {
  readonly of: (key: string) => { readonly importMs: number; readonly wallMs: number };
  readonly baseline: { readonly importMs: number; readonly wallMs: number };
}

function mediansOf(samples: ReadonlyMap<string, ImportSample[]>): Medians {
  const of = (key: string) => {
    const list = samples.get(key) ?? [];
    return {
      importMs: median(list.map((sample) => sample.importMs)),
      wallMs: median(list.map((sample) => sample.wallMs)),
    };
  };
  return { of, baseline: of('baseline') };
}

/** One function's figures: sizes, and the median import times over the baseline's. */
function bundleFigures(
  name: FunctionName,
  bundle: LambdaBundle,
  plainSdk: LambdaBundle,
  samples: ReadonlyMap<string, ImportSample[]>,
  medians: Medians,
): BundleFigures {
  const withMaps = medians.of(name);
  const { baseline } = medians;
  return {
    bytes: statSync(bundle.modulePath).size,
    mapBytes: statSync(bundle.mapPath).size,
    importMs: withMaps.importMs,
    importOverheadMs: withMaps.importMs - baseline.importMs,
    plainSdkBytes: statSync(plainSdk.modulePath).size,
    plainSdkImportOverheadMs: medians.of(`${name}-plain-sdk`).importMs - baseline.importMs,
    importMsWithoutSourceMaps: samples.has(`${name}-no-maps`)
      ? medians.of(`${name}-no-maps`).importMs
      : withMaps.importMs,
    processWallMs: withMaps.wallMs,
    processWallOverheadMs: withMaps.wallMs - baseline.wallMs,
    runs: samples.get(name)?.length ?? 0,
  };
}

/**
 * CPU-profiles `runs` imports of a bundle (as deployed: with its NODE_OPTIONS) and ranks where the time
 * goes, in milliseconds per import (the mean over the runs).
 */
export async function profileImports(
  bundle: LambdaBundle,
  scratch: string,
  runs: number,
  top = 15,
): Promise<ImportTimeContributors> {
  const sourceMap = new SourceMap(JSON.parse(readFileSync(bundle.mapPath, 'utf8')));
  const bundleUrl = pathToFileURL(bundle.modulePath).href;
  const totals = new Map<string, number>();
  const importTimes: number[] = [];
  const evaluationTimes: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const directory = join(scratch, `profile-${bundle.name}-${run}`);
    const sample = await importOnce(bundle.modulePath, lambdaEnvironment(bundle), [
      '--cpu-prof',
      `--cpu-prof-dir=${directory}`,
      '--cpu-prof-interval=100',
    ]);
    const [file] = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no CPU profile written to ${directory}`);
    const profile = JSON.parse(readFileSync(join(directory, file), 'utf8')) as CpuProfile;
    const { evaluationMs, byOwner } = attributeProfile(profile, bundleUrl, sourceMap, {
      startUs: sample.startedUs,
      endUs: sample.finishedUs,
    });
    importTimes.push(sample.importMs);
    evaluationTimes.push(evaluationMs);
    for (const [owner, ms] of byOwner) totals.set(owner, (totals.get(owner) ?? 0) + ms);
  }
  const perImport = [...totals].map(([name, ms]) => ({ name, value: ms / runs }));
  const profiled = perImport.reduce((sum, entry) => sum + entry.value, 0);
  return {
    profiledImportMs: median(importTimes),
    evaluationMs: median(evaluationTimes),
    top: perImport
      .sort((a, b) => b.value - a.value)
      .slice(0, top)
      .map((entry) => ({ ...entry, share: profiled > 0 ? entry.value / profiled : 0 })),
    runs,
  };
}
