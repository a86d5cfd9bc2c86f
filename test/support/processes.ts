import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');
/** The repository root: where `npm run …` scripts run. */
export const REPOSITORY_ROOT = new URL('../..', import.meta.url).pathname;

export interface ProcessOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Everything a child process writes, and its exit code, once it has closed. */
export function outputOf(child: ChildProcess): Promise<ProcessOutput> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => {
    stdout += data.toString();
  });
  child.stderr?.on('data', (data: Buffer) => {
    stderr += data.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** One of the repository's commands (`scripts/….ts`) as `npm run` runs it: tsx, a separate process. */
export function runScript(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ProcessOutput> {
  return outputOf(
    spawn(process.execPath, [TSX_CLI, script, ...args], {
      cwd: REPOSITORY_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}
