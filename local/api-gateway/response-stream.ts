/**
 * Response streaming as API Gateway (REST, `responseTransferMode: STREAM`) and the Lambda runtime do it,
 * for the routes that stream: the handler writes a JSON prelude (status and headers), eight zero bytes,
 * then the body; the gateway answers with that status and those headers and passes the body on chunked,
 * as it arrives. A handler that fails after the prelude ends the response without its last chunk, so the
 * client sees a truncated body; a client that hangs up closes the handler's stream. The response ends
 * with the stream, not with the handler, which may go on with work it left for after the response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, type Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type {
  HttpResponseMetadata,
  ResponseStreamRuntime,
  StreamingHandler,
} from '../../functions/api/lambda-stream';
import type { Log } from '../../functions/shared/logger';
import { sendInternalError } from './gateway-errors';

const PRELUDE_END = Buffer.alloc(8);

/** The Lambda runtime's `awslambda`, as far as response streaming goes. */
export const localResponseStreamRuntime: ResponseStreamRuntime = {
  streamifyResponse: (handler) => handler,
  HttpResponseStream: {
    from(stream: Writable, metadata: HttpResponseMetadata): Writable {
      stream.write(JSON.stringify(metadata));
      stream.write(PRELUDE_END);
      return stream;
    },
  },
};

/** Runs a streaming handler for one request and relays what it writes to the client. */
export async function relayStream(options: {
  readonly handler: StreamingHandler;
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly requestId: string;
  readonly log: Log;
}): Promise<void> {
  const { response, requestId, log } = options;
  const toClient = new PassThrough();
  let prelude: Buffer = Buffer.alloc(0);
  let started = false;
  // The client hanging up closes the handler's stream, as in AWS.
  response.once('close', () => {
    if (!response.writableFinished) toClient.destroy();
  });

  toClient.on('data', (chunk: Buffer) => {
    if (started) {
      if (!response.write(chunk)) {
        toClient.pause();
        response.once('drain', () => toClient.resume());
      }
      return;
    }
    prelude = Buffer.concat([prelude, chunk]);
    const end = prelude.indexOf(PRELUDE_END);
    if (end < 0) return;
    const metadata = JSON.parse(prelude.subarray(0, end).toString('utf8')) as HttpResponseMetadata;
    started = true;
    const headers: string[] = [];
    for (const [name, value] of Object.entries(metadata.headers ?? {})) {
      if (name.toLowerCase() !== 'transfer-encoding' && name.toLowerCase() !== 'connection')
        headers.push(name, value);
    }
    headers.push('x-amzn-RequestId', requestId);
    response.writeHead(metadata.statusCode, headers);
    const rest = prelude.subarray(end + PRELUDE_END.length);
    if (rest.length > 0) response.write(rest);
  });
  const ended = new Promise<void>((resolve) => {
    toClient.once('end', resolve);
    toClient.once('close', resolve);
  });
  // The client has the whole answer when the stream ends, while the handler may still be working (work
  // it left for after the response), as in AWS.
  toClient.once('end', () => {
    if (started) response.end();
  });

  try {
    await options.handler(options.event, toClient, options.context);
    if (!toClient.writableEnded) toClient.end();
    await ended;
    if (!started) {
      log.error('streaming handler ended without a response prelude; answered 502', { requestId });
      sendInternalError(response, requestId);
      return;
    }
    if (!response.writableEnded) response.end();
  } catch (error) {
    log.error('streaming handler failed', {
      requestId,
      afterFirstByte: started,
      error: error instanceof Error ? error.message : String(error),
    });
    if (response.writableEnded) return;
    if (started || response.headersSent) response.destroy();
    else sendInternalError(response, requestId);
  }
}
