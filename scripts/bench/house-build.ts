/**
 * The handlers rebuilt with the esbuild options HouseFunction gives NodejsFunction: with the module
 * substitutes (as CDK builds them), or without them as the plain SDK build the bundles are compared with.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { BUNDLE_INJECTS, BUNDLE_SUBSTITUTES, ESM_REQUIRE_BANNER } from '../../lib/house-function';
import type { LambdaBundle } from './bundles';
import type { FunctionName } from './report';

/** The handler entries, for the metafile build. */
export const ENTRIES: Readonly<Record<FunctionName, string>> = {
  clone: 'functions/clone/handler.ts',
  api: 'functions/api/handler.ts',
  events: 'functions/events/handler.ts',
  retention: 'functions/retention/handler.ts',
  webhooks: 'functions/webhooks/handler.ts',
};

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
