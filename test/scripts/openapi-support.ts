import { buildOpenApiDocument } from '../../scripts/openapi/document';

/** What the OpenAPI tests share: the fresh document, references into it, and a structural check. */

export type JsonObject = Record<string, unknown>;

/** The fresh document as JSON would carry it (no `undefined`s). */
export const document = JSON.parse(JSON.stringify(buildOpenApiDocument())) as JsonObject;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function objectAt(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw new Error(`${what} is not an object`);
  return value;
}

/** Resolves a local reference (`#/a/b~1c`) in `doc`; undefined when it points at nothing. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  const tokens = ref === '#' ? [] : ref.slice(2).split('/');
  let node: unknown = doc;
  for (const token of tokens) {
    const key = decodeURIComponent(token).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

export function deref(doc: JsonObject, value: unknown): unknown {
  let node = value;
  for (let hops = 0; isObject(node) && typeof node.$ref === 'string'; hops += 1) {
    if (hops > 20) throw new Error(`reference loop at ${node.$ref}`);
    node = resolvePointer(doc, node.$ref);
  }
  return node;
}

export function operationsOf(doc: JsonObject): { path: string; method: string; operation: JsonObject }[] {
  const paths = isObject(doc.paths) ? doc.paths : {};
  return Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => isObject(item) && isObject(item[method])).map((method) => ({
      path,
      method,
      operation: (item as JsonObject)[method] as JsonObject,
    })),
  );
}

/**
 * The structural rules of OpenAPI 3.1 this project's document relies on; returns every problem found.
 * Not a full validator: what a mistake in the generator could plausibly break.
 */
export function openApiProblems(doc: JsonObject): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) {
    problems.push(`openapi is ${String(doc.openapi)}, not 3.1.x`);
  }
  const info = doc.info;
  if (!isObject(info) || typeof info.title !== 'string' || typeof info.version !== 'string') {
    problems.push('info needs a title and a version');
  }
  if (!isObject(doc.paths)) problems.push('paths is missing');

  // Every $ref, anywhere, resolves inside the document.
  const walk = (node: unknown, where: string) => {
    if (Array.isArray(node)) {
      for (const [index, entry] of node.entries()) walk(entry, `${where}/${index}`);
    }
    if (!isObject(node)) return;
    if ('$ref' in node) {
      if (typeof node.$ref !== 'string' || resolvePointer(doc, node.$ref) === undefined) {
        problems.push(`${where}: $ref ${String(node.$ref)} does not resolve`);
      }
    }
    for (const [key, value] of Object.entries(node)) walk(value, `${where}/${key}`);
  };
  walk(doc, '#');

  const schemes =
    isObject(doc.components) && isObject(doc.components.securitySchemes)
      ? doc.components.securitySchemes
      : {};
  const checkSecurity = (security: unknown, where: string) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) return problems.push(`${where}: security is not a list`);
    for (const requirement of security) {
      for (const name of Object.keys(objectAt(requirement, where))) {
        if (!Object.hasOwn(schemes, name)) problems.push(`${where}: security scheme ${name} is not defined`);
      }
    }
  };
  checkSecurity(doc.security, '#/security');

  const operationIds = new Map<string, string>();
  for (const [path, rawItem] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const item = objectAt(rawItem, path);
    const templated = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string));
    const itemParameters = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      if (!isObject(item[method])) continue;
      const operation = item[method];
      const where = `${method.toUpperCase()} ${path}`;
      if (typeof operation.operationId !== 'string') problems.push(`${where}: no operationId`);
      else if (operationIds.has(operation.operationId)) {
        problems.push(
          `${where}: operationId ${operation.operationId} is also ${operationIds.get(operation.operationId)}`,
        );
      } else operationIds.set(operation.operationId, where);

      const parameters = [
        ...itemParameters,
        ...(Array.isArray(operation.parameters) ? operation.parameters : []),
      ]
        .map((parameter) => deref(doc, parameter))
        .filter(isObject);
      for (const parameter of parameters) {
        if (
          typeof parameter.name !== 'string' ||
          !['query', 'header', 'path', 'cookie'].includes(String(parameter.in))
        ) {
          problems.push(`${where}: parameter ${JSON.stringify(parameter)} needs a name and a valid "in"`);
        }
        if (!('schema' in parameter) && !('content' in parameter)) {
          problems.push(`${where}: parameter ${String(parameter.name)} has neither schema nor content`);
        }
        if (parameter.in === 'path' && parameter.required !== true) {
          problems.push(`${where}: path parameter ${String(parameter.name)} must be required`);
        }
      }
      const declared = new Set(parameters.filter((p) => p.in === 'path').map((p) => String(p.name)));
      for (const name of templated)
        if (!declared.has(name)) problems.push(`${where}: {${name}} is not declared`);
      for (const name of declared)
        if (!templated.has(name)) problems.push(`${where}: ${name} is not in the path`);

      if (operation.requestBody !== undefined) {
        const body = objectAt(deref(doc, operation.requestBody), `${where} requestBody`);
        if (!isObject(body.content) || Object.keys(body.content).length === 0) {
          problems.push(`${where}: requestBody has no content`);
        }
      }
      const responses = operation.responses;
      if (!isObject(responses) || Object.keys(responses).length === 0) {
        problems.push(`${where}: no responses`);
        continue;
      }
      for (const [status, rawResponse] of Object.entries(responses)) {
        if (status !== 'default' && !/^[1-5](\d\d|XX)$/.test(status))
          problems.push(`${where}: status ${status}`);
        const response = deref(doc, rawResponse);
        if (!isObject(response) || typeof response.description !== 'string') {
          problems.push(`${where} ${status}: a response needs a description`);
        }
      }
      checkSecurity(operation.security, where);
    }
  }
  return problems;
}

export function componentSchema(name: string): JsonObject {
  return objectAt(resolvePointer(document, `#/components/schemas/${name}`), name);
}

export function operation(method: string, path: string): JsonObject {
  const found = operationsOf(document).find((entry) => entry.method === method && entry.path === path);
  if (!found) throw new Error(`no ${method} ${path}`);
  return found.operation;
}

export function responseOf(method: string, path: string, status: string): JsonObject {
  const responses = objectAt(operation(method, path).responses, 'responses');
  return objectAt(deref(document, responses[status]), `${method} ${path} ${status}`);
}
