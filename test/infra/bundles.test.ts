import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_INJECTS, ESM_REQUIRE_BANNER, REPOSITORY_ROOT } from '../../lib/house-function';
import { findBundles } from '../../scripts/bench/bundles';
import type { FunctionName } from '../../scripts/bench/report';
import { synthesize } from './support';

/** Text only the credential sources a Lambda function never uses carry, each with what it stands for. */
const OTHER_CREDENTIAL_SOURCES: Readonly<Record<string, string>> = {
  'security-credentials': 'instance metadata (IMDS) credentials',
  '169.254.170.2': 'container metadata credentials',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'container metadata credentials',
  sso_start_url: 'SSO',
  credential_process: 'credential_process',
  AWS_WEB_IDENTITY_TOKEN_FILE: 'web identity',
  login_session: 'console login',
};

describe('Lambda bundles as cdk synth builds them', () => {
  let bundles: Record<FunctionName, string>;
  /** The modules each bundle is made of, from its source map (esbuild lists every input with output). */
  let sources: Record<FunctionName, string[]>;

  beforeAll(() => {
    const { app } = synthesize();
    const found = findBundles(app.synth().directory);
    bundles = {
      clone: readFileSync(found.clone.modulePath, 'utf8'),
      api: readFileSync(found.api.modulePath, 'utf8'),
    };
    const mapSources = (mapPath: string) =>
      (JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[] }).sources;
    sources = { clone: mapSources(found.clone.mapPath), api: mapSources(found.api.mapPath) };
  });

  it.each(['clone', 'api'] as const)(
    '%s: carries no AWS SDK: no @aws-sdk/ or @smithy/ module, AWS calls through the thin clients',
    (name) => {
      const sdkModules = sources[name].filter((source) => /[\\/]@(aws-sdk|smithy)[\\/]/.test(source));

      expect(sdkModules).toEqual([]);
      expect(sources[name].some((source) => source.endsWith('functions/shared/aws/http.ts'))).toBe(true);
      // Distinctive text of the SDK: package names in its imports and messages, its user agent.
      expect(bundles[name]).not.toContain('@aws-sdk/');
      expect(bundles[name]).not.toContain('@smithy/');
      expect(bundles[name]).not.toContain('aws-sdk-js');
    },
  );

  it.each(['clone', 'api'] as const)(
    '%s: takes credentials from the environment and from nowhere else',
    (name) => {
      const bundle = bundles[name];

      // awsSettingsFromEnvironment's message when Lambda's credential variables are missing.
      expect(bundle).toContain('AWS_ACCESS_KEY_ID is required');
      const present = Object.entries(OTHER_CREDENTIAL_SOURCES).filter(([marker]) => bundle.includes(marker));
      expect(present.map(([marker, source]) => `${source} (${marker})`)).toEqual([]);
    },
  );

  it.each(['clone', 'api'] as const)('%s: does not import node:http when it loads', (name) => {
    // Its ES module facade reads http.WebSocket & co, which loads Node's undici: ~20 ms of every cold start.
    expect(bundles[name]).not.toMatch(/\bfrom\s*["']node:http["']/);
  });
});

describe('Injected: source-mapped stack traces', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'voicedrop-stack-traces-'));
  const fixture = path.join(folder, 'failing-handler.ts');
  const bundle = path.join(folder, 'index.mjs');

  /** Runs the bundle in a fresh Node process (the mapper replaces Error.prepareStackTrace) and returns the stack. */
  function stackFromBundle(): string {
    const script = `import(${JSON.stringify(`file://${bundle}`)}).then((m) => m.handler()).catch((e) => console.log(e.stack));`;
    return execFileSync(process.execPath, ['--input-type=module', '--eval', script], { encoding: 'utf8' });
  }

  beforeAll(async () => {
    writeFileSync(
      fixture,
      [
        'export async function handler(): Promise<never> {',
        '  const limit = 42;',
        "  throw new RangeError('boom, over ' + limit);",
        '}',
        '',
      ].join('\n'),
    );
    // The options HouseFunction gives esbuild that matter here: ESM, minified, map beside, the injected modules.
    await build({
      entryPoints: [fixture],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'esm',
      banner: { js: ESM_REQUIRE_BANNER },
      inject: BUNDLE_INJECTS.map((module) => path.join(REPOSITORY_ROOT, module)),
      minify: true,
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'silent',
    });
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('names the original file, line and column of the throw', () => {
    const stack = stackFromBundle();

    expect(stack).toMatch(/^RangeError: boom, over 42\n/);
    expect(stack).toMatch(/\n {4}at \S+ \(\S*failing-handler\.ts:3:9\)/);
    expect(stack).not.toContain('index.mjs:');
  });

  it('leaves the bundle positions when the map is gone', () => {
    rmSync(`${bundle}.map`);

    const stack = stackFromBundle();

    expect(stack).toMatch(/^RangeError: boom, over 42\n/);
    expect(stack).toMatch(/index\.mjs:\d+:\d+/);
  });
});
