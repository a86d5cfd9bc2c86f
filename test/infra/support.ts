import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Construct } from 'constructs';
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
  const app = new App({ context });
  const stack = new VoicedropStack(app, 'Voicedrop', { config: readConfig(app) });
  return { app, stack, template: Template.fromStack(stack) };
}

export function logicalId(construct: Construct): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).getLogicalId(child as never);
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

export function resourceById(template: Template, id: string): TemplateResource {
  const resource = template.toJSON().Resources[id] as TemplateResource | undefined;
  if (!resource) throw new Error(`no resource ${id} in the template`);
  return resource;
}
