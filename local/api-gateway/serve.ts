/**
 * One request through the gateway: matched against the routes, its body read, turned into the proxy event,
 * handed to the handler, and the handler's result checked and sent back (or the gateway's own error).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { StreamingHandler } from '../../functions/api/lambda-stream';
import { GATEWAY_ERRORS, SPEECH_STREAM_LIMIT_MS } from '../../functions/shared/contract';
import { sendError, sendGatewayError, sendInternalError } from './gateway-errors';
import { createContext, type InvocationSettings, invoke, type Outcome } from './invocation';
import { matchesMediaType } from './media-types';
import { proxyEvent, readBody } from './proxy-event';
import { type CheckedResult, checkResult, writeResult } from './proxy-result';
import { relayStream } from './response-stream';
import { decodePathParameters, matchRoute, type Route, splitTarget, streams, withoutStage } from './routes';

export interface GatewaySettings extends InvocationSettings {
  readonly binaryMediaTypes: readonly string[];
  readonly stageName: string;
  readonly maxBodyBytes: number;
  warnedAboutBinaryAccept: boolean;
  port: number;
}

/** Answers one request; a failure of the gateway itself becomes a 502 (or a dropped connection). */
export function answer(settings: GatewaySettings, request: IncomingMessage, response: ServerResponse): void {
  serve(settings, request, response).catch((error: unknown) => {
    // A client that hangs up mid-request is not the gateway's failure.
    if (response.destroyed || request.socket.destroyed) return;
    settings.log.error('local API gateway failed to answer a request', { error: stackOf(error) });
    if (response.headersSent) {
      response.destroy();
    } else {
      sendInternalError(response, '');
    }
  });
}

/** A request whose route is known, as the steps that answer it need it. */
interface RoutedRequest {
  readonly settings: GatewaySettings;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly requestTimeEpoch: number;
  readonly method: string;
  readonly path: string;
  readonly route: Route;
}

async function serve(
  settings: GatewaySettings,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requestTimeEpoch = Date.now();
  const requestId = randomUUID();
  const method = (request.method ?? 'GET').toUpperCase();
  const { rawPath, rawQuery } = splitTarget(request.url ?? '/');
  const path = withoutStage(rawPath, `/${settings.stageName}`);

  const routed = routeOrAnswerError(path, method, response, requestId);
  if (!routed) return;
  const { route, pathParameters } = routed;

  const body = await readBody(request, settings.maxBodyBytes);
  if (body === 'too_large') {
    sendGatewayError(response, GATEWAY_ERRORS.requestTooLarge, requestId);
    return;
  }

  const event = proxyEvent({
    request,
    requestId,
    requestTimeEpoch,
    method,
    path,
    rawQuery,
    route,
    pathParameters,
    body,
    binaryMediaTypes: settings.binaryMediaTypes,
    stageName: settings.stageName,
    port: settings.port,
  });

  const call: RoutedRequest = {
    settings,
    request,
    response,
    requestId,
    requestTimeEpoch,
    method,
    path,
    route,
  };
  const streamingHandler = settings.streamingHandler;
  if (streamingHandler && streams(route, method)) {
    await answerStreamed(call, streamingHandler, event);
    return;
  }
  await answerBuffered(call, event);
}

/**
 * The request's route and decoded path parameters, or undefined once the gateway's error is sent (no
 * such route or method, or a path that does not decode).
 */
function routeOrAnswerError(
  path: string,
  method: string,
  response: ServerResponse,
  requestId: string,
): { route: Route; pathParameters: Record<string, string> | null } | undefined {
  // API Gateway answers an unknown route and a method the resource does not have alike (its
  // MISSING_AUTHENTICATION_TOKEN), which the stack maps to this answer for an API without authorization.
  const match = matchRoute(path);
  if (!match?.route.methods.includes(method)) {
    sendGatewayError(response, GATEWAY_ERRORS.noRoute, requestId);
    return undefined;
  }
  try {
    return { route: match.route, pathParameters: decodePathParameters(match.rawParameters) };
  } catch {
    sendError(
      response,
      400,
      'invalid_request',
      'The request path is not valid percent-encoded UTF-8',
      false,
      requestId,
    );
    return undefined;
  }
}

