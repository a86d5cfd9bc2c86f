/**
 * The Lambda bundles as `cdk synth` builds them: where they are, how large, how long a fresh process takes
 * to import them, and what their bytes and import time are made of.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { SERVICE_NAMES } from '../../functions/shared/contract';
import { BUNDLE_INJECTS, BUNDLE_SUBSTITUTES, ESM_REQUIRE_BANNER } from '../../lib/house-function';
import type {
  BundleContributors,
  BundleFigures,
  Contributor,
  FunctionName,
  ImportTimeContributors,
} from './report';
import { lastJsonLine, runNode } from './spawn';
import { median } from './stats';

/** The handler entries, for the metafile build. */
export const ENTRIES: Readonly<Record<FunctionName, string>> = {
  clone: 'functions/clone/handler.ts',
  api: 'functions/api/handler.ts',
};

export interface LambdaBundle {
  readonly name: FunctionName;
  readonly directory: string;
  readonly modulePath: string;
  readonly mapPath: string;
  readonly memorySize: number;
  /** The function's variables: literal values from the template, dummies for references. */
  readonly variables: Readonly<Record<string, string>>;
}

/** Runs `cdk synth --quiet -o <outDir>` with the project's CDK CLI under this Node. */
export async function synthesize(root: string, outDir: string): Promise<void> {
  const cdk = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  // cdk.json runs the app through `npx tsx`: keep this Node first on PATH so the app runs on it too.
  const path = [dirname(process.execPath), join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(
    delimiter,
  );
  await runNode([cdk, 'synth', '--quiet', '--no-notices', '-o', outDir], {
    cwd: root,
    env: { ...process.env, PATH: path, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
    timeoutMs: 150_000,
  });
}

interface TemplateFunction {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties?: {
    readonly Handler?: string;
    readonly MemorySize?: number;
    readonly Code?: { readonly S3Key?: unknown };
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
}

/** Values for variables the template fills from other resources (table name, bucket, secret ARN). */
const DUMMY_VALUES: Readonly<Record<string, string>> = {
  VOICES_TABLE_NAME: 'voicedrop-bench-voices',
  BUCKET_NAME: 'voicedrop-bench-bucket',
  PROVIDER_KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:voicedrop-bench-AbCdEf',
};

/**
 * Finds each function's asset in a synth output directory: AWS::Lambda::Function with Code.S3Key
 * `<hash>.zip` → `asset.<hash>/index.mjs`, told apart by POWERTOOLS_SERVICE_NAME.
 */
export function findBundles(outDir: string): Record<FunctionName, LambdaBundle> {
  const found: Partial<Record<FunctionName, LambdaBundle>> = {};
  const templates = readdirSync(outDir).filter((file) => file.endsWith('.template.json'));
  for (const file of templates) {
    const template = JSON.parse(readFileSync(join(outDir, file), 'utf8')) as {
      Resources?: Record<string, TemplateFunction>;
    };
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const properties = resource.Properties ?? {};
      const s3Key = properties.Code?.S3Key;
      const variables = properties.Environment?.Variables ?? {};
      const name = (Object.keys(SERVICE_NAMES) as FunctionName[]).find(
        (candidate) => variables.POWERTOOLS_SERVICE_NAME === SERVICE_NAMES[candidate],
      );
      if (!name || typeof s3Key !== 'string') continue;
      const hash = s3Key.replace(/\.zip$/, '');
      const directory = join(outDir, `asset.${hash}`);
      const [moduleName = 'index'] = (properties.Handler ?? 'index.handler').split('.');
      const modulePath = join(directory, `${moduleName}.mjs`);
      statSync(modulePath);
      found[name] = {
        name,
        directory,
        modulePath,
        mapPath: `${modulePath}.map`,
        memorySize: properties.MemorySize ?? 128,
        variables: Object.fromEntries(
          Object.entries(variables).map(([key, value]) => [
            key,
            typeof value === 'string' ? value : (DUMMY_VALUES[key] ?? `voicedrop-bench-${key.toLowerCase()}`),
          ]),
        ),
      };
    }
  }
  const missing = (Object.keys(SERVICE_NAMES) as FunctionName[]).filter((name) => !found[name]);
  if (missing.length > 0) {
    throw new Error(`no bundled function with POWERTOOLS_SERVICE_NAME for: ${missing.join(', ')}`);
  }
  return found as Record<FunctionName, LambdaBundle>;
}

/**
 * The environment of a cold Lambda process: the runtime's own variables, dummy credentials (nothing is
 * called at import), and the function's variables; the function's NODE_OPTIONS, if any, only when asked.
 */
export function lambdaEnvironment(bundle: LambdaBundle, withNodeOptions = true): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    AWS_LAMBDA_FUNCTION_NAME: `voicedrop-bench-${bundle.name}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(bundle.memorySize),
    AWS_ACCESS_KEY_ID: 'ASIABENCHMARKDUMMY00',
    AWS_SECRET_ACCESS_KEY: 'benchmark-dummy-secret',
    AWS_SESSION_TOKEN: 'benchmark-dummy-token',
    LAMBDA_TASK_ROOT: bundle.directory,
    ...bundle.variables,
  };
  if (!withNodeOptions) delete environment.NODE_OPTIONS;
  return environment;
}

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
 * Import time of each bundle: `runs` fresh processes per variant, the variants interleaved round by round
 * so that drift in the machine's load spreads over all of them. The baseline imports an empty module; each
 * function's plain SDK build (see buildPlainSdkBundle) is imported in the same rounds, with the same
 * variables, as the comparison its bundle is measured against.
 */
export async function timeImports(
  bundles: Readonly<Record<FunctionName, LambdaBundle>>,
  plainSdk: Readonly<Record<FunctionName, LambdaBundle>>,
  scratch: string,
  runs: number,
): Promise<Record<FunctionName, BundleFigures>> {
  const empty = join(scratch, 'empty.mjs');
  writeFileSync(empty, 'export {};\n');
  const names = Object.keys(bundles) as FunctionName[];
  const variants = [
    { key: 'baseline', modulePath: empty, env: lambdaEnvironment(bundles.clone) },
    ...names.flatMap((name) => [
      { key: `${name}`, modulePath: bundles[name].modulePath, env: lambdaEnvironment(bundles[name]) },
      {
        key: `${name}-no-maps`,
        modulePath: bundles[name].modulePath,
        env: lambdaEnvironment(bundles[name], false),
      },
      {
        key: `${name}-plain-sdk`,
        modulePath: plainSdk[name].modulePath,
        env: lambdaEnvironment(plainSdk[name]),
      },
    ]),
  ];
  const samples = new Map<string, ImportSample[]>(variants.map((variant) => [variant.key, []]));
  // One unmeasured round warms the file system cache and Node's own start-up files.
  for (const variant of variants) await importOnce(variant.modulePath, variant.env);
  for (let round = 0; round < runs; round += 1) {
    for (const variant of variants) {
      samples.get(variant.key)?.push(await importOnce(variant.modulePath, variant.env));
    }
  }
  const medians = (key: string) => {
    const list = samples.get(key) ?? [];
    return {
      importMs: median(list.map((sample) => sample.importMs)),
      wallMs: median(list.map((sample) => sample.wallMs)),
    };
  };
  const baseline = medians('baseline');
  const figures = {} as Record<FunctionName, BundleFigures>;
  for (const name of names) {
    const withMaps = medians(name);
    figures[name] = {
      bytes: statSync(bundles[name].modulePath).size,
      mapBytes: statSync(bundles[name].mapPath).size,
      importMs: withMaps.importMs,
      importOverheadMs: withMaps.importMs - baseline.importMs,
      plainSdkBytes: statSync(plainSdk[name].modulePath).size,
      plainSdkImportOverheadMs: medians(`${name}-plain-sdk`).importMs - baseline.importMs,
      importMsWithoutSourceMaps: medians(`${name}-no-maps`).importMs,
      processWallMs: withMaps.wallMs,
      processWallOverheadMs: withMaps.wallMs - baseline.wallMs,
      runs,
    };
  }
  return figures;
}

/**
 * The esbuild options lib/house-function.ts gives NodejsFunction (ESM, node24, module/main fields, the
 * require banner, the injected modules, minified, external source map without sources or
 * sourceMappingURL comment, AWS SDK bundled), with the module substitutes (BUNDLE_SUBSTITUTES, whatever it
 * holds) or, for the plain SDK build, without them.
 */
export function houseBuildOptions(
  root: string,
  name: FunctionName,
  outfile: string,
  substitutes: boolean,
): BuildOptions {
  return {
    absWorkingDir: root,
    entryPoints: [join(root, ENTRIES[name])],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    alias: substitutes
      ? Object.fromEntries(
          Object.entries(BUNDLE_SUBSTITUTES).map(([module, substitute]) => [module, join(root, substitute)]),
        )
      : {},
    inject: BUNDLE_INJECTS.map((module) => join(root, module)),
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    outfile,
    logLevel: 'silent',
  };
}

/**
 * Strings only the SDK's full default credential chain brings into a bundle: web identity's token file
 * variable and the container metadata address. The substitute (environment only) has neither. (The
 * instance metadata address, 169.254.169.254, is no marker: the SDK's defaults mode reaches it too.)
 */
export const CREDENTIAL_CHAIN_MARKERS: readonly string[] = ['AWS_WEB_IDENTITY_TOKEN_FILE', '169.254.170.2'];

export function credentialChainMarkersIn(code: string): string[] {
  return CREDENTIAL_CHAIN_MARKERS.filter((marker) => code.includes(marker));
}

/**
 * Throws unless the plain SDK build really is the other build: it carries the full credential chain (at
 * least one marker) and the real bundle carries none. Otherwise the comparison would measure nothing.
 */
export function assertPlainSdkDiffers(name: FunctionName, bundleCode: string, plainSdkCode: string): void {
  const inBundle = credentialChainMarkersIn(bundleCode);
  if (inBundle.length > 0) {
    throw new Error(
      `the ${name} bundle contains the SDK's full credential chain (${inBundle.join(', ')}): ` +
        'the credential-provider-node substitute did not apply',
    );
  }
  if (credentialChainMarkersIn(plainSdkCode).length === 0) {
    throw new Error(
      `the plain SDK build of ${name} has none of ${CREDENTIAL_CHAIN_MARKERS.join(', ')}: it is not the ` +
        'SDK with its full credential chain, so it is no baseline',
    );
  }
}

