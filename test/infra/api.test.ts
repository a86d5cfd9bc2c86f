import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VoicedropStack } from '../../lib/voicedrop-stack';
import {
  actionsOf,
  identityStatements,
  logicalId,
  nagFindings,
  resourceById,
  type Statement,
  synthesize,
  type TemplateResource,
} from './support';

/** JSON Schema draft-4 keywords; anything else in a model is ignored by API Gateway's validator. */
const DRAFT_4_KEYWORDS = new Set([
  '$schema',
  'title',
  'description',
  'default',
  'type',
  'enum',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'items',
  'additionalItems',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'properties',
  'additionalProperties',
  'patternProperties',
  'allOf',
  'anyOf',
  'oneOf',
  'not',
]);

/** Keywords of a schema and its subschemas that draft 4 does not have, or spells differently. */
function draft4Problems(schema: Record<string, unknown>, where = '#'): string[] {
  const problems: string[] = [];
  for (const [keyword, value] of Object.entries(schema)) {
    if (!DRAFT_4_KEYWORDS.has(keyword)) problems.push(`${where}: ${keyword}`);
    if ((keyword === 'exclusiveMinimum' || keyword === 'exclusiveMaximum') && typeof value !== 'boolean') {
      problems.push(`${where}: ${keyword} must be boolean in draft 4`);
    }
    if (keyword === 'properties' || keyword === 'patternProperties') {
      for (const [name, subschema] of Object.entries(value as Record<string, Record<string, unknown>>)) {
        problems.push(...draft4Problems(subschema, `${where}/${keyword}/${name}`));
      }
    } else if (
      ['allOf', 'anyOf', 'oneOf'].includes(keyword) ||
      (keyword === 'items' && Array.isArray(value))
    ) {
      (value as Record<string, unknown>[]).forEach((subschema, index) => {
        problems.push(...draft4Problems(subschema, `${where}/${keyword}/${index}`));
      });
    } else if (['items', 'additionalItems', 'additionalProperties', 'not'].includes(keyword)) {
      if (typeof value === 'object' && value !== null) {
        problems.push(...draft4Problems(value as Record<string, unknown>, `${where}/${keyword}`));
      }
    }
  }
  return problems;
}

interface Route {
  readonly route: string;
  readonly method: TemplateResource;
}

/** Every method as `VERB /path`, the path rebuilt from the resource tree. */
function routesOf(template: Template): Route[] {
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

function routeNamed(template: Template, route: string): TemplateResource {
  const found = routesOf(template).find((candidate) => candidate.route === route);
  if (!found) throw new Error(`no route ${route}`);
  return found.method;
}

/** A gateway response body with its variables filled in the way API Gateway fills them. */
function renderGatewayResponse(template: string): unknown {
  return JSON.parse(
    template
      .replaceAll('$context.error.messageString', JSON.stringify('Forbidden'))
      .replaceAll(
        '$context.error.validationErrorString',
        '[object has missing required properties ([\\"text\\"])]',
      ),
  );
}

function gatewayResponse(template: Template, type: string): TemplateResource {
  const found = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).find(
    (resource) => (resource as TemplateResource).Properties.ResponseType === type,
  );
  if (!found) throw new Error(`no gateway response ${type}`);
  return found as TemplateResource;
}

function gatewayResponseBody(template: Template, type: string): unknown {
  const templates = gatewayResponse(template, type).Properties.ResponseTemplates as Record<string, string>;
  return renderGatewayResponse(templates['application/json'] as string);
}

/** The role the account-wide API Gateway setting points at (the one AWS::ApiGateway::Account). */
function cloudWatchRoleId(template: Template): string {
  const accounts = Object.values(template.findResources('AWS::ApiGateway::Account')) as TemplateResource[];
  if (accounts.length !== 1)
    throw new Error(`expected one AWS::ApiGateway::Account, found ${accounts.length}`);
  const arn = accounts[0]?.Properties.CloudWatchRoleArn as { 'Fn::GetAtt': [string, string] };
  return arn['Fn::GetAtt'][0];
}

