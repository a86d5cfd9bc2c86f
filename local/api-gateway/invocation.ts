/**
 * The api handler called as Lambda would call it: a context with the integration's deadline, and API
 * Gateway's timeout, after which the handler runs on but its answer goes nowhere.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { StreamingHandler } from '../../functions/api/lambda-stream';
import type { Log } from '../../functions/shared/logger';
import { LOCAL_ACCOUNT_ID } from './proxy-event';

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const LOCAL_REGION = 'us-east-1';
const FUNCTION_NAME = 'voicedrop-api-local';

/** A handler call the gateway is still waiting for. */
export interface Invocation {
  readonly timer: NodeJS.Timeout;
}

export interface InvocationSettings {
  readonly handler: ApiHandler;
  /** The handler of the routes that stream (their integration's responseTransferMode is STREAM). */
  readonly streamingHandler?: StreamingHandler;
  readonly timeoutMs: number;
  readonly log: Log;
  /** The calls still waiting, so that closing the gateway can clear their timers. */
  readonly pending: Set<Invocation>;
}

export type Outcome =
  | { readonly kind: 'result'; readonly result: unknown }
  | { readonly kind: 'error'; readonly error: unknown }
  | { readonly kind: 'timeout' };

export function invoke(
  settings: InvocationSettings,
  event: APIGatewayProxyEvent,
  requestId: string,
  startedAt: number,
): Promise<Outcome> {
  const deadline = startedAt + settings.timeoutMs;
  const context = createContext(requestId, deadline);
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const timer = setTimeout(
      () => {
        settled = true;
        settings.pending.delete(invocation);
        resolve({ kind: 'timeout' });
      },
      Math.max(0, deadline - Date.now()),
    );
    const invocation: Invocation = { timer };
    settings.pending.add(invocation);
    const finish = (outcome: Outcome) => {
      if (settled) {
        // As in AWS, the function runs on after API Gateway has given up; its answer goes nowhere.
        settings.log.warn('api handler finished after the gateway timed out; its result was dropped', {
          requestId,
          afterMs: Date.now() - startedAt,
        });
        return;
      }
      settled = true;
      clearTimeout(timer);
      settings.pending.delete(invocation);
      resolve(outcome);
    };
    // Promise.resolve().then also turns a synchronous throw into a rejection.
    Promise.resolve()
      .then(() => settings.handler(event, context))
      .then(
        (result) => finish({ kind: 'result', result }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
  });
}

export function createContext(requestId: string, deadline: number): Context {
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return (or throw from) the handler's promise`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${FUNCTION_NAME}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
