/** The answers the gateway gives itself, without the handler: `{ error: { code, message, retryable } }`. */
import type { ServerResponse } from 'node:http';

export function sendInternalError(response: ServerResponse, requestId: string): void {
  sendError(response, 502, 'internal_error', 'Internal server error', true, requestId);
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