/**
 * Builds a handler as HouseFunction does but without BUNDLE_SUBSTITUTES (the SDK as it comes) into
 * `<scratch>/plain-sdk/<name>/`, laid out like its CDK asset (the bundle's file name, its map next to it),
 * and returns it with the function's memory size and variables, ready for timeImports. Throws if it does
 * not differ from the real bundle by the full credential chain.
 */
export async function buildPlainSdkBundle(
  root: string,
  bundle: LambdaBundle,
  scratch: string,
): Promise<LambdaBundle> {
  const directory = join(scratch, 'plain-sdk', bundle.name);
  mkdirSync(directory, { recursive: true });
  const modulePath = join(directory, basename(bundle.modulePath));
  await build({ ...houseBuildOptions(root, bundle.name, modulePath, false), write: true });
  const plain: LambdaBundle = { ...bundle, directory, modulePath, mapPath: `${modulePath}.map` };
  statSync(plain.mapPath);
  assertPlainSdkDiffers(
    bundle.name,
    readFileSync(bundle.modulePath, 'utf8'),
    readFileSync(plain.modulePath, 'utf8'),
  );
  return plain;
}

/**
 * Builds a handler with houseBuildOptions (the module substitutes included) plus a metafile, and returns
 * what the bundle's bytes come from. The bench reports whether its size equals the CDK bundle's, which
 * catches the two drifting apart.
 */
