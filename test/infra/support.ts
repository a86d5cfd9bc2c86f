import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { Construct, IConstruct } from 'constructs';
import { beforeAll, expect } from 'vitest';
import { readConfig } from '../../lib/config';
import { VoicedropStack } from '../../lib/voicedrop-stack';

// The feature flags in cdk.json change what constructs render, so tests synthesize with them, as `cdk synth` does.
export const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  readonly context: Readonly<Record<string, unknown>>;
};

export interface Synthesized {
  readonly app: App;
  readonly stack: VoicedropStack;
  readonly template: Template;
}

export function synthesize(voicedrop?: unknown): Synthesized {
  const context = voicedrop === undefined ? cdkJson.context : { ...cdkJson.context, voicedrop };
  // CDK's built-in CloudFormation validation takes over a second per synth and reports by printing, not by
  // throwing, so tests could not assert on it anyway; `npm run synth` runs it.
  const app = new App({ context, builtinCloudFormationValidation: false });
  const stack = new VoicedropStack(app, 'Voicedrop', { config: readConfig(app) });
  return { app, stack, template: Template.fromStack(stack) };
}

export function logicalId(construct: Construct): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).getLogicalId(child as never);
}

/** The logical ids of the pipeline's storage, queues and clone function, as the stack tests name them. */
export interface StackIds {
  readonly bucket: string;
  readonly accessLogs: string;
  readonly queue: string;
  readonly deadLetterQueue: string;
  readonly table: string;
  readonly secret: string;
  readonly function: string;
  readonly logGroup: string;
  readonly role: string;
}

export function stackIds(stack: VoicedropStack): StackIds {
  return {
    bucket: logicalId(stack.pipeline.bucket),
    accessLogs: logicalId(stack.pipeline.accessLogsBucket),
    queue: logicalId(stack.pipeline.cloneQueue),
    deadLetterQueue: logicalId(stack.pipeline.deadLetterQueue),
    table: logicalId(stack.pipeline.table),
    secret: logicalId(stack.pipeline.secret),
    function: logicalId(stack.pipeline.cloneFunction.lambdaFunction),
    logGroup: logicalId(stack.pipeline.cloneFunction.logGroup),
    role: logicalId(stack.pipeline.cloneFunction.role),
  };
}

export interface DefaultStack extends Synthesized {
  readonly ids: StackIds;
}

/**
 * What `make` returns, made once before the tests of the calling describe block (a synth takes seconds).
 * Read its fields inside tests only: they are filled in by beforeAll.
 */
export function synthesizedOnce<T extends object>(make: () => T): T {
  let made: T | undefined;
  beforeAll(() => {
    made = make();
  });
  return new Proxy({} as T, {
    get(_, field) {
      if (!made) throw new Error('read the synthesized stack inside a test, after beforeAll');
      return Reflect.get(made, field);
    },
  });
}

/** The stack of the cdk.json configuration and its logical ids, synthesized once for the calling describe block. */
export function useDefaultStack(): DefaultStack {
  return synthesizedOnce(() => {
    const { app, stack, template } = synthesize();
    return { app, stack, template, ids: stackIds(stack) };
  });
}

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: unknown;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

export function actionsOf(statement: Statement): readonly string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

/** Every statement of every identity policy (policies and roles' inline policies), with the roles it applies to. */
export function identityStatements(
  template: Template,
): { readonly roles: readonly string[]; readonly statement: Statement }[] {
  const found: { roles: readonly string[]; statement: Statement }[] = [];
  const add = (roles: readonly string[], document: unknown) => {
    for (const statement of (document as { Statement: Statement[] }).Statement)
      found.push({ roles, statement });
  };
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const properties = (policy as TemplateResource).Properties;
    const roles = ((properties.Roles as { Ref?: string }[] | undefined) ?? []).map((role) => role.Ref ?? '?');
    add(roles, properties.PolicyDocument);
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const inline = (role as TemplateResource).Properties.Policies as
      | { PolicyDocument: unknown }[]
      | undefined;
    for (const policy of inline ?? []) add([id], policy.PolicyDocument);
  }
  return found;
}

