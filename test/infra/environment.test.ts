import { describe, expect, it } from 'vitest';
import { ENV, PROVIDER_ENV } from '../../functions/shared/contract';
import { QUALITY_THRESHOLD_NAMES } from '../../functions/shared/validation/quality-rules';
import { cdkJson, synthesize, synthesizedOnce } from './support';

// Every Lambda variable the stack sets is named in ENV (functions/shared/contract.ts), where the functions and
// local mode read it from too, so a name written in one place only fails here. POWERTOOLS_* and AWS_* names
// belong to Powertools and the Lambda runtime.
const FOREIGN_PREFIXES = ['POWERTOOLS_', 'AWS_'] as const;
const ENV_NAMES: ReadonlySet<string> = new Set(Object.values(ENV));

const base = cdkJson.context.voicedrop as Record<string, unknown>;
// With webhooks, so that the webhooks function (absent by default) is synthesized too.
const withWebhooks = {
  ...base,
  webhooks: [{ url: 'https://hooks.example.com/voicedrop' }],
};

interface LambdaResource {
  readonly Properties: { readonly Environment?: { readonly Variables?: Record<string, unknown> } };
}

/** Each Lambda function's logical id and the names of the variables set on it. */
function lambdaVariables(voicedrop: unknown): Record<string, readonly string[]> {
  const functions = synthesize(voicedrop).template.findResources('AWS::Lambda::Function') as Record<
    string,
    LambdaResource
  >;
  return Object.fromEntries(
    Object.entries(functions).map(([id, resource]) => [
      id,
      Object.keys(resource.Properties.Environment?.Variables ?? {}),
    ]),
  );
}

/** The variables not named in ENV and not another tool's, as `<logical id>: <name>`. */
function unnamed(variables: Record<string, readonly string[]>): string[] {
  return Object.entries(variables).flatMap(([id, names]) =>
    names
      .filter((name) => !ENV_NAMES.has(name) && !FOREIGN_PREFIXES.some((prefix) => name.startsWith(prefix)))
      .map((name) => `${id}: ${name}`),
  );
}

describe('Lambda environment variable names', () => {
  const synthesized = synthesizedOnce(() => ({ variables: lambdaVariables(withWebhooks) }));

  it('names each variable once: the values of ENV are distinct', () => {
    expect(ENV_NAMES.size).toBe(Object.values(ENV).length);
  });

  it('takes the quality thresholds and the per-provider names from ENV', () => {
    for (const { env } of Object.values(QUALITY_THRESHOLD_NAMES)) expect(ENV_NAMES).toContain(env);
    for (const names of Object.values(PROVIDER_ENV)) {
      for (const name of Object.values(names)) expect(ENV_NAMES).toContain(name);
    }
  });

  it('sets on every Lambda only variables named in ENV (or POWERTOOLS_*, AWS_*)', () => {
    const variables = synthesized.variables;
    const ours = Object.values(variables).filter((names) => names.length > 0);
    // The pipeline's functions: clone, api, speech, retention, events, webhooks.
    expect(ours.length).toBeGreaterThanOrEqual(6);
    expect(ours.flat()).toEqual(expect.arrayContaining([ENV.voicesTableName, ENV.webhookEndpoints]));
    expect(unnamed(variables)).toEqual([]);
  });

  it('fails a variable named in one place only', () => {
    expect(unnamed({ Fn: [ENV.bucketName, 'POWERTOOLS_LOG_LEVEL', 'BUCKET_NAMES'] })).toEqual([
      'Fn: BUCKET_NAMES',
    ]);
  });
});