export async function bundleContributors(
  root: string,
  name: FunctionName,
  top = 15,
): Promise<BundleContributors> {
  const result = await build({
    ...houseBuildOptions(root, name, join(root, 'bench-metafile', 'index.mjs'), true),
    write: false,
    metafile: true,
  });
  const output = Object.entries(result.metafile.outputs).find(([file]) => file.endsWith('index.mjs'));
  if (!output) throw new Error(`esbuild produced no index.mjs for ${ENTRIES[name]}`);
  const [, meta] = output;
  return {
    totalBytes: meta.bytes,
    ...rankInputs(meta, top),
  };
}

/** Top inputs and top packages by bytes in the output. */
export function rankInputs(
  output: Metafile['outputs'][string],
  top: number,
): Pick<BundleContributors, 'topInputs' | 'topPackages'> {
  const inputs = Object.entries(output.inputs).map(([path, input]) => ({
    name: path,
    value: input.bytesInOutput,
  }));
  const packages = new Map<string, number>();
  for (const input of inputs) {
    const owner = packageOf(input.name);
    packages.set(owner, (packages.get(owner) ?? 0) + input.value);
  }
  const total = output.bytes;
  const ranked = (list: { name: string; value: number }[]): Contributor[] =>
    list
      .sort((a, b) => b.value - a.value)
      .slice(0, top)
      .map((entry) => ({ ...entry, share: entry.value / total }));
  return {
    topInputs: ranked(inputs),
    topPackages: ranked([...packages].map(([packageName, value]) => ({ name: packageName, value }))),
  };
}