/** A statement as the permission tests write it: its actions sorted, `condition` undefined when it has none. */
export interface Grant {
  readonly effect: Statement['Effect'];
  readonly actions: readonly string[];
  readonly resource: unknown;
  readonly condition?: unknown;
}

/** What the identity policies let one role do, a grant per statement. */
export function grantsTo(template: Template, roleId: string): Grant[] {
  return identityStatements(template)
    .filter(({ roles }) => roles.includes(roleId))
    .map(({ statement }) => ({
      effect: statement.Effect,
      actions: [...actionsOf(statement)].sort(),
      resource: statement.Resource,
      condition: (statement as Statement & { Condition?: unknown }).Condition,
    }));
}

/** Asserts that `actual` holds every one of `expected` (no two of them alike) and nothing else, in any order. */
export function expectExactly<T>(actual: readonly T[], expected: readonly T[]): void {
  expect(actual).toEqual(expect.arrayContaining([...expected] as unknown[]));
  expect(actual).toHaveLength(expected.length);
}

export function resourceById(template: Template, id: string): TemplateResource {
  const resource = template.toJSON().Resources[id] as TemplateResource | undefined;
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource;
}

/** Every statement of every resource policy (bucket, queue, topic and key policies) and what it guards. */
export function resourcePolicyStatements(template: Template): {
  readonly type: string;
  readonly guarded: string;
  readonly statement: Statement & { Principal?: unknown };
}[] {
  const documents: Record<string, { document: string; guarded?: string }> = {
    'AWS::S3::BucketPolicy': { document: 'PolicyDocument', guarded: 'Bucket' },
    'AWS::SQS::QueuePolicy': { document: 'PolicyDocument', guarded: 'Queues' },
    'AWS::SNS::TopicPolicy': { document: 'PolicyDocument', guarded: 'Topics' },
    'AWS::KMS::Key': { document: 'KeyPolicy' },
  };
  const found: { type: string; guarded: string; statement: Statement & { Principal?: unknown } }[] = [];
  for (const [id, resource] of Object.entries(
    template.toJSON().Resources as Record<string, TemplateResource>,
  )) {
    const where = documents[resource.Type];
    if (!where) continue;
    const guarded = where.guarded
      ? JSON.stringify(resource.Properties[where.guarded]).match(/"Ref":"(\w+)"/)?.[1]
      : id;
    for (const statement of (resource.Properties[where.document] as { Statement: Statement[] }).Statement) {
      found.push({ type: resource.Type, guarded: guarded ?? '?', statement });
    }
  }
  return found;
}

/** `type guarded: action to principal` for every Allow of a wildcard action in a resource policy. */
export function wildcardResourcePolicyGrants(template: Template): string[] {
  const principalOf = (principal: unknown): string => {
    const text = JSON.stringify(principal);
    if (/":root"/.test(text)) return 'account root';
    return text.match(/"Fn::GetAtt":\["(\w+)"/)?.[1] ?? text.match(/"Service":"([^"]+)"/)?.[1] ?? text;
  };
  return resourcePolicyStatements(template)
    .filter(({ statement }) => statement.Effect === 'Allow')
    .flatMap(({ type, guarded, statement }) =>
      actionsOf(statement)
        .filter((action) => action.includes('*'))
        .map((action) => `${type} ${guarded}: ${action} to ${principalOf(statement.Principal)}`),
    );
}

/** `role: policy name` for every AWS managed policy attached to a role of the template. */
export function rolesWithManagedPolicies(template: Template): string[] {
  return Object.entries(template.findResources('AWS::IAM::Role')).flatMap(([id, role]) =>
    (((role as TemplateResource).Properties.ManagedPolicyArns as unknown[] | undefined) ?? []).map(
      (arn) =>
        `${id}: ${JSON.stringify(arn).match(/policy\/(?:service-role\/)?([\w-]+)/)?.[1] ?? JSON.stringify(arn)}`,
    ),
  );
}

