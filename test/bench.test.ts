import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lib/config';
import { BUNDLE_SUBSTITUTES } from '../lib/house-function';
import { packageOf, rankInputs } from '../scripts/bench/bundle-contents';
import {
  BENCH_WEBHOOK,
  benchConfigContext,
  type LambdaBundle,
  variableValue,
  withBenchWebhook,
} from '../scripts/bench/bundles';
import { attributeProfile, type CpuProfile } from '../scripts/bench/cpu-profile';
import {
  assertPlainSdkDiffers,
  buildPlainSdkBundle,
  CREDENTIAL_CHAIN_MARKERS,
  credentialChainMarkersIn,
  houseBuildOptions,
} from '../scripts/bench/house-build';
import { measuredInRound } from '../scripts/bench/import-times';
import {
  type BenchResult,
  BUDGETS,
  evaluateBudgets,
  FUNCTION_NAMES,
  figureAt,
  formatBytes,
  formatJsonLine,
  formatReport,
} from '../scripts/bench/report';
import { median, percentile } from '../scripts/bench/stats';

describe('Function: percentile', () => {
  it('interpolates between the two nearest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48);
    expect(percentile([10, 20, 30, 40, 50], 25)).toBe(20);
  });

  it('returns the extremes at 0 and 100 whatever the input order', () => {
    expect(percentile([5, 1, 9, 3], 0)).toBe(1);
    expect(percentile([5, 1, 9, 3], 100)).toBe(9);
  });

  it('returns the only sample of a list of one', () => {
    expect(percentile([7], 95)).toBe(7);
    expect(median([7])).toBe(7);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('throws on no samples or a percentile outside 0–100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

function sampleResult(overrides: Partial<BenchResult> = {}): BenchResult {
  // clone sits exactly at its bundle budgets, api just over them; the plain SDK figures are far over the
  // same limits, which must not matter: they are not budgeted.
  const bundle = {
    bytes: 600_000,
    mapBytes: 900_000,
    importMs: 80.5,
    importOverheadMs: 80,
    plainSdkBytes: 713_000,
    plainSdkImportOverheadMs: 95.25,
    importMsWithoutSourceMaps: 75,
    processWallMs: 120,
    processWallOverheadMs: 70,
    runs: 15,
  };
  const partial: Omit<BenchResult, 'budgets'> = {
    timestamp: '2026-01-01T00:00:00.000Z',
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      totalMemoryBytes: 8 * 1024 ** 3,
      nodeVersion: 'v24.0.0',
      platform: 'linux-x64',
    },
    durationSec: 30,
    bundles: {
      clone: bundle,
      api: { ...bundle, bytes: 600_001, importOverheadMs: 80.01 },
      // The stream, sweep and webhook bundles have a size budget only: an import overhead far over 80 ms
      // fails nothing. events sits at its limit, retention just over, webhooks under.
      events: { ...bundle, bytes: 250_000, importOverheadMs: 200 },
      retention: { ...bundle, bytes: 550_001, importOverheadMs: 200 },
      webhooks: { ...bundle, bytes: 299_999, importOverheadMs: 200 },
    },
    validation: {
      oversize: {
        sizeBytes: 31_457_280,
        bytesRead: 65_536,
        requests: 1,
        ms: 0.01,
        verdict: 'file_too_large',
        runs: 7,
      },
      garbage: {
        sizeBytes: 20_971_520,
        bytesRead: 65_536,
        requests: 1,
        ms: 4,
        verdict: 'unreadable_audio',
        runs: 7,
      },
      wav: { sizeBytes: 20_815_244, bytesRead: 65_536, requests: 1, ms: 3, verdict: 'ok', runs: 7 },
      mp3: { sizeBytes: 80_000, bytesRead: 80_000, requests: 3, ms: 5, verdict: 'ok', runs: 7 },
      quality: {
        wav: {
          durationSec: 150,
          sizeBytes: 13_230_044,
          ms: 144,
          speechSec: 150,
          rssGrowthBytes: 66e6,
          runs: 5,
        },
        mp3: {
          durationSec: 150,
          sizeBytes: 1_200_378,
          ms: 1_000.5,
          speechSec: 150,
          rssGrowthBytes: 52e6,
          runs: 5,
        },
      },
    },
    speech: {
      overheadMsP50: 12,
      overheadMsP95: 20,
      requests: 300,
      characters: 35,
      handlerMsP50: 20,
      providerMsP50: 8,
    },
    methods: { speech: 'app.request' },
    errors: { clonePipeline: 'simulator refused' },
    ...overrides,
  };
  return { ...partial, budgets: evaluateBudgets(partial) };
}

describe('Function: figureAt', () => {
  it('reads a number at a dotted path and nothing else', () => {
    const result = sampleResult();
    expect(figureAt(result, 'bundles.api.bytes')).toBe(600_001);
    expect(figureAt(result, 'bundles.clone.plainSdkImportOverheadMs')).toBe(95.25);
    expect(figureAt(result, 'clonePipeline.overheadMsP50')).toBeUndefined();
    expect(figureAt(result, 'validation.wav.verdict')).toBeUndefined();
    expect(figureAt(result, 'bundles')).toBeUndefined();
  });
});

describe('Function: evaluateBudgets', () => {
  it('passes figures at or under their limit and fails those over it', () => {
    const verdicts = sampleResult().budgets;
    const verdict = (figure: string) => verdicts.find((entry) => entry.figure === figure);
    expect(verdict('bundles.clone.bytes')).toMatchObject({ value: 600_000, limit: 900_000, pass: true });
    expect(verdict('bundles.api.bytes')).toMatchObject({ value: 600_001, limit: 600_000, pass: false });
    expect(verdict('bundles.clone.importOverheadMs')).toMatchObject({ value: 80, limit: 80, pass: true });
    expect(verdict('bundles.api.importOverheadMs')).toMatchObject({ value: 80.01, limit: 80, pass: false });
    expect(verdict('bundles.events.bytes')).toMatchObject({ value: 250_000, limit: 250_000, pass: true });
    expect(verdict('bundles.retention.bytes')).toMatchObject({ value: 550_001, limit: 550_000, pass: false });
    expect(verdict('bundles.webhooks.bytes')).toMatchObject({ value: 299_999, limit: 300_000, pass: true });
    expect(verdict('validation.oversize.bytesRead')).toMatchObject({
      value: 65_536,
      limit: 65_536,
      pass: true,
    });
    expect(verdict('validation.oversize.requests')).toMatchObject({ value: 1, limit: 1, pass: true });
    expect(verdict('validation.quality.wav.ms')).toMatchObject({ value: 144, pass: true });
    expect(verdict('validation.quality.mp3.ms')).toMatchObject({ value: 1_000.5, pass: false });
    expect(verdict('validation.garbage.bytesRead')).toMatchObject({ value: 65_536, pass: true });
    expect(verdict('speech.overheadMsP50')).toMatchObject({ value: 12, pass: false });
  });

  it('fails a figure that was not measured', () => {
    const verdicts = sampleResult().budgets;
    expect(verdicts.find((entry) => entry.figure === 'clonePipeline.overheadMsP50')).toMatchObject({
      value: undefined,
      pass: false,
    });
  });

  it('holds the figures to the agreed budgets', () => {
    expect(BUDGETS.map(({ figure, limit, unit }) => `${figure} ≤ ${limit} ${unit}`)).toEqual([
      'bundles.clone.bytes ≤ 900000 bytes',
      'bundles.api.bytes ≤ 600000 bytes',
      'bundles.events.bytes ≤ 250000 bytes',
      'bundles.retention.bytes ≤ 550000 bytes',
      'bundles.webhooks.bytes ≤ 300000 bytes',
      'bundles.clone.importOverheadMs ≤ 80 ms',
      'bundles.api.importOverheadMs ≤ 80 ms',
      'validation.oversize.bytesRead ≤ 65536 bytes',
      'validation.oversize.requests ≤ 1 count',
      'validation.quality.mp3.ms ≤ 1000 ms',
      'validation.quality.wav.ms ≤ 1000 ms',
      'validation.garbage.bytesRead ≤ 65536 bytes',
      'clonePipeline.overheadMsP50 ≤ 50 ms',
      'speech.overheadMsP50 ≤ 10 ms',
      'speech.ttfbOverFirstByteMs.smallest.5000 ≤ 50 ms',
      'speech.ttfbOverFirstByteMs.typecast.5000 ≤ 50 ms',
      'speech.totalOverSchedule.smallest.5000 ≤ 1.1 ratio',
      'speech.totalOverSchedule.typecast.5000 ≤ 1.1 ratio',
      'speech.cacheHitMsP50 ≤ 15 ms',
      'memory.peakRssGrowthPerUploadByte ≤ 2.5 ratio',
    ]);
  });

  it('budgets the import overhead of clone and api only, and the bytes of every function', () => {
    const budgeted = (figure: string) => BUDGETS.filter((budget) => budget.figure.endsWith(`.${figure}`));
    expect(budgeted('importOverheadMs').map((budget) => budget.figure)).toEqual([
      'bundles.clone.importOverheadMs',
      'bundles.api.importOverheadMs',
    ]);
    expect(budgeted('bytes').map((budget) => budget.figure.split('.')[1])).toEqual([...FUNCTION_NAMES]);
  });

  it('does not budget the plain SDK baseline, however large it is', () => {
    expect(BUDGETS.filter((budget) => budget.figure.includes('plainSdk'))).toEqual([]);
    const verdicts = sampleResult().budgets;
    expect(verdicts.some((entry) => entry.figure.includes('plainSdk'))).toBe(false);
    expect(verdicts.find((entry) => entry.figure === 'bundles.clone.importOverheadMs')?.pass).toBe(true);
  });

  it('reports every budget, in order', () => {
    expect(sampleResult().budgets.map((entry) => entry.figure)).toEqual(BUDGETS.map((entry) => entry.figure));
  });
});

describe('Function: formatJsonLine', () => {
  it('prints the whole result as exactly one line of JSON', () => {
    const result = sampleResult({ methods: { note: 'first line\nsecond line' } });
    const line = formatJsonLine(result);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(result)));
  });

  it('rounds fractions to three decimals and keeps integers', () => {
    const base = sampleResult();
    const bundles = base.bundles as NonNullable<BenchResult['bundles']>;
    const result = { ...base, bundles: { ...bundles, clone: { ...bundles.clone, importMs: 123.456789 } } };
    const parsed = JSON.parse(formatJsonLine(result));
    expect(parsed.bundles.clone.importMs).toBe(123.457);
    expect(parsed.bundles.clone.bytes).toBe(600_000);
  });

  it('carries the plain SDK baseline of each function', () => {
    const parsed = JSON.parse(formatJsonLine(sampleResult()));
    for (const name of FUNCTION_NAMES) {
      expect(parsed.bundles[name]).toMatchObject({ plainSdkBytes: 713_000, plainSdkImportOverheadMs: 95.25 });
    }
  });
});

describe('Function: formatReport', () => {
  it('shows the machine, the figures, PASS/FAIL per budget and what was not measured', () => {
    const report = formatReport(sampleResult());
    expect(report).toContain('Test CPU, 2 cores, 8192.00 MiB RAM, Node v24.0.0');
    expect(report).toMatch(/PASS {2}bundles\.clone\.bytes +600,000 B {2}≤ 900,000 B/);
    expect(report).toMatch(/PASS {2}validation\.oversize\.requests +1 {2}≤ 1/);
    expect(report).toMatch(/FAIL {2}validation\.quality\.mp3\.ms +1000\.50 ms {2}≤ 1000\.00 ms/);
    expect(report).toMatch(/mp3 +1\.14 MiB +1000\.50 ms +150\.0/);
    expect(report).toMatch(/FAIL {2}bundles\.api\.bytes +600,001 B {2}≤ 600,000 B/);
    expect(report).toMatch(/PASS {2}bundles\.clone\.importOverheadMs +80\.00 ms {2}≤ 80\.00 ms/);
    expect(report).toMatch(/FAIL {2}bundles\.api\.importOverheadMs +80\.01 ms {2}≤ 80\.00 ms/);
    expect(report).toMatch(/FAIL {2}clonePipeline\.overheadMsP50 +not measured/);
    expect(report).toContain('clonePipeline: simulator refused');
    expect(report).toMatch(/garbage +20\.00 MiB +65,536 +1 +4\.00 ms +unreadable_audio/);
  });

  it('shows the plain SDK bytes next to the bytes and its overhead next to the import overhead', () => {
    const lines = formatReport(sampleResult()).split('\n');
    const header = lines.find((line) => line.trimStart().startsWith('function'));
    expect(header).toMatch(
      /bytes +plain SDK bytes +map +import +overhead +plain SDK overhead +no source maps/,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {2}clone +600,000 +713,000 +878\.9 KiB +80\.50 ms +80\.00 ms +95\.25 ms +75\.00 ms/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}api +600,001 +713,000 +878\.9 KiB +80\.50 ms +80\.01 ms +95\.25 ms/),
    );
    for (const [name, bytes] of [
      ['events', '250,000'],
      ['retention', '550,001'],
      ['webhooks', '299,999'],
    ]) {
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^ {2}${name} +${bytes} +713,000 +878\\.9 KiB +80\\.50 ms +200\\.00 ms`),
        ),
      );
    }
    // Not a budget: the baseline appears in no budget line.
    expect(lines.filter((line) => /^ {2}(PASS|FAIL) /.test(line) && line.includes('plainSdk'))).toEqual([]);
  });

  it('says whether the metafile build has the size of the CDK bundle', () => {
    const contributors = { totalBytes: 400_000, topInputs: [], topPackages: [] };
    const report = formatReport(
      sampleResult({
        contributors: {
          bundleBytes: {
            clone: { ...contributors, matchesCdkBundle: true },
            api: { ...contributors, matchesCdkBundle: false },
            events: contributors,
            retention: contributors,
            webhooks: { ...contributors, matchesCdkBundle: true },
          },
        },
      }),
    );
    expect(report).toContain('Bundle size, clone (esbuild metafile: 400,000 B, the size of the CDK bundle)');
    expect(report).toContain('Bundle size, api (esbuild metafile: 400,000 B, NOT the size of the CDK bundle');
    expect(report).toContain('Bundle size, events (esbuild metafile: 400,000 B)\n');
    expect(report).toContain(
      'Bundle size, webhooks (esbuild metafile: 400,000 B, the size of the CDK bundle)',
    );
  });

  it('leaves out sections that have no figures', () => {
    const report = formatReport(sampleResult());
    expect(report).not.toContain('Memory (');
    expect(report).not.toContain('Clone pipeline (');
  });
});

describe('Function: formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.00 MiB');
  });
});

describe('Function: packageOf', () => {
  it('names the package of a path inside node_modules, scoped or not, nested or not', () => {
    expect(packageOf('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(packageOf('node_modules/@smithy/core/dist-es/index.js')).toBe('@smithy/core');
    expect(packageOf('../../node_modules/a/node_modules/@aws-sdk/core/x.js')).toBe('@aws-sdk/core');
  });

  it('groups own code by folder under functions/', () => {
    expect(packageOf('functions/shared/audio/wav.ts')).toBe('voicedrop (functions/shared/audio)');
    expect(packageOf('../../../srv/voicedrop/functions/clone/batch.ts')).toBe('voicedrop (functions/clone)');
  });
});

describe('Function: rankInputs', () => {
  it('ranks inputs and packages by bytes in the output, with their share', () => {
    const ranked = rankInputs(
      {
        bytes: 1_000,
        inputs: {
          'node_modules/zod/a.js': { bytesInOutput: 300 },
          'node_modules/zod/b.js': { bytesInOutput: 200 },
          'node_modules/hono/index.js': { bytesInOutput: 400 },
          'functions/api/app.ts': { bytesInOutput: 100 },
        },
        imports: [],
        exports: [],
        entryPoint: 'functions/api/handler.ts',
      },
      2,
    );
    expect(ranked.topInputs).toEqual([
      { name: 'node_modules/hono/index.js', value: 400, share: 0.4 },
      { name: 'node_modules/zod/a.js', value: 300, share: 0.3 },
    ]);
    expect(ranked.topPackages).toEqual([
      { name: 'zod', value: 500, share: 0.5 },
      { name: 'hono', value: 400, share: 0.4 },
    ]);
  });
});

describe('Function: attributeProfile', () => {
  const bundleUrl = 'file:///tmp/asset/index.mjs';
  // One line of generated code: columns 0–9 come from zod, columns 10 on from @smithy/core.
  const sourceMap = new SourceMap({
    version: 3,
    file: 'index.mjs',
    sources: ['../node_modules/zod/index.js', '../node_modules/@smithy/core/index.js'],
    sourcesContent: [],
    sourceRoot: '',
    names: [],
    mappings: 'AAAA,UCAA',
  });
  const frame = (functionName: string, url: string, columnNumber = 0) => ({
    functionName,
    url,
    lineNumber: 0,
    columnNumber,
  });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 6, 7] },
      { id: 2, callFrame: frame('compileSourceTextModule', 'node:internal/modules/esm/utils') },
      { id: 3, callFrame: frame('', bundleUrl), children: [4] },
      { id: 4, callFrame: frame('object', bundleUrl, 2), children: [5] },
      { id: 5, callFrame: frame('createHash', 'node:crypto') },
      { id: 6, callFrame: frame('(garbage collector)', '') },
      { id: 7, callFrame: frame('client', bundleUrl, 12) },
    ],
    startTime: 1_000,
    // Samples every 100 µs from 1,100 to 1,700.
    samples: [2, 2, 3, 4, 5, 6, 7],
    timeDeltas: [100, 100, 100, 100, 100, 100, 100],
  };

  it('charges bundle samples to the package of the innermost bundle frame, callees included', () => {
    const { evaluationMs, byOwner } = attributeProfile(profile, bundleUrl, sourceMap, {
      startUs: 1_000,
      endUs: 1_700,
    });
    expect(byOwner.get('zod')).toBeCloseTo(0.2);
    expect(byOwner.get('@smithy/core')).toBeCloseTo(0.1);
    expect(byOwner.get('(bundle top level: hoisted ES module bodies)')).toBeCloseTo(0.1);
    expect(evaluationMs).toBeCloseTo(0.4);
  });

  it('charges other samples to the loading step or pseudo-frame they were in', () => {
    const { byOwner } = attributeProfile(profile, bundleUrl, sourceMap, { startUs: 1_000, endUs: 1_700 });
    expect(byOwner.get('V8: compiling the bundle (compileSourceTextModule)')).toBeCloseTo(0.2);
    expect(byOwner.get('(garbage collector)')).toBeCloseTo(0.1);
  });

  it('counts only the part of the profile inside the window', () => {
    const { byOwner } = attributeProfile(profile, bundleUrl, sourceMap, { startUs: 1_200, endUs: 1_400 });
    expect([...byOwner.keys()].sort()).toEqual(['(bundle top level: hoisted ES module bodies)', 'zod']);
    expect([...byOwner.values()].reduce((sum, ms) => sum + ms, 0)).toBeCloseTo(0.2);
  });
});

describe('Function: assertPlainSdkDiffers', () => {
  const lean = 'const a=process.env.AWS_ACCESS_KEY_ID;fetch("http://169.254.169.254/latest/api/token")';
  const plain = `${lean};const f=process.env.AWS_WEB_IDENTITY_TOKEN_FILE;const h="169.254.170.2"`;

  it('finds the credential-chain markers in bundle code', () => {
    expect(credentialChainMarkersIn(plain)).toEqual(['AWS_WEB_IDENTITY_TOKEN_FILE', '169.254.170.2']);
    expect(credentialChainMarkersIn('x="169.254.170.2"')).toEqual(['169.254.170.2']);
    // The instance metadata address is reached by the SDK's defaults mode too: no marker.
    expect(credentialChainMarkersIn(lean)).toEqual([]);
  });

  it('accepts a plain build with the full chain next to a bundle without it', () => {
    expect(() => assertPlainSdkDiffers('clone', lean, plain)).not.toThrow();
    expect(() => assertPlainSdkDiffers('clone', lean, 'x="169.254.170.2"')).not.toThrow();
  });

  it('fails when the plain build lacks the full chain', () => {
    expect(() => assertPlainSdkDiffers('api', lean, lean)).toThrow(/plain SDK build of api has none of/);
  });

  it('fails when the real bundle carries the full chain', () => {
    expect(() => assertPlainSdkDiffers('clone', plain, plain)).toThrow(
      /clone bundle contains the SDK's full credential chain \(AWS_WEB_IDENTITY_TOKEN_FILE, 169\.254\.170\.2\)/,
    );
  });
});

describe('Function: houseBuildOptions', () => {
  const root = '/repo';

  it('aliases exactly the modules BUNDLE_SUBSTITUTES names, and none for the plain SDK build', () => {
    const lean = houseBuildOptions(root, 'clone', '/out/index.mjs', true);
    expect(lean.alias).toEqual(
      Object.fromEntries(
        Object.entries(BUNDLE_SUBSTITUTES).map(([module, substitute]) => [module, join(root, substitute)]),
      ),
    );
    expect(houseBuildOptions(root, 'clone', '/out/index.mjs', false).alias).toEqual({});
  });

  it('differs between the two builds in the aliases only', () => {
    const { alias: _lean, ...lean } = houseBuildOptions(root, 'api', '/out/index.mjs', true);
    const { alias: _plain, ...plain } = houseBuildOptions(root, 'api', '/out/index.mjs', false);
    expect(plain).toEqual(lean);
    expect(lean).toMatchObject({
      entryPoints: [join(root, 'functions/api/handler.ts')],
      format: 'esm',
      target: 'node24',
      minify: true,
      sourcemap: 'external',
      sourcesContent: false,
    });
  });
});

describe('Function: buildPlainSdkBundle', () => {
  const repository = fileURLToPath(new URL('..', import.meta.url));
  const scratch = mkdtempSync(join(tmpdir(), 'voicedrop-bench-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('writes the handler without substitutes beside its map, larger than and unlike the lean build', async () => {
    const leanPath = join(scratch, 'asset.lean', 'index.mjs');
    await build({ ...houseBuildOptions(repository, 'api', leanPath, true), write: true });
    const lean: LambdaBundle = {
      name: 'api',
      directory: join(scratch, 'asset.lean'),
      modulePath: leanPath,
      mapPath: `${leanPath}.map`,
      memorySize: 512,
      variables: { POWERTOOLS_SERVICE_NAME: 'voicedrop-api' },
    };
    const plain = await buildPlainSdkBundle(repository, lean, scratch);
    expect(plain).toEqual({
      ...lean,
      directory: join(scratch, 'plain-sdk', 'api'),
      modulePath: join(scratch, 'plain-sdk', 'api', 'index.mjs'),
      mapPath: join(scratch, 'plain-sdk', 'api', 'index.mjs.map'),
    });
    expect(readdirSync(plain.directory).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = readFileSync(plain.modulePath, 'utf8');
    expect(credentialChainMarkersIn(code)).toEqual([...CREDENTIAL_CHAIN_MARKERS]);
    expect(code).not.toContain('sourceMappingURL');
    expect(statSync(plain.modulePath).size).toBeGreaterThan(statSync(lean.modulePath).size);
  }, 60_000);
});

describe('Function: withBenchWebhook', () => {
  const repository = fileURLToPath(new URL('..', import.meta.url));
  const cdkJson = JSON.parse(readFileSync(join(repository, 'cdk.json'), 'utf8')) as {
    context: { voicedrop: Record<string, unknown> };
  };

  it("adds one endpoint to cdk.json's settings and keeps every other setting", () => {
    const voicedrop = { ...cdkJson.context.voicedrop, webhooks: [] };
    const settings = withBenchWebhook(voicedrop);

    expect(settings).toEqual({ ...voicedrop, webhooks: [BENCH_WEBHOOK] });
    expect(parseConfig(JSON.stringify(settings))).toEqual({
      ...parseConfig(voicedrop),
      webhooks: [BENCH_WEBHOOK],
    });
  });

  it('keeps configured endpoints as they are, and works without a voicedrop context', () => {
    const webhooks = [{ url: 'https://hooks.example.org/in' }];
    expect(withBenchWebhook({ webhooks })).toEqual({ webhooks });
    expect(withBenchWebhook(undefined)).toEqual({ webhooks: [BENCH_WEBHOOK] });
  });

  it("is what the bench passes as -c voicedrop: cdk.json's settings with a webhook, valid", () => {
    const context = benchConfigContext(repository);

    expect(parseConfig(context).webhooks.length).toBeGreaterThan(0);
    expect(JSON.parse(context)).toMatchObject({ defaultProvider: cdkJson.context.voicedrop.defaultProvider });
  });
});

describe('Function: variableValue', () => {
  it('keeps literals, joins Fn::Join with dummies for references and dummies the rest', () => {
    expect(variableValue('EVENT_BUS_NAME', 'voicedrop-bus')).toBe('voicedrop-bus');
    expect(variableValue('BUCKET_NAME', { Ref: 'Bucket' })).toBe('voicedrop-bench-bucket');
    expect(variableValue('WEBHOOK_DLQ_URL', { Ref: 'Queue' })).toBe('voicedrop-bench-webhook_dlq_url');
    const endpoints = {
      'Fn::Join': ['', ['[{"id":"endpoint-1","secretArn":"', { Ref: 'Secret' }, '"}]']],
    };
    expect(JSON.parse(variableValue('WEBHOOK_ENDPOINTS', endpoints))).toEqual([
      { id: 'endpoint-1', secretArn: 'voicedrop-bench-webhook_endpoints' },
    ]);
  });
});

describe('Function: measuredInRound', () => {
  const rounds = (runs: number, of: number) =>
    Array.from({ length: of }, (_, round) => round).filter((round) => measuredInRound(round, runs, of));

  it('measures a variant with as many runs as rounds in every round', () => {
    expect(rounds(15, 15)).toHaveLength(15);
  });

  it('spreads fewer runs evenly over the rounds, the first and the last included', () => {
    expect(rounds(7, 15)).toEqual([0, 2, 5, 7, 9, 12, 14]);
    expect(rounds(2, 15)).toEqual([0, 14]);
    expect(rounds(1, 15)).toEqual([0]);
  });
});
