/** An HTTP request as the event API Gateway's Lambda proxy integration (payload format 1.0) sends. */
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { matchesMediaType } from './media-types';
import type { Route } from './routes';

export const LOCAL_ACCOUNT_ID = '000000000000';
/** Who local mode's gateway says called (no SigV4 locally): the `by` of deletions made through the API. */
export const LOCAL_CALLER = 'local-mode';
export const LOCAL_CALLER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${LOCAL_CALLER}`;

export interface ProxyEventInput {
  readonly request: IncomingMessage;
  readonly requestId: string;
  readonly requestTimeEpoch: number;
  readonly method: string;
  /** Without the stage prefix. */
  readonly path: string;
  readonly rawQuery: string;
  readonly route: Route;
  readonly pathParameters: Record<string, string> | null;
  readonly body: Buffer;
  readonly binaryMediaTypes: readonly string[];
  readonly stageName: string;
  readonly port: number;
}

export function proxyEvent(input: ProxyEventInput): APIGatewayProxyEvent {
  const { request, requestId, requestTimeEpoch, method, path, route, body, port } = input;
  const contentType = request.headers['content-type'];
  const binary = contentType !== undefined && matchesMediaType(contentType, input.binaryMediaTypes);
  const { headers, multiValueHeaders } = requestHeaders(request, port);
  const query = queryParameters(input.rawQuery);
  return {
    resource: route.resource,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.single,
    multiValueQueryStringParameters: query.multiple,
    pathParameters: input.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: undefined,
      domainName: request.headers.host ?? `127.0.0.1:${port}`,
      domainPrefix: 'local',
      extendedRequestId: requestId,
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        // IAM auth's caller as API Gateway fills it in; locally there is no signer, so a stand-in.
        caller: LOCAL_CALLER,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: LOCAL_CALLER_ARN,
      },
      path: `/${input.stageName}${path === '/' ? '' : path}`,
      protocol: `HTTP/${request.httpVersion}`,
      requestId,
      requestTime: formatRequestTime(new Date(requestTimeEpoch)),
      requestTimeEpoch,
      resourceId: 'local',
      resourcePath: route.resource,
      stage: input.stageName,
    },
    body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: body.length > 0 && binary,
  };
}

export async function readBody(
  request: IncomingMessage,
  maxBodyBytes: number,
): Promise<Buffer | 'too_large'> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  let tooLarge = Number.isFinite(declared) && declared > maxBodyBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversize body is still read to its end (and dropped): answering while the client is still sending
  // makes many clients report a broken connection instead of the 413.
  for await (const chunk of request) {
    const piece = chunk as Buffer;
    size += piece.length;
    if (size > maxBodyBytes) tooLarge = true;
    if (!tooLarge) chunks.push(piece);
  }
  if (tooLarge) return 'too_large';
  return Buffer.concat(chunks, size);
}

function requestHeaders(
  request: IncomingMessage,
  port: number,
): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const add = (name: string, value: string) => {
    headers[name] = value;
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  };
  // rawHeaders keeps the names as the client sent them; API Gateway passes them on unchanged, with the
  // last value in `headers` and every value in `multiValueHeaders`.
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    add(request.rawHeaders[index] as string, request.rawHeaders[index + 1] as string);
  }
  // API Gateway adds these; handlers that build links back to the API read them.
  const sentName = (lowerName: string) =>
    Object.keys(headers).find((name) => name.toLowerCase() === lowerName);
  const sourceIp = request.socket.remoteAddress ?? '127.0.0.1';
  const forwardedFor = sentName('x-forwarded-for');
  if (forwardedFor === undefined) {
    add('X-Forwarded-For', sourceIp);
  } else {
    const appended = `${headers[forwardedFor]}, ${sourceIp}`;
    headers[forwardedFor] = appended;
    multiValueHeaders[forwardedFor] = [appended];
  }
  if (sentName('x-forwarded-proto') === undefined) add('X-Forwarded-Proto', 'http');
  if (sentName('x-forwarded-port') === undefined) add('X-Forwarded-Port', String(port));
  return { headers, multiValueHeaders };
}

/**
 * `+` reads as a space and malformed escapes stay as they are (URLSearchParams). API Gateway keeps the
 * last value of a repeated name in `queryStringParameters` and all of them in the multi-value map.
 */
function queryParameters(rawQuery: string): {
  single: Record<string, string> | null;
  multiple: Record<string, string[]> | null;
} {
  const parameters = new URLSearchParams(rawQuery);
  const single: Record<string, string> = {};
  const multiple: Record<string, string[]> = {};
  for (const [name, value] of parameters) {
    single[name] = value;
    const values = multiple[name];
    if (values) values.push(value);
    else multiple[name] = [value];
  }
  if (Object.keys(single).length === 0) return { single: null, multiple: null };
  return { single, multiple };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** API Gateway's `requestTime` format: `09/Apr/2015:12:34:56 +0000`. */
function formatRequestTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