describe('Stack: Voicedrop API with the cdk.json configuration', () => {
  let stack: VoicedropStack;
  let template: Template;
  let ids: {
    restApi: string;
    stage: string;
    accessLogs: string;
    function: string;
    role: string;
    logGroup: string;
    table: string;
    bucket: string;
    secret: string;
  };

  beforeAll(() => {
    ({ stack, template } = synthesize());
    ids = {
      restApi: logicalId(stack.pipeline.api.restApi),
      stage: logicalId(stack.pipeline.api.restApi.deploymentStage),
      accessLogs: logicalId(stack.pipeline.api.accessLogGroup),
      function: logicalId(stack.pipeline.apiFunction.lambdaFunction),
      role: logicalId(stack.pipeline.apiFunction.role),
      logGroup: logicalId(stack.pipeline.apiFunction.logGroup),
      table: logicalId(stack.pipeline.table),
      bucket: logicalId(stack.pipeline.bucket),
      secret: logicalId(stack.pipeline.secret),
    };
  });

  describe('REST API', () => {
    it('has exactly the five routes of the README, and no OPTIONS (no CORS)', () => {
      expect(
        routesOf(template)
          .map(({ route }) => route)
          .sort(),
      ).toEqual([
        'DELETE /voices/{voiceId}',
        'GET /voices',
        'GET /voices/{voiceId}',
        'POST /uploads',
        'POST /voices/{voiceId}/speech',
      ]);
    });

    it('requires SigV4 (AWS_IAM) on every method', () => {
      for (const { route, method } of routesOf(template)) {
        expect(method.Properties.AuthorizationType, route).toBe('AWS_IAM');
      }
    });

    it('sends every route to the api function through a Lambda proxy integration', () => {
      for (const { route, method } of routesOf(template)) {
        const integration = method.Properties.Integration as { Type: string; Uri: unknown };
        expect(integration.Type, route).toBe('AWS_PROXY');
        expect(JSON.stringify(integration.Uri), route).toContain(
          JSON.stringify({ 'Fn::GetAtt': [ids.function, 'Arn'] }),
        );
      }
    });

    it('lets API Gateway invoke the function from this stage only, without console test invocations', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (resource) => (resource as TemplateResource).Properties.Principal === 'apigateway.amazonaws.com',
      ) as TemplateResource[];

      expect(permissions).toHaveLength(5);
      for (const permission of permissions) {
        expect(permission.Properties.FunctionName).toEqual({ 'Fn::GetAtt': [ids.function, 'Arn'] });
        expect(JSON.stringify(permission.Properties.SourceArn)).toContain(`{"Ref":"${ids.stage}"}`);
      }
    });

    it('is regional and passes audio through as binary while JSON stays text', () => {
      const properties = resourceById(template, ids.restApi).Properties;
      const binary = properties.BinaryMediaTypes as string[];

      expect(properties.Name).toBe('Voicedrop-api');
      expect(properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
      expect(binary).toEqual(expect.arrayContaining(['audio/wav', 'audio/mpeg', 'audio/*']));
      expect(binary.filter((type) => !type.startsWith('audio/'))).toEqual([]);
    });

    it('creates the account-wide CloudWatch role for access logs and always keeps it', () => {
      const accounts = template.findResources('AWS::ApiGateway::Account');

      expect(Object.keys(accounts)).toHaveLength(1);
      expect(resourceById(template, cloudWatchRoleId(template)).DeletionPolicy).toBe('Retain');
      expect((template.toJSON().Resources[ids.stage] as { DependsOn?: string[] }).DependsOn).toEqual(
        Object.keys(accounts),
      );
    });
  });

  describe('stage', () => {
    it('is v1, throttled, with metrics and X-Ray tracing, without data tracing or execution logs', () => {
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'v1',
        TracingEnabled: true,
        RestApiId: { Ref: ids.restApi },
        MethodSettings: [
          {
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 10,
            ThrottlingBurstLimit: 20,
            MetricsEnabled: true,
            DataTraceEnabled: false,
            LoggingLevel: 'OFF',
          },
        ],
      });
    });

    it('writes one JSON access log line per request into its own log group with retention', () => {
      const setting = resourceById(template, ids.stage).Properties.AccessLogSetting as {
        DestinationArn: unknown;
        Format: string;
      };
      const format = JSON.parse(setting.Format) as Record<string, string>;

      expect(JSON.stringify(setting.DestinationArn)).toContain(`{"Ref":"${ids.accessLogs}"}`);
      expect(format).toEqual(
        expect.objectContaining({
          requestId: '$context.requestId',
          ip: '$context.identity.sourceIp',
          caller: '$context.identity.caller',
          user: '$context.identity.user',
          requestTime: '$context.requestTime',
          httpMethod: '$context.httpMethod',
          resourcePath: '$context.resourcePath',
          status: '$context.status',
          protocol: '$context.protocol',
          responseLength: '$context.responseLength',
          integrationLatency: '$context.integrationLatency',
        }),
      );
      expect(resourceById(template, ids.accessLogs).Properties.RetentionInDays).toBe(30);
      expect(resourceById(template, ids.accessLogs).DeletionPolicy).toBe('Retain');
    });

    it('never logs bodies, query strings or validation details, which can carry a caller’s text', () => {
      const format = (resourceById(template, ids.stage).Properties.AccessLogSetting as { Format: string })
        .Format;

      expect(format).not.toMatch(
        /\$input|\$context\.path\b|querystring|validationErrorString|requestOverride/,
      );
    });
  });

  describe('request validation', () => {
    it('validates the POST bodies against the models, whatever Content-Type they claim', () => {
      for (const [route, model] of [
        ['POST /voices/{voiceId}/speech', 'SpeechRequest'],
        ['POST /uploads', 'UploadRequest'],
      ] as const) {
        const properties = routeNamed(template, route).Properties;
        const modelId = Object.entries(template.findResources('AWS::ApiGateway::Model')).find(
          ([, resource]) => (resource as TemplateResource).Properties.Name === model,
        )?.[0];
        const validator = resourceById(template, (properties.RequestValidatorId as { Ref: string }).Ref);

        expect(modelId, model).toBeDefined();
        expect(properties.RequestModels, route).toEqual({
          'application/json': { Ref: modelId },
          $default: { Ref: modelId },
        });
        expect(validator.Properties).toMatchObject({
          ValidateRequestBody: true,
          ValidateRequestParameters: true,
        });
      }
    });

    it('declares the path and query parameters and validates them on every route', () => {
      expect(routeNamed(template, 'GET /voices').Properties.RequestParameters).toEqual({
        'method.request.querystring.status': false,
        'method.request.querystring.provider': false,
        'method.request.querystring.limit': false,
        'method.request.querystring.cursor': false,
      });
      for (const route of [
        'GET /voices/{voiceId}',
        'DELETE /voices/{voiceId}',
        'POST /voices/{voiceId}/speech',
      ]) {
        expect(routeNamed(template, route).Properties.RequestParameters, route).toEqual({
          'method.request.path.voiceId': true,
        });
      }
      for (const { route, method } of routesOf(template)) {
        const validator = resourceById(
          template,
          (method.Properties.RequestValidatorId as { Ref: string }).Ref,
        );
        expect(validator.Properties.ValidateRequestParameters, route).toBe(true);
      }
    });

    it('has JSON Schema draft-4 models only (no const, boolean exclusive bounds, no references)', () => {
      const models = Object.values(template.findResources('AWS::ApiGateway::Model')) as TemplateResource[];

      expect(models.map((model) => model.Properties.Name).sort()).toEqual(['SpeechRequest', 'UploadRequest']);
      for (const model of models) {
        const schema = model.Properties.Schema as Record<string, unknown>;
        expect(model.Properties.ContentType).toBe('application/json');
        expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
        expect(draft4Problems(schema), model.Properties.Name as string).toEqual([]);
        expect(JSON.stringify(schema)).not.toMatch(/"const"|"\$ref"|"\$defs"|"definitions"/);
      }
    });

    it('models the speech request from the handler’s zod schema', () => {
      template.hasResourceProperties('AWS::ApiGateway::Model', {
        Name: 'SpeechRequest',
        Schema: Match.objectLike({
          type: 'object',
          required: ['text'],
          additionalProperties: false,
          properties: Match.objectLike({
            text: { type: 'string' },
            format: Match.objectLike({ enum: ['wav', 'mp3'] }),
            delivery: Match.objectLike({ enum: ['inline', 'url'] }),
          }),
        }),
      });
    });
  });

  describe('gateway responses', () => {
    it('answer every API Gateway error in the handler’s JSON error shape', () => {
      const responses = Object.values(
        template.findResources('AWS::ApiGateway::GatewayResponse'),
      ) as TemplateResource[];

      expect(responses.length).toBeGreaterThanOrEqual(8);
      for (const response of responses) {
        const templates = response.Properties.ResponseTemplates as Record<string, string>;
        expect(Object.keys(templates)).toEqual(['application/json']);
        expect(renderGatewayResponse(templates['application/json'] as string)).toEqual({
          error: { code: expect.any(String), message: expect.any(String), retryable: expect.any(Boolean) },
        });
      }
    });

    it('cover the defaults, so no API Gateway answer falls back to {"message": …}', () => {
      expect(gatewayResponseBody(template, 'DEFAULT_4XX')).toEqual({
        error: { code: 'request_rejected', message: 'Forbidden', retryable: false },
      });
      expect(gatewayResponseBody(template, 'DEFAULT_5XX')).toEqual({
        error: { code: 'internal_error', message: expect.any(String), retryable: true },
      });
    });

    it('say what failed validation', () => {
      for (const type of ['BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS']) {
        expect(gatewayResponseBody(template, type)).toEqual({
          error: {
            code: 'invalid_request',
            message: '[object has missing required properties (["text"])]',
            retryable: false,
          },
        });
      }
    });

    it('answer unsigned, denied and badly signed requests as unauthorized', () => {
      for (const type of [
        'MISSING_AUTHENTICATION_TOKEN',
        'ACCESS_DENIED',
        'INVALID_SIGNATURE',
        'EXPIRED_TOKEN',
      ]) {
        expect(gatewayResponseBody(template, type), type).toEqual({
          error: { code: 'unauthorized', message: expect.any(String), retryable: false },
        });
      }
      expect(gatewayResponse(template, 'MISSING_AUTHENTICATION_TOKEN').Properties.StatusCode).toBeUndefined();
    });

    it('mark stage throttling and integration timeouts as retryable, with Retry-After when throttled', () => {
      expect(gatewayResponseBody(template, 'THROTTLED')).toEqual({
        error: { code: 'throttled', message: expect.any(String), retryable: true },
      });
      expect(gatewayResponse(template, 'THROTTLED').Properties.ResponseParameters).toEqual({
        'gatewayresponse.header.Retry-After': "'1'",
      });
      expect(gatewayResponseBody(template, 'INTEGRATION_TIMEOUT')).toEqual({
        error: { code: 'timeout', message: expect.any(String), retryable: true },
      });
    });
  });

  describe('api function', () => {
    it('runs Node.js 24 on arm64 with 1 GB and a 30 s timeout, next to API Gateway’s 29 s', () => {
      expect(resourceById(template, ids.function).Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 1024,
        Timeout: 30,
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', LogGroup: { Ref: ids.logGroup } },
      });
    });

    it('gets every variable the api handler reads', () => {
      expect(resourceById(template, ids.function).Properties.Environment).toEqual({
        Variables: {
          VOICES_TABLE_NAME: { Ref: ids.table },
          BUCKET_NAME: { Ref: ids.bucket },
          PROVIDER_KEYS_SECRET_ARN: { Ref: ids.secret },
          DEFAULT_PROVIDER: 'smallest',
          SMALLEST_API_BASE_URL: 'https://api.smallest.ai',
          TYPECAST_API_BASE_URL: 'https://api.typecast.ai',
          SMALLEST_DEFAULT_MODEL: 'lightning-v3.1',
          TYPECAST_DEFAULT_MODEL: 'ssfm-v30',
          SMALLEST_CLONE_CONCURRENCY: '1',
          TYPECAST_CLONE_CONCURRENCY: '2',
          SMALLEST_SPEECH_CONCURRENCY: '1',
          TYPECAST_SPEECH_CONCURRENCY: '2',
          TRIM_DEFAULT: 'off',
          PROVIDER_TIMEOUT_MS: '25000',
          SPEECH_URL_TTL_SECONDS: '900',
          UPLOAD_URL_TTL_SECONDS: '900',
          POWERTOOLS_SERVICE_NAME: 'voicedrop-api',
          POWERTOOLS_METRICS_NAMESPACE: 'Voicedrop',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      });
    });
  });

  describe('api permissions', () => {
    function apiStatements(): Statement[] {
      return identityStatements(template)
        .filter(({ roles }) => roles.includes(ids.role))
        .map(({ statement }) => statement);
    }

    it('gives the api role exactly the actions it needs, on exactly its resources', () => {
      const bucketArn = { 'Fn::GetAtt': [ids.bucket, 'Arn'] };
      const granted = apiStatements().map((statement) => ({
        effect: statement.Effect,
        actions: [...actionsOf(statement)].sort(),
        resource: statement.Resource,
        condition: (statement as Statement & { Condition?: unknown }).Condition,
      }));

      expect(granted).toEqual(
        expect.arrayContaining([
          {
            effect: 'Allow',
            actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            resource: { 'Fn::GetAtt': [ids.logGroup, 'Arn'] },
            condition: undefined,
          },
          {
            effect: 'Allow',
            actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
            resource: '*',
            condition: undefined,
          },
          {
            effect: 'Allow',
            actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
            resource: { 'Fn::GetAtt': [ids.table, 'Arn'] },
            condition: undefined,
          },
          {
            effect: 'Allow',
            actions: ['dynamodb:Query'],
            resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, '/index/byCreatedAt']] },
            condition: undefined,
          },
          {
            effect: 'Allow',
            actions: ['s3:GetObject', 's3:PutObject'],
            resource: { 'Fn::Join': ['', [bucketArn, '/speech/*']] },
            condition: undefined,
          },
          {
            effect: 'Allow',
            actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject'],
            resource: { 'Fn::Join': ['', [bucketArn, '/incoming/*']] },
            condition: undefined,
          },
          {
            effect: 'Allow',
            actions: ['s3:ListBucket', 's3:ListBucketVersions'],
            resource: bucketArn,
            condition: { StringLike: { 's3:prefix': 'incoming/*' } },
          },
          {
            effect: 'Allow',
            actions: ['secretsmanager:GetSecretValue'],
            resource: { Ref: ids.secret },
            condition: undefined,
          },
        ]),
      );
      expect(granted.flatMap(({ actions }) => actions).sort()).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteObject',
        's3:DeleteObjectVersion',
        's3:GetObject',
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:PutObject',
        's3:PutObject',
        'secretsmanager:GetSecretValue',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    });

    it('never lists the bucket without the incoming/ prefix condition', () => {
      const listing = apiStatements().filter((statement) =>
        actionsOf(statement).some((action) => action.startsWith('s3:List')),
      );

      expect(listing).toHaveLength(1);
      expect(listing[0]).toMatchObject({ Condition: { StringLike: { 's3:prefix': 'incoming/*' } } });
    });

    it('has no wildcard action and no managed policy', () => {
      expect(
        apiStatements().flatMap((statement) => actionsOf(statement).filter((a) => a.includes('*'))),
      ).toEqual([]);
      expect(resourceById(template, ids.role).Properties.ManagedPolicyArns).toBeUndefined();
    });
  });

  it('expires synthesized speech (and its old versions) after a day', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'expire-synthesized-speech',
            Status: 'Enabled',
            Prefix: 'speech/',
            ExpirationInDays: 1,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          },
        ]),
      },
    });
  });

  it('outputs the stage URL and the function name', () => {
    const url = JSON.stringify(template.findOutputs('ApiUrl').ApiUrl?.Value);

    expect(url).toContain(`{"Ref":"${ids.restApi}"}`);
    expect(url).toContain(`{"Ref":"${ids.stage}"}`);
    template.hasOutput('ApiFunctionName', { Value: { Ref: ids.function } });
  });

  it('warns about nothing', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('Stack: Voicedrop API with authorization "none" and overrides', () => {
  let stack: VoicedropStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthesize({
      api: { authorization: 'none', stageName: 'test', throttle: { rateLimit: 2, burstLimit: 4 } },
      speechUrlTtlSeconds: 120,
      uploadUrlTtlSeconds: 300,
      providerTimeoutMs: 10_000,
      logRetentionDays: 7,
      removalPolicy: 'destroy',
    }));
  });

  it('opens every method, and says so at synth', () => {
    for (const { route, method } of routesOf(template)) {
      expect(method.Properties.AuthorizationType, route).toBe('NONE');
    }
    Annotations.fromStack(stack).hasWarning(
      '/Voicedrop/Pipeline/Api',
      Match.stringLikeRegexp('authorization is "none".*test deployments only'),
    );
  });

  it('is flagged by cdk-nag on every route, with nothing acknowledged for it', () => {
    const routes = routesOf(template).length;
    const findings = nagFindings(stack).map(
      ({ rule, path }) => `${rule} ${path.replace(/^.*\/Default\//, '')}`,
    );

    expect(routes).toBe(5);
    expect(findings.filter((finding) => finding.startsWith('AwsSolutions-APIG4 '))).toHaveLength(routes);
    expect(findings.filter((finding) => finding.startsWith('AwsSolutions-COG4 '))).toHaveLength(routes);
    expect(findings).toHaveLength(2 * routes);
  });

  it('answers an unknown route 404 instead of asking for a signature', () => {
    expect(gatewayResponseBody(template, 'MISSING_AUTHENTICATION_TOKEN')).toEqual({
      error: { code: 'not_found', message: 'No such route.', retryable: false },
    });
    expect(gatewayResponse(template, 'MISSING_AUTHENTICATION_TOKEN').Properties.StatusCode).toBe('404');
  });

  it('takes the stage name and throttling from the configuration', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'test',
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 2, ThrottlingBurstLimit: 4 })],
    });
  });

  it('passes the URL lifetimes and a provider timeout below the cap to the function', () => {
    expect(
      resourceById(template, logicalId(stack.pipeline.apiFunction.lambdaFunction)).Properties,
    ).toMatchObject({
      Environment: {
        Variables: {
          SPEECH_URL_TTL_SECONDS: '120',
          UPLOAD_URL_TTL_SECONDS: '300',
          PROVIDER_TIMEOUT_MS: '10000',
        },
      },
    });
  });

  it('deletes the access logs with the stack but keeps the account-wide CloudWatch role', () => {
    const accessLogs = resourceById(template, logicalId(stack.pipeline.api.accessLogGroup));

    expect(accessLogs.DeletionPolicy).toBe('Delete');
    expect(accessLogs.Properties.RetentionInDays).toBe(7);
    expect(resourceById(template, cloudWatchRoleId(template)).DeletionPolicy).toBe('Retain');
  });

  it('describes the URL output as unauthenticated', () => {
    template.hasOutput('ApiUrl', { Description: Match.stringLikeRegexp('NO authorization') });
  });
});
