/**
 * What the repository's commands that work on AWS or on local mode's data folder (`npm run redrive`,
 * `npm run retention`) share: their common options and the rules between them, the usage answer, and
 * running `main` with its exit code.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { errorMessage } from '../functions/shared/errors';

/** Options every such command takes: where (a stack in AWS, or a local data folder) and `--help`. */
export const WHERE_OPTIONS = {
  stack: { type: 'string' },
  region: { type: 'string' },
  local: { type: 'boolean' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Where a command works, from its options: the stack's name and region, or the data folder. */
export type Where =
  | { readonly local: false; readonly stack?: string; readonly region?: string }
  | { readonly local: true; readonly dataDir: string };

export type ParsedCommand =
  | {
      readonly ok: true;
      readonly values: Record<string, string | boolean | undefined>;
      readonly where: Where;
    }
  | { readonly ok: false; readonly exitCode: number };

/**
 * Parses the command line with WHERE_OPTIONS and `options`; prints the usage and says which exit code to
 * end with on `--help` (0) or a mistake (2, after saying what is wrong).
 */
export function parseCommand(
  usage: string,
  options: NonNullable<ParseArgsConfig['options']>,
  argv: readonly string[] = process.argv.slice(2),
): ParsedCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: { ...WHERE_OPTIONS, ...options },
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    return { ok: false, exitCode: usageError(usage, errorMessage(error)) };
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return { ok: false, exitCode: 0 };
  }
  if (values.local && (values.stack !== undefined || values.region !== undefined)) {
    return {
      ok: false,
      exitCode: usageError(usage, '--stack and --region are for AWS; --local works on the local data folder'),
    };
  }
  if (!values.local && values['data-dir'] !== undefined) {
    return { ok: false, exitCode: usageError(usage, '--data-dir needs --local') };
  }
  const where: Where = values.local
    ? { local: true, dataDir: (values['data-dir'] as string | undefined) ?? '.voicedrop' }
    : {
        local: false,
        stack: values.stack as string | undefined,
        region: values.region as string | undefined,
      };
  return { ok: true, values, where };
}

/** Says what is wrong and how the command is used; returns the exit code 2. */
export function usageError(usage: string, problem: string): number {
  process.stderr.write(`${problem}\n\n${usage}\n`);
  return 2;
}

/**
 * Runs a command's `main` and exits with its code once what it printed is out (whatever handles are still
 * open); an unexpected failure is one line and exit code 1.
 */
export function runCommand(name: string, main: () => Promise<number>): void {
  const exit = (code: number) => process.stdout.write('', () => process.exit(code));
  main().then(exit, (error: unknown) => {
    process.stderr.write(`${name} failed: ${errorMessage(error)}\n`);
    exit(1);
  });
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