/** Logical ids of the resources CloudFormation keeps when the stack is deleted, sorted. */
export function retainedResources(template: Template): string[] {
  return Object.entries(template.toJSON().Resources as Record<string, TemplateResource>)
    .filter(([, resource]) => resource.DeletionPolicy === 'Retain')
    .map(([id]) => id)
    .sort();
}

/** The function resource of one of CDK's framework singletons, by the start of its logical id. */
export function frameworkFunctionId(template: Template, prefix: string): string {
  const id = Object.keys(template.findResources('AWS::Lambda::Function')).find((candidate) =>
    candidate.startsWith(prefix),
  );
  if (!id) throw new Error(`no function ${prefix}… in the template`);
  return id;
}

/** The log group the pipeline gives one of CDK's framework singletons, by the start of its logical id. */
export function frameworkLogGroupId(template: Template, prefix: string): string {
  const id = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((candidate) =>
    candidate.startsWith(prefix),
  );
  if (!id) throw new Error(`no log group ${prefix}… in the template`);
  return id;
}

/** Functions whose LoggingConfig does not name a log group of this template (Lambda would create one). */
export function functionsWithoutOwnLogGroup(template: Template): string[] {
  const logGroups = new Set(Object.keys(template.findResources('AWS::Logs::LogGroup')));
  return Object.entries(template.findResources('AWS::Lambda::Function'))
    .filter(([, resource]) => {
      const logging = (resource as TemplateResource).Properties.LoggingConfig as
        | { LogGroup?: { Ref?: string } }
        | undefined;
      return !logGroups.has(logging?.LogGroup?.Ref ?? '');
    })
    .map(([id]) => id);
}

export interface NagFinding {
  readonly severity: string;
  /** The full finding id, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  /** The construct path of the CloudFormation resource, e.g. `Voicedrop/Pipeline/Uploads/Resource`. */
  readonly path: string;
  /** What the rule found and why it matters (verbose), so a failing test says what to fix. */
  readonly description: string;
}

/**
 * Runs the AwsSolutions and Serverless packs over a synthesized stack, the way cdk-nag 3's tests run them
 * (`validateScope`), and lists every finding that no acknowledgement covers, warnings included. With
 * `ignoreAcknowledgements` it lists every finding the packs raise, acknowledged or not.
 */
export function nagFindings(
  scope: IConstruct,
  options: { ignoreAcknowledgements?: boolean } = {},
): NagFinding[] {
  const packs = [
    new AwsSolutionsChecks(undefined, { verbose: true }),
    new ServerlessChecks(undefined, { verbose: true }),
  ];
  return packs.flatMap((pack) => {
    if (options.ignoreAcknowledgements) {
      // cdk-nag has no public switch for this; the test of stale acknowledgements needs the raw findings.
      const internals = pack as unknown as { isAcknowledged?: unknown };
      if (typeof internals.isAcknowledged !== 'function') {
        throw new Error('cdk-nag no longer checks acknowledgements in isAcknowledged; update this helper');
      }
      internals.isAcknowledged = () => false;
    }
    return pack.validateScope(scope).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({
        severity: violation.severity ?? 'error',
        rule: violation.ruleName,
        path: resource.constructPath ?? '?',
        description: violation.description,
      })),
    );
  });
}

export interface RecordedAcknowledgement {
  /** The construct the acknowledgement sits on. */
  readonly path: string;
  readonly rule: string;
  readonly reason: string;
}

/** Every acknowledgement recorded with `Validations.of(…).acknowledge` in the tree below `scope`. */
export function acknowledgementsIn(scope: IConstruct): RecordedAcknowledgement[] {
  const found: RecordedAcknowledgement[] = [];
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, rule: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

/**
 * What `read` reports when it refuses settings: the `problems` of the error of class `refusal` it throws
 * (parseConfig's and resolvePipelineProps' report every problem at once). Fails when `read` accepts them.
 */
export function problemsReported(
  read: () => unknown,
  refusal: abstract new (...args: never[]) => { readonly problems: readonly string[] },
): readonly string[] {
  try {
    read();
  } catch (error) {
    if (error instanceof refusal) return error.problems;
    throw error;
  }
  throw new Error('expected the settings to be refused');
}
