import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../functions/shared/contract';
import type { VoicedropStack } from '../../lib/voicedrop-stack';
import { matchRoute } from '../../local/api-gateway/routes';
import { buildOpenApiDocument } from '../../scripts/openapi/document';
import {
  type ApiIds,
  apiIds,
  cloudWatchRoleId,
  gatewayResponse,
  gatewayResponseBody,
  routeNamed,
  routesOf,
} from './api-support';
import { logicalId, nagFindings, resourceById, synthesize, type TemplateResource } from './support';

// The REST API's routes, stage and outputs; the variant with authorization "none".
describe('Stack: Voicedrop API with the cdk.json configuration', () => {
  let stack: VoicedropStack;
  let template: Template;
  let ids: ApiIds;

  beforeAll(() => {
    ({ stack, template } = synthesize());
    ids = apiIds(stack);
  });

  describe('REST API', () => {
    it('has exactly the eight routes of the README, and no OPTIONS (no CORS)', () => {
      expect(
        routesOf(template)
          .map(({ route }) => route)
          .sort(),
      ).toEqual([
        'DELETE /consents/{consentId}',
        'DELETE /voices/{voiceId}',
        'GET /consents/{consentId}',
        'GET /voices',
        'GET /voices/{voiceId}',
        'POST /consents',
        'POST /uploads',
        'POST /voices/{voiceId}/speech',
      ]);
    });

    it('has the routes of API_ROUTES, which local mode serves and the OpenAPI document describes', () => {
      const routes = API_ROUTES.map((route) => `${route.method} ${route.resource}`).sort();
      expect(
        routesOf(template)
          .map(({ route }) => route)
          .sort(),
      ).toEqual(routes);
      for (const route of API_ROUTES) {
        const matched = matchRoute(route.resource.replaceAll(/\{[^}]+\}/g, 'x_1'));
        expect(matched?.route.resource, route.resource).toBe(route.resource);
        expect(matched?.route.methods, route.resource).toContain(route.method);
      }
      const paths = (buildOpenApiDocument() as { paths: Record<string, Record<string, unknown>> }).paths;
      expect(
        Object.entries(paths)
          .flatMap(([path, item]) =>
            Object.keys(item)
              .filter((key) => key !== 'parameters')
              .map((method) => `${method.toUpperCase()} ${path}`),
          )
          .sort(),
      ).toEqual(routes);
    });

    it('streams exactly the routes API_ROUTES marks streamed, through the speech function', () => {
      for (const route of API_ROUTES) {
        const integration = routeNamed(template, `${route.method} ${route.resource}`).Properties
          .Integration as { ResponseTransferMode?: string };
        expect(integration.ResponseTransferMode === 'STREAM', route.resource).toBe(route.streamed === true);
      }
    });

    it('requires SigV4 (AWS_IAM) on every method', () => {
      for (const { route, method } of routesOf(template)) {
        expect(method.Properties.AuthorizationType, route).toBe('AWS_IAM');
      }
    });

    it('sends every route to the api function through a Lambda proxy integration, and speech streamed to the speech function', () => {
      for (const { route, method } of routesOf(template)) {
        const integration = method.Properties.Integration as {
          Type: string;
          Uri: unknown;
          ResponseTransferMode?: string;
          TimeoutInMillis?: number;
        };
        expect(integration.Type, route).toBe('AWS_PROXY');
        const uri = JSON.stringify(integration.Uri);
        if (route === 'POST /voices/{voiceId}/speech') {
          expect(uri, route).toContain(JSON.stringify({ 'Fn::GetAtt': [ids.speechFunction, 'Arn'] }));
          // InvokeWithResponseStream, for up to API Gateway's 15 minutes of streaming.
          expect(uri, route).toContain('2021-11-15/functions/');
          expect(uri, route).toContain('/response-streaming-invocations');
          expect(integration.ResponseTransferMode, route).toBe('STREAM');
          expect(integration.TimeoutInMillis, route).toBe(900_000);
        } else {
          expect(uri, route).toContain(JSON.stringify({ 'Fn::GetAtt': [ids.function, 'Arn'] }));
          expect(integration.ResponseTransferMode ?? 'BUFFERED', route).toBe('BUFFERED');
        }
      }
    });

    it('runs speech on its own function: the api bundle, its streaming handler, 15 minutes', () => {
      const speech = resourceById(template, ids.speechFunction).Properties;
      const api = resourceById(template, ids.function).Properties;
      expect(speech.Handler).toBe('index.speechHandler');
      expect(api.Handler).toBe('index.handler');
      // One asset: the same bundle serves both.
      expect(speech.Code).toEqual(api.Code);
      expect(speech.Timeout).toBe(900);
      expect(
        (speech.Environment as { Variables: Record<string, unknown> }).Variables.POWERTOOLS_SERVICE_NAME,
      ).toBe('voicedrop-speech');
    });

    it('lets API Gateway invoke the function from this stage only, without console test invocations', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter(
        (resource) => (resource as TemplateResource).Properties.Principal === 'apigateway.amazonaws.com',
      ) as TemplateResource[];

      expect(permissions).toHaveLength(8);
      for (const permission of permissions) {
        const speech = JSON.stringify(permission.Properties.SourceArn).includes('/speech');
        expect(permission.Properties.FunctionName).toEqual({
          'Fn::GetAtt': [speech ? ids.speechFunction : ids.function, 'Arn'],
        });
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

    expect(routes).toBe(8);
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

  it('passes the URL lifetimes and the provider timeout (capped for the 29 s api) to the functions', () => {
    expect(
      resourceById(template, logicalId(stack.pipeline.apiFunction.lambdaFunction)).Properties,
    ).toMatchObject({
      Environment: { Variables: { UPLOAD_URL_TTL_SECONDS: '300', PROVIDER_TIMEOUT_MS: '10000' } },
    });
    expect(
      resourceById(template, logicalId(stack.pipeline.speechFunction.lambdaFunction)).Properties,
    ).toMatchObject({
      Environment: { Variables: { SPEECH_URL_TTL_SECONDS: '120', PROVIDER_TIMEOUT_MS: '10000' } },
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
