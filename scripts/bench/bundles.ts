/**
 * The Lambda bundles as `cdk synth` builds them: synthesizing the stack, finding each function's bundle in
 * the output, and the environment a cold Lambda process gives it. How large they are and what their bytes
 * are made of: house-build.ts and bundle-contents.ts; how long they take to import: import-times.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ENV, SERVICE_NAMES } from '../../functions/shared/contract';
import { CONFIG_CONTEXT_KEY } from '../../lib/config';
import { FUNCTION_NAMES, type FunctionName } from './report';
import { runNode } from './spawn';

export interface LambdaBundle {
  readonly name: FunctionName;
  readonly directory: string;
  readonly modulePath: string;
  readonly mapPath: string;
  readonly memorySize: number;
  /** The function's variables: literal values from the template, dummies for references. */
  readonly variables: Readonly<Record<string, string>>;
}

/**
 * The endpoint the bench configures when cdk.json has none: the webhook function exists only for
 * configured endpoints, and is measured like the others. Never called (nothing is invoked at import).
 */
export const BENCH_WEBHOOK = { url: 'https://webhooks.example.com/voicedrop' } as const;

/**
 * The `voicedrop` context the bench synthesizes with: cdk.json's, plus BENCH_WEBHOOK when it configures no
 * webhook. Passed as `-c voicedrop=<json>`, which replaces cdk.json's object as a whole (lib/config.ts,
 * parseConfig), so every other setting is carried over.
 */
export function withBenchWebhook(voicedrop: unknown): Record<string, unknown> {
  const settings = typeof voicedrop === 'object' && voicedrop !== null ? { ...voicedrop } : {};
  const webhooks = (settings as { webhooks?: unknown }).webhooks;
  return Array.isArray(webhooks) && webhooks.length > 0
    ? settings
    : { ...settings, webhooks: [BENCH_WEBHOOK] };
}

/** cdk.json's `voicedrop` context with BENCH_WEBHOOK, as JSON for `-c voicedrop=<json>`. */
export function benchConfigContext(root: string): string {
  const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return JSON.stringify(withBenchWebhook(cdkJson.context?.[CONFIG_CONTEXT_KEY]));
}

/**
 * Runs `cdk synth --quiet -o <outDir>` with the project's CDK CLI under this Node, with cdk.json's
 * configuration plus a webhook endpoint (benchConfigContext) so that every function is synthesized.
 */
export async function synthesize(root: string, outDir: string): Promise<void> {
  const cdk = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  // cdk.json runs the app through `npx tsx`: keep this Node first on PATH so the app runs on it too.
  const path = [dirname(process.execPath), join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(
    delimiter,
  );
  const context = `${CONFIG_CONTEXT_KEY}=${benchConfigContext(root)}`;
  await runNode([cdk, 'synth', '--quiet', '--no-notices', '-c', context, '-o', outDir], {
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
  [ENV.voicesTableName]: 'voicedrop-bench-voices',
  [ENV.bucketName]: 'voicedrop-bench-bucket',
  [ENV.providerKeysSecretArn]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:voicedrop-bench-AbCdEf',
};

/**
 * A template variable's value with dummies for what other resources fill in: literal strings as they are,
 * `Fn::Join` joined with dummies for its references (so that a JSON value, such as WEBHOOK_ENDPOINTS with
 * its secrets' ARNs, stays JSON), any other reference a dummy.
 */
export function variableValue(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: unknown } | null)?.['Fn::Join'];
  if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1])) {
    return join[1].map((part: unknown) => variableValue(key, part)).join(join[0]);
  }
  return DUMMY_VALUES[key] ?? `voicedrop-bench-${key.toLowerCase()}`;
}

/**
 * Finds each function's asset in a synth output directory: AWS::Lambda::Function with Code.S3Key
 * `<hash>.zip` → `asset.<hash>/index.mjs`, told apart by POWERTOOLS_SERVICE_NAME (the speech function runs the
 * api bundle, so it is measured as the api).
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
      const name = FUNCTION_NAMES.find(
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
          Object.entries(variables).map(([key, value]) => [key, variableValue(key, value)]),
        ),
      };
    }
  }
  const missing = FUNCTION_NAMES.filter((name) => !found[name]);
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
