/** The answers the gateway gives itself, without the handler: `{ error: { code, message, retryable } }`. */
import type { ServerResponse } from 'node:http';
import { GATEWAY_ERRORS, type GatewayErrorAnswer } from '../../functions/shared/contract';

/** As the deployed API answers a failed integration (the stack's DEFAULT_5XX gateway response). */
export function sendInternalError(response: ServerResponse, requestId: string): void {
  sendGatewayError(response, GATEWAY_ERRORS.integrationFailed, requestId);
}

/** One of the answers the stack's gateway responses give (GATEWAY_ERRORS, functions/shared/contract.ts). */
export function sendGatewayError(
  response: ServerResponse,
  answer: GatewayErrorAnswer,
  requestId: string,
): void {
  sendError(response, answer.statusCode, answer.code, answer.message, answer.retryable, requestId);
}

export function sendError(
  response: ServerResponse,
  statusCode: number,
  code: string,
  message: string,
  retryable: boolean,
  requestId: string,
): void {
  const payload = Buffer.from(JSON.stringify({ error: { code, message, retryable } }));
  response.statusCode = statusCode;
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Content-Length', payload.length);
  if (requestId) response.setHeader('x-amzn-RequestId', requestId);
  response.end(payload);
}
