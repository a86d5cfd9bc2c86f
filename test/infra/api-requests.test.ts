import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRAFT_4_KEYWORDS } from '../../lib/api-models';
import {
  gatewayResponse,
  gatewayResponseBody,
  renderGatewayResponse,
  routeNamed,
  routesOf,
} from './api-support';
import { resourceById, synthesize, type TemplateResource } from './support';

// The API's request validation (models, parameters) and its gateway responses.

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

describe('Stack: Voicedrop API with the cdk.json configuration', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthesize());
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

      expect(models.map((model) => model.Properties.Name).sort()).toEqual([
        'ConsentRequest',
        'SpeechRequest',
        'UploadRequest',
      ]);
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
});
