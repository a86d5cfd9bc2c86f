import { deref, isObject, type JsonObject } from './openapi-support';

/**
 * The JSON Schema 2020-12 keywords the generated schemas use, with their standard meaning (lengths in code
 * points, patterns as Unicode regular expressions). Any other keyword fails the test: an unknown keyword
 * silently ignored would make agreement meaningless.
 */
export function schemaFailures(doc: JsonObject, rawSchema: unknown, value: unknown, where = '#'): string[] {
  const schema = deref(doc, rawSchema);
  if (schema === true) return [];
  if (schema === false) return [`${where}: nothing is allowed`];
  if (!isObject(schema)) throw new Error(`${where}: not a schema`);
  const failures: string[] = [];
  const fail = (message: string) => failures.push(`${where}: ${message}`);
  const typeOf = (candidate: unknown) =>
    candidate === null ? 'null' : Array.isArray(candidate) ? 'array' : typeof candidate;
  const sub = (subschema: unknown, subvalue: unknown, at: string) =>
    schemaFailures(doc, subschema, subvalue, at);

  for (const [keyword, argument] of Object.entries(schema)) {
    switch (keyword) {
      case 'description':
      case 'default':
      case 'title':
        break;
      case 'type': {
        const types = ([] as unknown[]).concat(argument);
        const actual = typeOf(value);
        const ok = types.some(
          (type) =>
            type === actual || (type === 'integer' && typeof value === 'number' && Number.isInteger(value)),
        );
        if (!ok) fail(`is ${actual}, not ${types.join('|')}`);
        break;
      }
      case 'enum':
        if (!(argument as unknown[]).some((option) => JSON.stringify(option) === JSON.stringify(value))) {
          fail('not one of the enum');
        }
        break;
      case 'const':
        if (JSON.stringify(argument) !== JSON.stringify(value)) fail('not the const');
        break;
      case 'minimum':
        if (typeof value === 'number' && value < (argument as number)) fail(`below ${argument}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (argument as number)) fail(`above ${argument}`);
        break;
      case 'exclusiveMinimum':
        if (typeof value === 'number' && value <= (argument as number)) fail(`not above ${argument}`);
        break;
      case 'exclusiveMaximum':
        if (typeof value === 'number' && value >= (argument as number)) fail(`not below ${argument}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (argument as number)) fail('too short');
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > (argument as number)) fail('too long');
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(argument as string, 'u').test(value))
          fail(`not /${argument}/`);
        break;
      case 'properties':
        if (isObject(value)) {
          for (const [name, subschema] of Object.entries(argument as JsonObject)) {
            if (Object.hasOwn(value, name)) failures.push(...sub(subschema, value[name], `${where}/${name}`));
          }
        }
        break;
      case 'required':
        if (isObject(value)) {
          for (const name of argument as string[])
            if (!Object.hasOwn(value, name)) fail(`${name} is missing`);
        }
        break;
      case 'additionalProperties':
        if (isObject(value)) {
          const known = isObject(schema.properties) ? schema.properties : {};
          for (const [name, property] of Object.entries(value)) {
            if (!Object.hasOwn(known, name)) failures.push(...sub(argument, property, `${where}/${name}`));
          }
        }
        break;
      case 'propertyNames':
        if (isObject(value))
          for (const name of Object.keys(value)) failures.push(...sub(argument, name, where));
        break;
      case 'items':
        if (Array.isArray(value)) {
          for (const [index, entry] of value.entries())
            failures.push(...sub(argument, entry, `${where}/${index}`));
        }
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < (argument as number)) fail('too few items');
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > (argument as number)) fail('too many items');
        break;
      case 'allOf':
        for (const subschema of argument as unknown[]) failures.push(...sub(subschema, value, where));
        break;
      case 'anyOf':
        if (!(argument as unknown[]).some((subschema) => sub(subschema, value, where).length === 0)) {
          fail('matches none of anyOf');
        }
        break;
      case 'oneOf':
        if (
          (argument as unknown[]).filter((subschema) => sub(subschema, value, where).length === 0).length !==
          1
        ) {
          fail('does not match exactly one of oneOf');
        }
        break;
      case 'not':
        if (sub(argument, value, where).length === 0) fail('matches "not"');
        break;
      default:
        throw new Error(`${where}: the test's validator does not know the keyword "${keyword}"`);
    }
  }
  return failures;
}
