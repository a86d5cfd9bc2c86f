import { ConfigurationError, errorMessage } from './errors';
import { isProviderName, type ProviderName } from './providers/types';

type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads environment variables once (at cold start) and fails loudly, naming every variable that is
 * missing or malformed in one message, so a misconfigured function is obvious in its first log line.
 */
export class EnvironmentReader {
  private readonly problems: string[] = [];

  constructor(private readonly environment: Environment = process.env) {}

  required(name: string): string {
    const value = this.environment[name]?.trim();
    if (!value) {
      this.problems.push(`${name} is required`);
      return '';
    }
    return value;
  }

  optional(name: string, fallback: string): string {
    const value = this.environment[name]?.trim();
    return value ? value : fallback;
  }

  positiveInteger(name: string, fallback: number): number {
    const raw = this.environment[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) {
      this.problems.push(`${name} must be a positive whole number (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  provider(name: string, fallback: ProviderName): ProviderName {
    const raw = this.optional(name, fallback);
    if (!isProviderName(raw)) {
      this.problems.push(`${name} must be "smallest" or "typecast" (got "${raw}")`);
      return fallback;
    }
    return raw;
  }

  url(name: string, fallback: string): string {
    const raw = this.optional(name, fallback);
    try {
      const url = new URL(raw);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      this.problems.push(`${name} must be an http(s) URL (got "${raw}")`);
    }
    return raw.replace(/\/+$/, '');
  }

  /** One of `values` (case-insensitive), else the fallback. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.optional(name, fallback).toLowerCase();
    if ((values as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(
      `${name} must be one of ${values.map((value) => `"${value}"`).join(', ')} (got "${raw}")`,
    );
    return fallback;
  }

  /** Settings read by a parser of their own: its error joins the others. */
  parsed<T>(parse: (read: (name: string) => string | undefined) => T, fallback: T): T {
    try {
      return parse((name) => this.environment[name]);
    } catch (error) {
      this.problems.push(errorMessage(error));
      return fallback;
    }
  }

  /** Throws one ConfigurationError listing every problem found so far. */
  done(): void {
    if (this.problems.length > 0) {
      throw new ConfigurationError(`Invalid configuration: ${this.problems.join('; ')}.`);
    }
  }
}
