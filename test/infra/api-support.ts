/** Helpers the API stack tests share: routes, gateway responses, the CloudWatch role, logical ids. */
import type { Template } from 'aws-cdk-lib/assertions';
import type { VoicedropStack } from '../../lib/voicedrop-stack';
import { logicalId, synthesize, synthesizedOnce, type TemplateResource } from './support';

export interface Route {
  readonly route: string;
  readonly method: TemplateResource;
}

/** Every method as `VERB /path`, the path rebuilt from the resource tree. */
export function routesOf(template: Template): Route[] {
  const resources = template.toJSON().Resources as Record<string, TemplateResource>;
  const pathOf = (resource: unknown): string => {
    const id = (resource as { Ref?: string }).Ref;
    if (!id) return '';
    const properties = (resources[id] as TemplateResource).Properties;
    return `${pathOf(properties.ParentId)}/${properties.PathPart as string}`;
  };
  return Object.values(template.findResources('AWS::ApiGateway::Method')).map((resource) => {
    const method = resource as TemplateResource;
    return {
      route: `${method.Properties.HttpMethod as string} ${pathOf(method.Properties.ResourceId) || '/'}`,
      method,
    };
  });
}

export function routeNamed(template: Template, route: string): TemplateResource {
  const found = routesOf(template).find((candidate) => candidate.route === route);
  if (!found) throw new Error(`no route ${route}`);
  return found.method;
}

/** A gateway response body with its variables filled in the way API Gateway fills them. */
export function renderGatewayResponse(template: string): unknown {
  return JSON.parse(
    template
      .replaceAll('$context.error.messageString', JSON.stringify('Forbidden'))
      .replaceAll(
        '$context.error.validationErrorString',
        '[object has missing required properties ([\\"text\\"])]',
      ),
  );
}

export function gatewayResponse(template: Template, type: string): TemplateResource {
  const found = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).find(
    (resource) => (resource as TemplateResource).Properties.ResponseType === type,
  );
  if (!found) throw new Error(`no gateway response ${type}`);
  return found as TemplateResource;
}

export function gatewayResponseBody(template: Template, type: string): unknown {
  const templates = gatewayResponse(template, type).Properties.ResponseTemplates as Record<string, string>;
  return renderGatewayResponse(templates['application/json'] as string);
}

/** The role the account-wide API Gateway setting points at (the one AWS::ApiGateway::Account). */
export function cloudWatchRoleId(template: Template): string {
  const accounts = Object.values(template.findResources('AWS::ApiGateway::Account')) as TemplateResource[];
  if (accounts.length !== 1)
    throw new Error(`expected one AWS::ApiGateway::Account, found ${accounts.length}`);
  const arn = accounts[0]?.Properties.CloudWatchRoleArn as { 'Fn::GetAtt': [string, string] };
  return arn['Fn::GetAtt'][0];
}

/** The logical ids of the API, its function and what the function reaches. */
export interface ApiIds {
  readonly restApi: string;
  readonly stage: string;
  readonly accessLogs: string;
  readonly function: string;
  readonly role: string;
  readonly logGroup: string;
  readonly speechFunction: string;
  readonly speechRole: string;
  readonly speechLogGroup: string;
  readonly table: string;
  readonly bucket: string;
  readonly secret: string;
}

export function apiIds(stack: VoicedropStack): ApiIds {
  return {
    restApi: logicalId(stack.pipeline.api.restApi),
    stage: logicalId(stack.pipeline.api.restApi.deploymentStage),
    accessLogs: logicalId(stack.pipeline.api.accessLogGroup),
    function: logicalId(stack.pipeline.apiFunction.lambdaFunction),
    role: logicalId(stack.pipeline.apiFunction.role),
    logGroup: logicalId(stack.pipeline.apiFunction.logGroup),
    speechFunction: logicalId(stack.pipeline.speechFunction.lambdaFunction),
    speechRole: logicalId(stack.pipeline.speechFunction.role),
    speechLogGroup: logicalId(stack.pipeline.speechFunction.logGroup),
    table: logicalId(stack.pipeline.table),
    bucket: logicalId(stack.pipeline.bucket),
    secret: logicalId(stack.pipeline.secret),
  };
}

/** The default stack's template and the API's logical ids, synthesized once for the calling describe block. */
export function useDefaultApiStack(): { readonly template: Template; readonly ids: ApiIds } {
  return synthesizedOnce(() => {
    const { stack, template } = synthesize();
    return { template, ids: apiIds(stack) };
  });
}
