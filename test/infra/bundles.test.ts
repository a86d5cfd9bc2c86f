import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../lib/bundle-substitutes/credential-provider-node';
import { CONFIG_CONTEXT_KEY } from '../../lib/config';
import {
  BUNDLE_INJECTS,
  BUNDLE_SUBSTITUTES,
  ESM_REQUIRE_BANNER,
  REPOSITORY_ROOT,
} from '../../lib/house-function';
import {
  findBundles,
  type LambdaBundle,
  lambdaEnvironment,
  withBenchWebhook,
} from '../../scripts/bench/bundles';
import { FUNCTION_NAMES, type FunctionName } from '../../scripts/bench/report';
import { relativeImportsUnder } from '../support/imports';
import { cdkJson, synthesize } from './support';

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

/**
 * The SDK packages each function calls AWS through (the rest of the SDK arrives as their dependencies). A
 * client in a bundle whose function does not use it costs bytes and import time at every cold start.
 */
const SDK_PACKAGES_USED: Readonly<Record<FunctionName, readonly string[]>> = {
  clone: [
    '@aws-sdk/client-s3',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sqs',
  ],
  api: [
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-request-presigner',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/client-secrets-manager',
  ],
  // Voice records from the table's stream to EventBridge (the stream images are plain util-dynamodb).
  events: ['@aws-sdk/client-eventbridge'],
  // The sweep: records and claims, the audio, and provider keys to delete voices at the providers.
  retention: [
    '@aws-sdk/client-s3',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/client-secrets-manager',
  ],
  // Signing secrets, and the dead-letter queue.
  webhooks: ['@aws-sdk/client-secrets-manager', '@aws-sdk/client-sqs'],
};
const SDK_ENTRY_PACKAGES = [...new Set(Object.values(SDK_PACKAGES_USED).flat())];

/** What each module substitute keeps out of the bundles: the source files of the module it replaces. */
const REPLACED_SOURCES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': 'node_modules/@aws-sdk/credential-provider-node/',
  '@smithy/core/event-streams': 'node_modules/@smithy/core/dist-es/submodules/event-streams/',
};

/** The files a bundle was built from: the `sources` of the source map shipped beside it. */
function sourcesOf(mapPath: string): string[] {
  return (JSON.parse(readFileSync(mapPath, 'utf8')) as { sources: string[] }).sources;
}

/** The npm packages a bundle was built from. */
function packagesIn(mapPath: string): Set<string> {
  const sources = sourcesOf(mapPath);
  const packages = new Set<string>();
  for (const source of sources) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(source);
    if (match?.[1]) packages.add(match[1]);
  }
  return packages;
}

/**
 * Imports a bundle in a fresh Node process with a Lambda function's environment (nothing is called) and
 * returns the built-in modules Node loaded for it (`process.moduleLoadList`, less what an empty process had).
 */
function builtinsLoadedByImport(bundle: LambdaBundle): string[] {
  const script = [
    'const before = new Set(process.moduleLoadList);',
    `await import(${JSON.stringify(pathToFileURL(bundle.modulePath).href)});`,
    'console.log(JSON.stringify(process.moduleLoadList.filter((name) => !before.has(name))));',
  ].join('\n');
  const output = execFileSync(process.execPath, ['--input-type=module', '--eval', script], {
    encoding: 'utf8',
    env: lambdaEnvironment(bundle),
  });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '[]') as string[];
}

