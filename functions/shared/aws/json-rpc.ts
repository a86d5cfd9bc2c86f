import { type AwsSettings, serviceEndpoint } from './config';
import { type AwsCallOptions, awsRequest } from './http';

/** One operation of an AWS JSON-RPC service (DynamoDB, SQS, Secrets Manager). */
export interface JsonRpcCall {
  /** The signing name, e.g. `dynamodb`. */
  readonly service: string;
  /** The first label of the regional host name, e.g. `dynamodb` in `dynamodb.eu-central-1.amazonaws.com`. */
  readonly hostPrefix: string;
  /** `X-Amz-Target`, e.g. `DynamoDB_20120810.GetItem`. */
  readonly target: string;
  /** The protocol version in the content type: `application/x-amz-json-1.0` or `-1.1`. */
  readonly jsonVersion: '1.0' | '1.1';
  readonly input: object;
  /** Extra headers the service wants, e.g. SQS's `x-amzn-query-mode`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Turns wire values back into native ones while parsing the answer (DynamoDB's base64 binaries). */
  readonly reviver?: (key: string, value: unknown) => unknown;
}

/**
 * Posts `input` as JSON to the service's root path and returns the parsed answer. Fields whose value is
 * `undefined` are left out and bytes are sent as base64 (the JSON protocols' blob encoding), as the SDK
 * does. Errors come from `awsRequest`.
 */
export async function jsonRpc<Output>(
  settings: AwsSettings,
  call: JsonRpcCall,
  options: AwsCallOptions = {},
): Promise<Output> {
  const response = await awsRequest(settings, call.service, {
    method: 'POST',
    url: `${serviceEndpoint(settings, call.hostPrefix)}/`,
    headers: {
      'content-type': `application/x-amz-json-${call.jsonVersion}`,
      'x-amz-target': call.target,
      ...call.headers,
    },
    body: JSON.stringify(call.input, blobsAsBase64),
    signal: options.signal,
    timeoutMs: options.timeoutMs,
  });
  const text = await response.text();
  return (text ? JSON.parse(text, call.reviver) : {}) as Output;
}

function blobsAsBase64(_key: string, value: unknown): unknown {
  if (ArrayBuffer.isView(value))
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64');
  return value;
}