/** The streaming handler's answer, relayed to the client as it comes. */
async function answerStreamed(
  call: RoutedRequest,
  handler: StreamingHandler,
  event: APIGatewayProxyEvent,
): Promise<void> {
  // No 29 s limit here: a streamed response may run for up to 15 minutes.
  const context = createContext(call.requestId, call.requestTimeEpoch + SPEECH_STREAM_LIMIT_MS);
  await relayStream({
    handler,
    event,
    context,
    request: call.request,
    response: call.response,
    requestId: call.requestId,
    log: call.settings.log,
  });
}

/** The handler's answer, checked and sent whole once the handler returns within the timeout. */
async function answerBuffered(call: RoutedRequest, event: APIGatewayProxyEvent): Promise<void> {
  const { settings, request, response, requestId, requestTimeEpoch } = call;
  const outcome = await invoke(settings, event, requestId, requestTimeEpoch);
  if (response.destroyed) return;
  const checked = resultOrAnswerError(call, outcome);
  if (!checked) return;
  if (checked.isBase64Encoded) warnWhenDeployedApiWouldSendText(settings, request, requestId);
  try {
    writeResult(response, checked, requestId);
  } catch (error) {
    // Node refuses header names or values API Gateway would not send either (control characters, …).
    settings.log.error('api handler result could not be sent; answered 502', {
      requestId,
      error: stackOf(error),
    });
    if (!response.headersSent) sendInternalError(response, requestId);
    else response.destroy();
    return;
  }
  settings.log.debug('api request', {
    requestId,
    method: call.method,
    path: call.path,
    statusCode: checked.statusCode,
    durationMs: Date.now() - requestTimeEpoch,
  });
}

/**
 * The handler's result once checked, or undefined once the gateway's error is sent: a timeout, a handler
 * that threw, or a malformed proxy result.
 */
function resultOrAnswerError(call: RoutedRequest, outcome: Outcome): CheckedResult | undefined {
  const { settings, response, requestId, method } = call;
  if (outcome.kind === 'timeout') {
    sendGatewayError(response, GATEWAY_ERRORS.timeout, requestId);
    return undefined;
  }
  if (outcome.kind === 'error') {
    settings.log.error('api handler threw; answered 502', {
      requestId,
      method,
      resource: call.route.resource,
      error: stackOf(outcome.error),
    });
    sendInternalError(response, requestId);
    return undefined;
  }
  const checked = checkResult(outcome.result);
  if (typeof checked === 'string') {
    settings.log.error('api handler returned a malformed proxy result; answered 502', {
      requestId,
      method,
      resource: call.route.resource,
      problem: checked,
    });
    sendInternalError(response, requestId);
    return undefined;
  }
  return checked;
}

/**
 * The deployed REST API decodes a base64 body only when the request's first Accept type matches its
 * binaryMediaTypes; otherwise the client receives the base64 text. Local mode always sends the bytes, so
 * it says once when a real deployment would not.
 */
function warnWhenDeployedApiWouldSendText(
  settings: GatewaySettings,
  request: IncomingMessage,
  requestId: string,
): void {
  if (settings.warnedAboutBinaryAccept) return;
  const accept = request.headers.accept;
  if (accept === undefined) return;
  const firstAccepted = accept.split(',')[0] ?? '';
  if (matchesMediaType(firstAccepted, settings.binaryMediaTypes)) return;
  settings.warnedAboutBinaryAccept = true;
  settings.log.warn(
    'binary response sent as bytes locally; the deployed API would send it as base64 text because the first Accept type is not a binary media type',
    { requestId, accept, binaryMediaTypes: settings.binaryMediaTypes },
  );
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}