/** `node_modules/@scope/name/…` → `@scope/name`; own code → `voicedrop (functions/<folder>)`. */
export function packageOf(path: string): string {
  const marker = 'node_modules/';
  const at = path.lastIndexOf(marker);
  if (at >= 0) {
    const parts = path.slice(at + marker.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? path);
  }
  const own = path.indexOf('functions/');
  if (own >= 0) {
    const folders = path.slice(own).split('/');
    return `voicedrop (${folders.slice(0, Math.min(3, folders.length - 1)).join('/')})`;
  }
  return path;
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  /** Microseconds on the monotonic clock. */
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const MODULE_TOP_LEVEL = '(bundle top level: hoisted ES module bodies)';
// esbuild's __esm/__commonJS helpers have no source position; V8 charges the lazy compilation of the module
// body a helper calls to the helper, so their self time is mostly compiling wrapped modules.
const UNMAPPED = '(esbuild module wrappers: lazily compiling and entering wrapped modules)';
/** How far past a function's start to look for its first mapped token. */
const MAPPING_LOOKAHEAD = 400;

type CallFrame = CpuProfileNode['callFrame'];

/**
 * What a sample without bundle code on its stack was doing, first match wins (the source map and undici
 * are loaded from inside module compilation and built-in loading, so they are tested first).
 */
const LOADING_STEPS: readonly { readonly label: string; matches(frame: CallFrame): boolean }[] = [
  {
    label: 'Node: reading and indexing the source map (--enable-source-maps)',
    matches: (frame) => frame.url === 'node:internal/source_map/source_map_cache',
  },
  {
    label: 'Node: loading its bundled undici (the ESM facade of node:http reads its lazy fetch getters)',
    matches: (frame) => frame.url === 'node:internal/deps/undici/undici',
  },
  {
    label: 'V8: compiling the bundle (compileSourceTextModule)',
    matches: (frame) => frame.functionName === 'compileSourceTextModule',
  },
  {
    label: 'Node: reading the bundle file and decoding it to a string',
    matches: (frame) =>
      frame.url === 'node:internal/modules/esm/load' ||
      (frame.url === 'node:internal/modules/helpers' && frame.functionName === 'stringify'),
  },
  {
    label: 'Node: loading built-in modules (node:crypto, node:http, streams, …)',
    matches: (frame) => frame.url === 'node:internal/bootstrap/realm',
  },
];

export function attributeProfile(
  profile: CpuProfile,
  bundleUrl: string,
  sourceMap: SourceMap,
  window: { readonly startUs: number; readonly endUs: number },
): { evaluationMs: number; byOwner: Map<string, number> } {
  const parents = new Map<number, CpuProfileNode>();
  const nodes = new Map<number, CpuProfileNode>();
  for (const node of profile.nodes) {
    nodes.set(node.id, node);
    for (const child of node.children ?? []) parents.set(child, node);
  }
  const sourceAt = (line: number, column: number): string | undefined => {
    for (let offset = 0; offset <= MAPPING_LOOKAHEAD; offset += 8) {
      const entry = sourceMap.findEntry(line, column + offset) as { originalSource?: string };
      if (entry.originalSource) return entry.originalSource;
    }
    return undefined;
  };
  const bundleOwners = new Map<number, string | undefined>();
  const bundleOwnerOf = (id: number): string | undefined => {
    if (bundleOwners.has(id)) return bundleOwners.get(id);
    const node = nodes.get(id);
    let owner: string | undefined;
    if (node?.callFrame.url === bundleUrl) {
      const { functionName, lineNumber, columnNumber } = node.callFrame;
      if (functionName === '' && lineNumber === 0 && columnNumber === 0) owner = MODULE_TOP_LEVEL;
      else {
        const source = sourceAt(lineNumber, columnNumber);
        owner = source ? packageOf(source) : UNMAPPED;
      }
    } else if (node) {
      const parent = parents.get(id);
      owner = parent ? bundleOwnerOf(parent.id) : undefined;
    }
    bundleOwners.set(id, owner);
    return owner;
  };
  const otherOwnerOf = (id: number): string => {
    const stack: CallFrame[] = [];
    for (let node = nodes.get(id); node; node = parents.get(node.id)) stack.push(node.callFrame);
    const [leaf] = stack;
    if (!leaf) return '(unknown)';
    if (leaf.functionName.startsWith('(')) return leaf.functionName;
    const step = LOADING_STEPS.find((candidate) => stack.some((frame) => candidate.matches(frame)));
    if (step) return step.label;
    const withUrl = stack.find((frame) => frame.url !== '');
    return withUrl
      ? `${withUrl.url.replace(/^file:\/\/.*\//, '')} ${withUrl.functionName}`.trim()
      : '(native)';
  };

  const byOwner = new Map<string, number>();
  let evaluationMs = 0;
  let clock = profile.startTime;
  let previous = clock;
  profile.samples.forEach((id, index) => {
    previous = clock;
    clock += profile.timeDeltas[index] ?? 0;
    if (clock <= window.startUs || previous >= window.endUs) return;
    const ms = (Math.min(clock, window.endUs) - Math.max(previous, window.startUs)) / 1000;
    const bundleOwner = bundleOwnerOf(id);
    if (bundleOwner !== undefined) evaluationMs += ms;
    const owner = bundleOwner ?? otherOwnerOf(id);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
  });
  return { evaluationMs, byOwner };
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
