import { listVoicesQuerySchema } from '../../functions/api/schemas';
import { API_ROUTES, pathParameterNames } from '../../functions/shared/contract';
import packageJson from '../../package.json' with { type: 'json' };
import { componentSchemas, type JsonObject, SCHEMA_REF, toJsonSchema } from './json-schema';
import { REQUEST_SCHEMAS, RESPONSE_SCHEMAS, type SchemaName } from './schemas';

/**
 * The OpenAPI 3.1 description of the HTTPS API, generated from the zod schemas the handler validates with
 * (`functions/api/schemas.ts`; names and descriptions in schemas.ts, conversion in json-schema.ts): request bodies and parameters from zod's `input` view (fields with defaults are optional),
 * answers from its `output` view, all as JSON Schema 2020-12, OpenAPI 3.1's own dialect. `openapi.json` at
 * the repository root is this document (`npm run openapi`); a test keeps the two equal.
 */

export const OPENAPI_VERSION = '3.1.1';

export interface OpenApiOptions {
  /** The one server the document names (e.g. the stack's `ApiUrl` output); by default a template plus local mode. */
  readonly serverUrl?: string;
}

/** The OpenAPI 3.1 document of the HTTPS API (a plain JSON value). */
export function buildOpenApiDocument(options: OpenApiOptions = {}): object {
  const schemas = {
    ...componentSchemas('input', REQUEST_SCHEMAS),
    ...componentSchemas('output', RESPONSE_SCHEMAS),
  };
  return {
    openapi: OPENAPI_VERSION,
    info: info(),
    servers: servers(options.serverUrl),
    security: [{ sigv4: [] }],
    tags: [
      { name: 'voices', description: 'Cloned voices: list, read, delete.' },
      { name: 'speech', description: 'Text to speech with a cloned voice.' },
      { name: 'uploads', description: 'Presigned uploads of voice samples.' },
      { name: 'consents', description: "The consent ledger: a speaker's release to clone their voice." },
    ],
    paths: paths(),
    components: components(schemas),
  };
}

/** The document's `info`: what the API is, how callers authenticate, the one error shape. */
function info(): JsonObject {
  return {
    title: 'voicedrop HTTPS API',
    version: packageJson.version,
    summary: 'List, read, speak with and delete cloned voices; presigned uploads.',
    description: [
      'Serverless instant voice cloning on AWS: audio dropped into the bucket (or uploaded through a presigned',
      'URL from `POST /uploads`) becomes a cloned voice; this API lists the voices, speaks text with them and',
      'deletes them everywhere.',
      '',
      'The deployed API (API Gateway REST, regional) requires every request to be signed with AWS Signature',
      'Version 4 (service `execute-api`) by an IAM principal allowed to `execute-api:Invoke`; local mode',
      '(`npm start`) serves the same handler without authorization. Requests and answers are JSON except',
      'speech audio. Every error, from the handler or API Gateway, has one shape:',
      '`{ "error": { "code": "voice_not_found", "message": "…", "retryable": false } }`.',
    ].join('\n'),
    license: { name: packageJson.license, identifier: packageJson.license },
  };
}

/** The shared components: the schemas, the id parameters, the Retry-After header, SigV4. */
function components(schemas: JsonObject): JsonObject {
  return {
    schemas,
    parameters: {
      VoiceId: {
        name: 'voiceId',
        in: 'path',
        required: true,
        description: 'The voice. An id of another form is simply unknown (404).',
        schema: schemaRef('VoiceId'),
      },
      ConsentId: {
        name: 'consentId',
        in: 'path',
        required: true,
        description: 'The consent. An id of another form is simply unknown (404).',
        schema: schemaRef('ConsentId'),
      },
    },
    headers: {
      RetryAfter: {
        description: 'Seconds to wait before trying again.',
        required: true,
        schema: { type: 'integer', minimum: 1 },
      },
    },
    securitySchemes: {
      sigv4: {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        description:
          'AWS Signature Version 4 for service `execute-api` (e.g. `curl --aws-sigv4 "aws:amz:<region>:execute-api"`); ' +
          'temporary credentials also send `X-Amz-Security-Token`.',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      },
    },
  };
}

/** What the document says of each route of API_ROUTES, by its operationId. */
const OPERATIONS: Readonly<Record<string, () => JsonObject>> = {
  listVoices: listVoicesOperation,
  getVoice: getVoiceOperation,
  deleteVoice: deleteVoiceOperation,
  speak: speechOperation,
  createUpload: uploadOperation,
  createConsent: createConsentOperation,
  getConsent: getConsentOperation,
  revokeConsent: revokeConsentOperation,
};

