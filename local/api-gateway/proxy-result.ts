/** The handler's proxy result checked as API Gateway checks it, and written out as the HTTP response. */
import type { ServerResponse } from 'node:http';

export interface CheckedResult {
  readonly statusCode: number;
  /** Lower-case name → the name as the handler wrote it and its values. */
  readonly headers: ReadonlyMap<string, { readonly name: string; readonly values: readonly string[] }>;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The proxy result as API Gateway would accept it, or why API Gateway would call it malformed. */
export function checkResult(result: unknown): CheckedResult | string {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    return `expected an object, got ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}`;
  }
  const candidate = result as Record<string, unknown>;
  const { statusCode, body, isBase64Encoded } = candidate;
  // Informational codes cannot be a final response here; API Gateway has no use for them either.
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 200 ||
    statusCode > 599
  ) {
    return `statusCode must be an integer from 200 to 599, got ${JSON.stringify(statusCode)}`;
  }
  if (body !== undefined && body !== null && typeof body !== 'string') {
    return `body must be a string, got ${typeof body}`;
  }
  if (isBase64Encoded !== undefined && typeof isBase64Encoded !== 'boolean') {
    return `isBase64Encoded must be a boolean, got ${typeof isBase64Encoded}`;
  }
  const text = body ?? '';
  if (isBase64Encoded === true && !(text.length % 4 === 0 && BASE64.test(text))) {
    return 'isBase64Encoded is true but body is not base64';
  }
  const headers = new Map<string, { name: string; values: string[] }>();
  const single = candidate.headers;
  if (single !== undefined && single !== null) {
    if (typeof single !== 'object' || Array.isArray(single)) return 'headers must be an object';
    for (const [name, value] of Object.entries(single)) {
      if (!isHeaderValue(value)) return `header ${name} must be a string, number or boolean`;
      headers.set(name.toLowerCase(), { name, values: [String(value)] });
    }
  }
  const multiple = candidate.multiValueHeaders;
  if (multiple !== undefined && multiple !== null) {
    if (typeof multiple !== 'object' || Array.isArray(multiple)) return 'multiValueHeaders must be an object';
    for (const [name, values] of Object.entries(multiple)) {
      if (!Array.isArray(values) || !values.every(isHeaderValue)) {
        return `multiValueHeaders.${name} must be an array of strings, numbers or booleans`;
      }
      // API Gateway merges both maps; for a name in both, the multi-value list is what goes out.
      headers.set(name.toLowerCase(), { name, values: values.map(String) });
    }
  }
  return { statusCode, headers, body: text, isBase64Encoded: isBase64Encoded === true };
}

function isHeaderValue(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** These describe the gateway's own connection to the client, so the gateway sets them, not the handler. */
const GATEWAY_OWNED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

export function writeResult(response: ServerResponse, result: CheckedResult, requestId: string): void {
  const flat: string[] = [];
  for (const [lowerName, { name, values }] of result.headers) {
    if (GATEWAY_OWNED_HEADERS.has(lowerName)) continue;
    // One header line per value: Set-Cookie values must never be joined with commas.
    for (const value of values) flat.push(name, value);
  }
  flat.push('x-amzn-RequestId', requestId);
  const bodyless = result.statusCode === 204 || result.statusCode === 304;
  const payload = bodyless
    ? Buffer.alloc(0)
    : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  if (!bodyless) flat.push('Content-Length', String(payload.length));
  response.writeHead(result.statusCode, flat);
  response.end(payload);
}
