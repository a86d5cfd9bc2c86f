import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config';
import { BUNDLE_SUBSTITUTES } from '../../lib/house-function';
import { packageOf, rankInputs } from '../../scripts/bench/bundle-contents';
import {
  BENCH_WEBHOOK,
  benchConfigContext,
  type LambdaBundle,
  variableValue,
  withBenchWebhook,
} from '../../scripts/bench/bundles';
import { attributeProfile, type CpuProfile } from '../../scripts/bench/cpu-profile';
import {
  assertPlainSdkDiffers,
  buildPlainSdkBundle,
  CREDENTIAL_CHAIN_MARKERS,
  credentialChainMarkersIn,
  houseBuildOptions,
} from '../../scripts/bench/house-build';
import { measuredInRound } from '../../scripts/bench/import-times';

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
  const repository = fileURLToPath(new URL('../..', import.meta.url));
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
  const repository = fileURLToPath(new URL('../..', import.meta.url));
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