/** `paths`, from API_ROUTES (the routes the stack and local mode serve): each resource once, its methods in order. */
function paths(): JsonObject {
  const document: Record<string, JsonObject> = {};
  for (const route of API_ROUTES) {
    const operation = OPERATIONS[route.operationId];
    if (!operation) throw new Error(`no OpenAPI operation for ${route.method} ${route.resource}`);
    const parameters = pathParameterNames(route.resource).map((name) => ({
      $ref: `#/components/parameters/${name.charAt(0).toUpperCase()}${name.slice(1)}`,
    }));
    document[route.resource] ??= parameters.length > 0 ? { parameters } : {};
    document[route.resource] = { ...document[route.resource], [route.method.toLowerCase()]: operation() };
  }
  return document;
}

function servers(serverUrl: string | undefined): JsonObject[] {
  if (serverUrl !== undefined) return [{ url: serverUrl }];
  return [
    {
      url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}',
      description: 'Deployed: the `ApiUrl` stack output. Requests are signed with SigV4.',
      variables: {
        restApiId: { default: 'abc123', description: 'The REST API id.' },
        region: { default: 'eu-west-1', description: 'The region of the stack.' },
        stage: { default: 'v1', description: 'The stage (`voicedrop.api.stageName`).' },
      },
    },
    { url: 'http://127.0.0.1:3000', description: 'Local mode (`npm start`): no authorization.' },
  ];
}

// Operations

function listVoicesOperation(): JsonObject {
  const querySchema = toJsonSchema(listVoicesQuerySchema, 'input');
  const properties = querySchema.properties as Record<string, JsonObject>;
  const required = new Set((querySchema.required as string[] | undefined) ?? []);
  return {
    operationId: 'listVoices',
    tags: ['voices'],
    summary: 'List voices',
    description:
      'Voices newest first, one page at a time: pass `nextCursor` back as `cursor` for the next page. ' +
      'Deleted voices are listed only with `status=deleted`. Unknown query parameters are refused.',
    parameters: Object.entries(properties).map(([name, { description, ...schema }]) => ({
      name,
      in: 'query',
      required: required.has(name),
      ...(description === undefined ? {} : { description }),
      schema,
    })),
    responses: withCommonErrors({
      200: jsonResponse('One page of voices.', 'VoiceList'),
      400: errorResponse(
        '`invalid_request`: an unknown query parameter, or a value out of range; `invalid_cursor`: a cursor ' +
          'this API did not return.',
      ),
    }),
  };
}

function getVoiceOperation(): JsonObject {
  return {
    operationId: 'getVoice',
    tags: ['voices'],
    summary: 'Read a voice',
    description:
      'The voice, including its status, the reason it was rejected or failed, and preview samples.',
    responses: withCommonErrors({
      200: jsonResponse('The voice.', 'Voice'),
      404: voiceNotFound(),
      410: {
        description:
          '`voice_deleted`: the voice was deleted; `voice` is its record with the deletion receipt.',
        content: { 'application/json': { schema: schemaRef('DeletedVoiceBody') } },
      },
    }),
  };
}

function deleteVoiceOperation(): JsonObject {
  return {
    operationId: 'deleteVoice',
    tags: ['voices'],
    summary: 'Delete a voice everywhere',
    description:
      "Deletes the provider's clone, every version of the source audio holding this voice's bytes and the " +
      'preview samples, and marks the voice `deleted`. Idempotent: a deleted voice answers as it is, with no ' +
      'provider call. When the provider refuses to delete (Smallest with an API key), the voice is still ' +
      'removed from voicedrop and `deletion.provider` is `not_deleted`, with what to do in `deletion.detail`. ' +
      'After a failure half-way the voice stays `deleting` and the next DELETE carries on.',
    responses: withCommonErrors({
      200: jsonResponse('The voice, now `deleted`.', 'Voice'),
      404: voiceNotFound(),
      409: errorResponse(
        '`voice_busy` (retryable): the voice is still being processed, or changed meanwhile.',
      ),
      ...providerErrors('the deletion'),
    }),
  };
}

