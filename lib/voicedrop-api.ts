import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type Model,
  RequestValidator,
  ResponseTransferMode,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import {
  consentRequestSchema,
  listVoicesQuerySchema,
  speechRequestSchema,
  uploadRequestSchema,
} from '../functions/api/schemas';
import {
  API_ROUTES,
  type ApiRoute,
  BINARY_MEDIA_TYPES,
  GATEWAY_ERRORS,
  type GatewayErrorAnswer,
  pathParameterNames,
  SPEECH_STREAM_LIMIT_MS,
} from '../functions/shared/contract';
import { acknowledge } from './acknowledgements';
import { apiGatewayModelSchema } from './api-models';
import type { ApiConfig } from './config';

export interface VoicedropApiProps {
  /** The function behind every route but the streamed ones, through one Lambda proxy integration. */
  readonly handler: IFunction;
  /** The function behind the streamed routes (API_ROUTES' `streamed`: speech), invoked with response streaming. */
  readonly speechHandler: IFunction;
  readonly config: ApiConfig;
  readonly accessLogRetention: RetentionDays;
  /** What stack deletion does to the access logs; follows the data's removal policy. */
  readonly accessLogRemovalPolicy: RemovalPolicy;
}

/** One of API Gateway's own error answers, in the project's `{ "error": { code, message, retryable } }` shape. */
interface GatewayError {
  readonly type: ResponseType;
  readonly code: string;
  /** A JSON value: a quoted literal (`JSON.stringify`) or a `$context` variable that expands to one. */
  readonly message: string;
  readonly retryable: boolean;
  readonly statusCode?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** API Gateway's own message, already quoted and escaped for JSON. */
const GATEWAY_MESSAGE = '$context.error.messageString';
/**
 * What the request validator found, e.g. `[object has missing required properties (["text"])]`. It names the
 * failing keyword and may quote a value of the caller's own request, which goes back to that caller only
 * (access logs never record it).
 */
const VALIDATION_MESSAGE = '"$context.error.validationErrorString"';

/**
 * The HTTPS API (README, "HTTPS API"): a regional REST API whose every method requires SigV4 (IAM) by default, with
 * request validation from the handler's own zod schemas, stage throttling, JSON access logs without bodies,
 * and API Gateway's own errors in the handler's error shape. Every route is a Lambda proxy to one function.
 */
export class VoicedropApi extends Construct {
  readonly restApi: RestApi;
  readonly accessLogGroup: LogGroup;
  readonly speechRequestModel: Model;
  readonly uploadRequestModel: Model;
  readonly consentRequestModel: Model;

  constructor(scope: Construct, id: string, props: VoicedropApiProps) {
    super(scope, id);
    const { config } = props;
    const iam = config.authorization === 'iam';

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention,
      removalPolicy: props.accessLogRemovalPolicy,
    });
    this.restApi = this.createRestApi(config, iam);
    if (!iam) {
      Annotations.of(this).addWarningV2(
        '@voicedrop/api:noAuthorization',
        'voicedrop.api.authorization is "none": anyone who finds the URL can list, use and delete voices. ' +
          'Use it for short-lived test deployments only.',
      );
    }

    this.speechRequestModel = this.model('SpeechRequest', speechRequestSchema);
    this.uploadRequestModel = this.model('UploadRequest', uploadRequestSchema);
    this.consentRequestModel = this.model('ConsentRequest', consentRequestSchema);
    this.addRoutes(props);
    if (iam) {
      for (const method of this.restApi.methods) {
        acknowledge(
          method,
          'AwsSolutions-COG4',
          'Callers authenticate with AWS IAM (SigV4, execute-api:Invoke), not a Cognito user pool: the API ' +
            "serves the deployer's own tools and principals, and there are no end-user accounts (README, HTTPS API).",
        );
      }
    }