describe('Lambda bundles as cdk synth builds them', () => {
  let found: Record<FunctionName, LambdaBundle>;
  let bundles: Record<FunctionName, string>;

  beforeAll(() => {
    // With a webhook endpoint, as the bench synthesizes: the webhook function exists only for one.
    const { app } = synthesize(withBenchWebhook(cdkJson.context[CONFIG_CONTEXT_KEY]));
    found = findBundles(app.synth().directory);
    bundles = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, readFileSync(found[name].modulePath, 'utf8')]),
    ) as Record<FunctionName, string>;
  });

  it.each(FUNCTION_NAMES)('%s: takes credentials from the environment and from nowhere else', (name) => {
    const bundle = bundles[name];

    expect(bundle).toContain('Unable to find environment variable credentials.');
    const present = Object.entries(OTHER_CREDENTIAL_SOURCES).filter(([marker]) => bundle.includes(marker));
    expect(present.map(([marker, source]) => `${source} (${marker})`)).toEqual([]);
    const packages = packagesIn(found[name].mapPath);
    expect(packages).toContain('@aws-sdk/credential-provider-env');
    expect(packages).not.toContain('@aws-sdk/credential-provider-node');
  });

  it.each(FUNCTION_NAMES)('%s: is built with every module substitute instead of its module', (name) => {
    const sources = sourcesOf(found[name].mapPath);

    expect(Object.keys(REPLACED_SOURCES).sort()).toEqual(Object.keys(BUNDLE_SUBSTITUTES).sort());
    for (const [module, substitute] of Object.entries(BUNDLE_SUBSTITUTES)) {
      expect(
        sources.some((source) => source.endsWith(substitute)),
        `${substitute} in the bundle`,
      ).toBe(true);
      const replaced = sources.filter((source) => source.includes(REPLACED_SOURCES[module] ?? module));
      expect(replaced, `${module} left out`).toEqual([]);
    }
  });

  it.each(FUNCTION_NAMES)('%s: holds the SDK clients its function uses and no other', (name) => {
    const packages = packagesIn(found[name].mapPath);

    expect(SDK_ENTRY_PACKAGES.filter((entry) => packages.has(entry)).sort()).toEqual(
      [...SDK_PACKAGES_USED[name]].sort(),
    );
    // What the SDK must not be replaced by.
    expect(packages).not.toContain('aws4fetch');
  });

  it.each(FUNCTION_NAMES)(
    '%s: holds Lambda code only: nothing from simulators/, scripts/, local/ or test/',
    (name) => {
      const ownSources = sourcesOf(found[name].mapPath).filter((source) => !source.includes('node_modules/'));
      const packages = packagesIn(found[name].mapPath);

      expect(ownSources.some((source) => /(^|\/)functions\/api\/handler\.ts$/.test(source))).toBe(
        name === 'api',
      );
      expect(ownSources.filter((source) => /(^|\/)(simulators|scripts|local|test)\//.test(source))).toEqual(
        [],
      );
      // The simulators' parsers and encoders.
      for (const simulatorPackage of ['busboy', 'music-metadata', '@breezystack/lamejs']) {
        expect(packages).not.toContain(simulatorPackage);
      }
    },
  );

  it.each(FUNCTION_NAMES)('%s: holds zod as zod/mini with English messages only, not classic zod', (name) => {
    // Classic `zod` brings every locale and its JSON Schema code: ~450 KB the webhook bundle once carried.
    const zodSources = sourcesOf(found[name].mapPath).filter((source) =>
      source.includes('node_modules/zod/'),
    );

    expect(
      zodSources.filter((source) => /node_modules\/zod\/(v4\/classic\/|index\.js)/.test(source)),
    ).toEqual([]);
    expect(
      zodSources.filter(
        (source) => source.includes('/locales/') && !/\/locales\/(en|index)\.js$/.test(source),
      ),
    ).toEqual([]);
  });

  it.each(FUNCTION_NAMES)('%s: loads neither node:http nor undici when it is imported', (name) => {
    // node:http's ES module facade reads http.WebSocket & co, which loads Node's undici: ~20 ms of every
    // cold start. The SDK's request handler reaches AWS over node:https, which needs neither.
    const loaded = builtinsLoadedByImport(found[name]);

    expect(loaded).toContain('NativeModule https');
    expect(loaded.filter((module) => /undici|^NativeModule http$/.test(module))).toEqual([]);
  });
});

describe('Lambda sources', () => {
  it('import nothing from simulators/, scripts/, local/ or test/, not even a type', () => {
    const imports = relativeImportsUnder('functions');

    expect(imports.length).toBeGreaterThan(100);
    expect(imports.some(({ to }) => to === 'functions/shared/providers/smallest/wire')).toBe(true);
    expect(imports.filter(({ to }) => /^(simulators|scripts|local|test)\//.test(to))).toEqual([]);
  });
});

describe('Substitute: @aws-sdk/credential-provider-node', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('signs with the access key and session token Lambda puts in the environment', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLELAMBDAKEY');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'example-session-token');
    // The same hook the clients' runtime config fills with the module this substitute replaces.
    const client = new S3Client({ region: 'eu-west-1', credentialDefaultProvider: defaultProvider });

    const url = new URL(
      await getSignedUrl(client, new GetObjectCommand({ Bucket: 'example', Key: 'incoming/a.wav' })),
    );

    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAEXAMPLELAMBDAKEY\//);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('example-session-token');
  });

  it('fails the call, not the cold start, when the environment has no credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    const client = new S3Client({ region: 'eu-west-1', credentialDefaultProvider: defaultProvider });

    await expect(
      getSignedUrl(client, new GetObjectCommand({ Bucket: 'example', Key: 'incoming/a.wav' })),
    ).rejects.toThrow('Unable to find environment variable credentials.');
  });
});

describe('Substitute: @smithy/core/event-streams', () => {
  it('lets a client be built, and refuses an event stream loudly', async () => {
    const { EventStreamSerde, eventStreamSerdeProvider, resolveEventStreamSerdeConfig } = await import(
      '../../lib/bundle-substitutes/smithy-event-streams'
    );
    const config = resolveEventStreamSerdeConfig({ eventStreamSerdeProvider, region: 'eu-west-1' });

    expect(config.region).toBe('eu-west-1');
    expect(() => config.eventStreamMarshaller.deserialize()).toThrow(/Event streams are left out/);
    expect(() => new EventStreamSerde()).toThrow(/Event streams are left out/);
  });

  it('leaves an S3 client built with it working for calls without event streams', async () => {
    // The same hook the S3 client's runtime config fills with the module this substitute replaces.
    const { eventStreamSerdeProvider } = await import('../../lib/bundle-substitutes/smithy-event-streams');
    const client = new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example' },
      eventStreamSerdeProvider,
    });

    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'example', Key: 'incoming/a.wav' }),
    );

    expect(new URL(url).pathname).toBe('/incoming/a.wav');
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