function speechOperation(): JsonObject {
  const audio = (mediaType: string) => ({
    schema: { type: 'string', format: 'binary', contentMediaType: mediaType },
  });
  return {
    operationId: 'speak',
    tags: ['speech'],
    summary: 'Speak text with a voice',
    description: [
      'Synthesizes the text with the voice (a duplicate voice speaks with the voice it duplicates) and streams',
      'the audio as it is made (API Gateway response streaming: no size or 29 s limit, up to 15 minutes): the',
      'text is spoken one sentence per provider request, in order, and the first audio is sent as soon as the',
      "first sentence has begun. Each sentence's audio is kept in the synthesis cache (`X-Cache`), so a",
      'repeated text costs no provider request and an edited one only the sentences that changed. A WAV',
      'streamed this way carries 0xFFFFFFFF placeholder sizes (exact sizes and `Content-Length` when every',
      'sentence comes from the cache). Errors before the first byte have their usual status; a failure after',
      'it ends the body early (a truncated chunked response). With `"delivery": "url"` the audio is stored',
      '(for a day) and the answer is JSON with a short-lived URL.',
    ].join('\n'),
    requestBody: {
      required: true,
      content: { 'application/json': { schema: schemaRef('SpeechRequest') } },
    },
    responses: withCommonErrors({
      200: {
        description:
          'The audio (`"delivery": "inline"`, the default), in the requested format; or, with ' +
          '`"delivery": "url"`, JSON with the URL of the stored audio.',
        headers: {
          'X-Speech-Chunks': {
            description:
              'How many pieces (sentences, each one provider request unless cached) the text was spoken in.',
            schema: { type: 'integer', minimum: 1 },
          },
          'X-Cache': {
            description:
              '`hit`: every piece came from the synthesis cache (no provider request); `partial`: some did; ' +
              '`miss`: none did, or `"cache": false` bypassed it.',
            schema: { type: 'string', enum: ['hit', 'partial', 'miss'] },
          },
        },
        content: {
          'audio/wav': audio('audio/wav'),
          'audio/mpeg': audio('audio/mpeg'),
          'application/json': { schema: schemaRef('SpeechUrlResponse') },
        },
      },
      400: errorResponse(
        '`invalid_json`: no body, or not JSON; `invalid_request`: the body does not match `SpeechRequest` ' +
          '(unknown fields, empty or over-long text, a bad format, speed or sampleRate).',
      ),
      404: voiceNotFound(),
      409: errorResponse(
        '`voice_not_ready`: the voice is not `ready` (retryable while it is still being cloned; not when it ' +
          'was rejected or failed).',
      ),
      410: errorResponse('`voice_deleted`: the voice, or the voice it duplicates, was deleted.'),
      413: requestTooLarge(),
      ...providerErrors('the text'),
    }),
  };
}

function uploadOperation(): JsonObject {
  return {
    operationId: 'createUpload',
    tags: ['uploads'],
    summary: 'Get a presigned upload form',
    description:
      'A presigned POST for `incoming/<provider>/<fileName>`: a `multipart/form-data` POST to `url` with ' +
      'every one of `fields` as given, then the file as the last field, `file`. Its signed policy pins the ' +
      "key, the upload's options (object metadata) and the size: at most the provider's limit, or exactly " +
      '`sizeBytes` when given, so S3 itself refuses a larger file. The options are checked against the ' +
      "provider's rules first, so what the pipeline would reject is refused now. The form expires after 15 " +
      'minutes by default.',
    requestBody: {
      required: true,
      content: { 'application/json': { schema: schemaRef('UploadRequest') } },
    },
    responses: withCommonErrors({
      201: jsonResponse('The presigned upload.', 'UploadResponse'),
      400: errorResponse(
        '`invalid_json`: no body, or not JSON; `invalid_request`: the body does not match `UploadRequest`.',
      ),
      413: requestTooLarge(),
      422: errorResponse(
        "The options break the provider's rules; the code is the first problem's, e.g. `invalid_name`, " +
          '`file_too_large`, `empty_file`, and the message lists them all; `consent_required` (the stack ' +
          'requires consent and none is named) or `consent_invalid` (unknown, revoked or expired).',
      ),
    }),
  };
}

function createConsentOperation(): JsonObject {
  return {
    operationId: 'createConsent',
    tags: ['consents'],
    summary: "Record a speaker's consent",
    description:
      'Records a release once (never overwritten; revocation is its only change) and answers its `consentId`, ' +
      'which uploads name (`consent-id` metadata, `POST /uploads` `consentId`). `evidenceKey` names an object ' +
      'below `consents/` in the bucket (a recorded or signed statement), which must exist. `createdBy` is the ' +
      "caller's IAM principal.",
    requestBody: {
      required: true,
      content: { 'application/json': { schema: schemaRef('ConsentRequest') } },
    },
    responses: withCommonErrors({
      201: jsonResponse('The consent, as recorded.', 'Consent'),
      400: errorResponse(
        '`invalid_json`; `invalid_request`: the body does not match `ConsentRequest`, or `expiresAt` is past.',
      ),
      413: requestTooLarge(),
      422: errorResponse('`evidence_not_found`: no object at `evidenceKey`.'),
    }),
  };
}

