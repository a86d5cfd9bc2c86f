import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamingHandler } from '../functions/api/lambda-stream';
import { API_GATEWAY_TIMEOUT_MS, BINARY_MEDIA_TYPES } from '../functions/shared/contract';
import type { Log } from '../functions/shared/logger';
import type { ApiHandler, Invocation } from './api-gateway/invocation';
import { answer, type GatewaySettings } from './api-gateway/serve';

export type { ApiHandler } from './api-gateway/invocation';

/**
 * A local stand-in for the deployed REST API (API Gateway v1, Lambda proxy integration, payload format
 * 1.0): it turns each HTTP request into the event API Gateway would send the api Lambda, and the Lambda's
 * result back into an HTTP response, so `npm start` runs the api handler unchanged. The request's way
 * through is in api-gateway/ (routes, proxy event, invocation, proxy result, the gateway's own errors).
 *
 * There is no authorization here. The deployed API requires IAM (SigV4) on every route; locally the port
 * is bound to 127.0.0.1 only, so nothing beyond this machine can reach it.
 */

export interface LocalApiGatewayOptions {
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly handler: ApiHandler;
  /** The handler of the routes that stream (STREAMED_ROUTES); without it they are buffered too. */
  readonly streamingHandler?: StreamingHandler;
  /**
   * Request bodies whose Content-Type matches one of these reach the handler base64-encoded, as the
   * deployed API's `binaryMediaTypes` make API Gateway do. `type/*` and `*\/*` wildcards work.
   * @default BINARY_MEDIA_TYPES (functions/shared/contract.ts), as the stack sets them
   */
  readonly binaryMediaTypes?: readonly string[];
  /**
   * Requests are accepted with and without this prefix (`/voices` and `/v1/voices`); the event's
   * `requestContext.path` always carries it, as on the deployed stage.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * API Gateway's integration timeout: a handler that takes longer gets a 504 (and keeps running).
   * @default API_GATEWAY_TIMEOUT_MS (29 s)
   */
  readonly timeoutMs?: number;
  /**
   * API Gateway's payload limit: a larger request body gets a 413 without invoking the handler.
   * @default 10 MiB
   */
  readonly maxBodyBytes?: number;
  /** @default warnings and errors as JSON lines on stderr */
  readonly log?: Log;
}

export interface LocalApiGateway {
  /** `http://127.0.0.1:<port>`, without the stage prefix. */
  readonly url: string;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export async function startLocalApiGateway(options: LocalApiGatewayOptions): Promise<LocalApiGateway> {
  const settings: GatewaySettings = {
    handler: options.handler,
    streamingHandler: options.streamingHandler,
    binaryMediaTypes: options.binaryMediaTypes ?? BINARY_MEDIA_TYPES,
    stageName: options.stageName ?? 'v1',
    timeoutMs: options.timeoutMs ?? API_GATEWAY_TIMEOUT_MS,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    log: options.log ?? stderrLog,
    pending: new Set<Invocation>(),
    warnedAboutBinaryAccept: false,
    port: 0,
  };
  const server = createServer((request, response) => answer(settings, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the local API has no authentication.
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  settings.port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${settings.port}`,
    close: async () => {
      // A request still waiting for its handler holds a timer that would keep the process alive for up to
      // timeoutMs after close.
      for (const invocation of settings.pending) clearTimeout(invocation.timer);
      settings.pending.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() alone waits for requests in flight, and a handler may never answer.
      server.closeAllConnections();
      await closed;
    },
  };
}

const stderrLog: Log = {
  debug() {},
  info() {},
  warn: (message, attributes) => writeStderr('WARN', message, attributes),
  error: (message, attributes) => writeStderr('ERROR', message, attributes),
};

function writeStderr(level: string, message: string, attributes?: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ level, message, ...attributes })}\n`);
}