    this.addGatewayResponses(iam);
  }

  /** The REST API and its stage: regional, throttled, traced, with JSON access logs and no bodies logged. */
  private createRestApi(config: ApiConfig, iam: boolean): RestApi {
    const restApi = new RestApi(this, 'RestApi', {
      // Named after the stack, so two deployments in one account can be told apart in the console.
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'voicedrop HTTPS API: list, read, speak with and delete cloned voices; presigned uploads',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      binaryMediaTypes: [...BINARY_MEDIA_TYPES],
      defaultMethodOptions: { authorizationType: iam ? AuthorizationType.IAM : AuthorizationType.NONE },
      // Access logs need the account-wide API Gateway → CloudWatch Logs role, which the cdk.json flag
      // `disableCloudWatchRole` stops CDK from creating implicitly. It is created here, explicitly, and always
      // retained: the setting is per account and region, so deleting the role with this stack would silently
      // stop the logs of every other REST API in the region that relies on it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: config.stageName,
        throttlingRateLimit: config.throttle.rateLimit,
        throttlingBurstLimit: config.throttle.burstLimit,
        metricsEnabled: true,
        // X-Ray starts a trace per sampled request, which the api function's active tracing continues.
        tracingEnabled: true,
        // Voices are biometric and speech text is private: no request or response bodies in any log, and no
        // execution logs, which would land in a log group API Gateway creates without retention.
        dataTraceEnabled: false,
        loggingLevel: MethodLoggingLevel.OFF,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: accessLogFormat(),
      },
    });
    // RestApi adds an `Endpoint` output under a generated name; the stack outputs the stage URL as `ApiUrl`.
    restApi.node.tryRemoveChild('Endpoint');

    const stage = restApi.deploymentStage;
    acknowledge(
      stage,
      'AwsSolutions-APIG6',
      'Execution logging stays off on purpose: at INFO it records request and response details of speech and ' +
        'voice calls (private text, biometric voice data) into a log group API Gateway creates without ' +
        'retention. The JSON access log (no bodies) and X-Ray tracing cover operations.',
    );
    acknowledge(
      stage,
      'AwsSolutions-APIG3',
      'No AWS WAF web ACL by default: every route requires SigV4 (IAM) authorization and the stage is ' +
        'throttled, and a web ACL costs a monthly fee per deployment. Deployers who want one associate it ' +
        'with this stage (README, deploy guide).',
    );
    const cloudWatchRole = restApi.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "API Gateway's account-wide logging role uses the AWS managed policy AWS documents for it; it only " +
          'lets API Gateway write its own logs, and AWS keeps it current when API Gateway needs new actions.',
      );
    }

    return restApi;
  }

  /** One method per route of API_ROUTES, each validated and proxied to its function. */
  private addRoutes(props: VoicedropApiProps): void {
    // Parameter validation only checks that required parameters are present (API Gateway never checks their
    // format); the handler parses voiceId and the query with the same zod schemas.
    const parameterValidator = new RequestValidator(this, 'ParameterValidator', {
      restApi: this.restApi,
      validateRequestParameters: true,
    });
    const bodyValidator = new RequestValidator(this, 'BodyValidator', {
      restApi: this.restApi,
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    // Test invocations from the console bypass authorization; nobody needs them, so Lambda does not allow them.
    const integration = new LambdaIntegration(props.handler, { allowTestInvoke: false });
    // Speech streams as it is synthesized: no 10 MB or 29 s ceiling, up to 15 minutes per response.
    const streamingIntegration = new LambdaIntegration(props.speechHandler, {
      allowTestInvoke: false,
      responseTransferMode: ResponseTransferMode.STREAM,
      timeout: Duration.millis(SPEECH_STREAM_LIMIT_MS),
    });
    const models: Record<NonNullable<ApiRoute['requestBody']>, Model> = {
      SpeechRequest: this.speechRequestModel,
      UploadRequest: this.uploadRequestModel,
      ConsentRequest: this.consentRequestModel,
    };
    const querySchemas = { ListVoicesQuery: listVoicesQuerySchema };

    // One method per route of API_ROUTES (contract.ts), which local mode's gateway and the OpenAPI document read too.
    for (const route of API_ROUTES) {
      const requestParameters = {
        ...(route.query
          ? Object.fromEntries(
              Object.keys(querySchemas[route.query].shape).map((name) => [
                `method.request.querystring.${name}`,
                false,
              ]),
            )
          : {}),
        ...Object.fromEntries(
          pathParameterNames(route.resource).map((name) => [`method.request.path.${name}`, true]),
        ),
      };
      this.restApi.root
        .resourceForPath(route.resource)
        .addMethod(route.method, route.streamed ? streamingIntegration : integration, {
          requestValidator: route.requestBody ? bodyValidator : parameterValidator,
          ...(Object.keys(requestParameters).length > 0 ? { requestParameters } : {}),
          ...(route.requestBody ? { requestModels: jsonModels(models[route.requestBody]) } : {}),
        });
    }
  }

  /** API Gateway's own errors (auth, throttling, validation, timeouts) in the handler's error shape. */
  private addGatewayResponses(iam: boolean): void {
    for (const error of gatewayErrors(iam)) {
      this.restApi.addGatewayResponse(`Gateway${error.type.responseType}`, {
        type: error.type,
        statusCode: error.statusCode,
        responseHeaders: error.headers,
        templates: {
          'application/json': `{"error":{"code":${JSON.stringify(error.code)},"message":${error.message},"retryable":${error.retryable}}}`,
        },
      });
    }
  }

  /** The stage's base URL, ending in `/` (`https://…/v1/`). */
  get url(): string {
    return this.restApi.url;
  }

  private model(name: string, schema: z.core.$ZodType): Model {
    return this.restApi.addModel(name, {
      modelName: name,
      contentType: 'application/json',
      schema: apiGatewayModelSchema(name, schema).schema,
    });
  }
}

/**
 * A body is validated against the model whatever Content-Type it claims: API Gateway skips body validation
 * for a content type with no model, and `$default` closes that gap.
 */
function jsonModels(model: Model): Record<string, Model> {
  return { 'application/json': model, $default: model };
}

/** A shared answer's code, quoted message and retryability (its status stays API Gateway's own unless set). */
function answer(error: GatewayErrorAnswer): Pick<GatewayError, 'code' | 'message' | 'retryable'> {
  return { code: error.code, message: JSON.stringify(error.message), retryable: error.retryable };
}

function gatewayErrors(iam: boolean): readonly GatewayError[] {
  const unauthorized = { code: 'unauthorized', retryable: false } as const;
  return [
    { type: ResponseType.DEFAULT_4XX, code: 'request_rejected', message: GATEWAY_MESSAGE, retryable: false },
    // Its status stays API Gateway's (502 for a failed integration).
    { type: ResponseType.DEFAULT_5XX, ...answer(GATEWAY_ERRORS.integrationFailed) },
    {
      type: ResponseType.BAD_REQUEST_BODY,
      code: 'invalid_request',
      message: VALIDATION_MESSAGE,
      retryable: false,
    },
    {
      type: ResponseType.BAD_REQUEST_PARAMETERS,
      code: 'invalid_request',
      message: VALIDATION_MESSAGE,
      retryable: false,
    },
    // API Gateway answers an unknown route or method with this type too, signed or not.
    iam
      ? { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, ...answer(GATEWAY_ERRORS.noRouteOrUnsigned) }
      : {
          type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
          ...answer(GATEWAY_ERRORS.noRoute),
          statusCode: String(GATEWAY_ERRORS.noRoute.statusCode),
        },
    {
      type: ResponseType.ACCESS_DENIED,
      ...unauthorized,
      message: JSON.stringify('This identity is not allowed to call this route (execute-api:Invoke).'),
    },
    // Signature and token problems keep API Gateway's wording: it tells the caller what to fix.
    { type: ResponseType.INVALID_SIGNATURE, ...unauthorized, message: GATEWAY_MESSAGE },
    { type: ResponseType.EXPIRED_TOKEN, ...unauthorized, message: GATEWAY_MESSAGE },
    { type: ResponseType.UNAUTHORIZED, ...unauthorized, message: GATEWAY_MESSAGE },
    { type: ResponseType.RESOURCE_NOT_FOUND, ...answer(GATEWAY_ERRORS.noRoute) },
    {
      type: ResponseType.THROTTLED,
      code: 'throttled',
      message: JSON.stringify('Too many requests for this API; slow down and retry.'),
      retryable: true,
      headers: { 'Retry-After': "'1'" },
    },
    { type: ResponseType.REQUEST_TOO_LARGE, ...answer(GATEWAY_ERRORS.requestTooLarge) },
    { type: ResponseType.INTEGRATION_TIMEOUT, ...answer(GATEWAY_ERRORS.timeout) },
  ];
}

/**
 * One JSON object per request: who called (IAM caller and user), what (method, resource path template),
 * how it went (status, error type, latencies, sizes). Never bodies, query strings or validation details,
 * which can carry a caller's text.
 */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      extendedRequestId: AccessLogField.contextExtendedRequestId(),
      requestTime: AccessLogField.contextRequestTime(),
      requestTimeEpoch: AccessLogField.contextRequestTimeEpoch(),
      ip: AccessLogField.contextIdentitySourceIp(),
      caller: AccessLogField.contextIdentityCaller(),
      user: AccessLogField.contextIdentityUser(),
      userArn: AccessLogField.contextIdentityUserArn(),
      userAgent: AccessLogField.contextIdentityUserAgent(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      protocol: AccessLogField.contextProtocol(),
      status: AccessLogField.contextStatus(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      integrationStatus: AccessLogField.contextIntegrationStatus(),
      errorType: AccessLogField.contextErrorResponseType(),
      errorMessage: AccessLogField.contextErrorMessage(),
    }),
  );
}