function getConsentOperation(): JsonObject {
  return {
    operationId: 'getConsent',
    tags: ['consents'],
    summary: 'Read a consent and the voices cloned under it',
    responses: withCommonErrors({
      200: jsonResponse('The consent with its voices (deleted ones too).', 'ConsentWithVoices'),
      404: errorResponse('`consent_not_found`.'),
    }),
  };
}

function revokeConsentOperation(): JsonObject {
  return {
    operationId: 'revokeConsent',
    tags: ['consents'],
    summary: 'Revoke a consent, deleting its voices everywhere',
    description:
      'Sets `revokedAt` (once) and deletes every voice cloned under the consent everywhere, each with the ' +
      'receipt `deletion.reason: consent_revoked`, `by: consent`. Later uploads naming it are rejected ' +
      '`consent_invalid`. A voice still being cloned is deleted by its clone as soon as it is made; one that ' +
      'could not be deleted now (a provider outage) is listed with its status and deleted by calling this ' +
      'again or by the daily retention run. The consent itself is kept.',
    responses: withCommonErrors({
      200: jsonResponse('The consent, revoked, with its voices as they are now.', 'ConsentWithVoices'),
      404: errorResponse('`consent_not_found`.'),
    }),
  };
}

// Responses

function schemaRef(name: SchemaName): JsonObject {
  return { $ref: `${SCHEMA_REF}${name}` };
}

function jsonResponse(description: string, schema: SchemaName): JsonObject {
  return { description, content: { 'application/json': { schema: schemaRef(schema) } } };
}

function errorResponse(description: string, headers?: JsonObject): JsonObject {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { 'application/json': { schema: schemaRef('ErrorBody') } },
  };
}

function voiceNotFound(): JsonObject {
  return errorResponse('`voice_not_found`: no such voice.');
}

function requestTooLarge(): JsonObject {
  return errorResponse(
    '`request_too_large` (API Gateway): the body is larger than API Gateway accepts (10 MB).',
  );
}

/** What a provider's failure answers, for routes that call the provider. */
function providerErrors(what: string): JsonObject {
  return {
    422: errorResponse(`\`provider_rejected_input\`: the provider refused ${what}.`),
    429: errorResponse(
      '`provider_rate_limited` (retryable): the provider is rate limiting; or `throttled`: API Gateway ' +
        "is (the stage's throttling).",
      { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    ),
    502: errorResponse(
      '`provider_timeout` and other provider codes: the provider failed, timed out or returned unusable ' +
        "audio (`provider_audio_invalid`); or `internal_error`: API Gateway got no valid answer from the API's " +
        'function.',
    ),
    503: errorResponse(
      "`provider_key_missing`, `provider_key_rejected` (retryable): the provider's API key is missing or " +
        'rejected; fix the secret.',
    ),
  };
}

/**
 * The route's own answers, plus what any route may answer: API Gateway's authorization, throttling and
 * timeouts, and unexpected failures. The route's own description of a status wins.
 */
function withCommonErrors(own: JsonObject): JsonObject {
  return { ...commonErrors(), ...own };
}

function commonErrors(): JsonObject {
  return {
    401: errorResponse(
      "`unauthorized` (API Gateway's UNAUTHORIZED answer): the request could not be authorized; " +
        'SigV4-signed requests are normally answered 403 instead.',
    ),
    403: errorResponse(
      '`unauthorized` (API Gateway): the request is not signed with SigV4, its signature does not match or ' +
        'its token expired, or the identity is not allowed `execute-api:Invoke` on this route.',
    ),
    429: errorResponse(
      "`throttled` (API Gateway, retryable): too many requests for the stage's throttling limits.",
      { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
    ),
    500: errorResponse('`internal_error` (retryable): an unexpected failure; it has been logged.'),
    502: errorResponse(
      "`internal_error` (API Gateway, retryable): API Gateway got no valid answer from the API's function.",
    ),
    504: errorResponse('`timeout` (API Gateway, retryable): no answer within 29 seconds.'),
  };
}
