import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');
const ROOT = new URL('../..', import.meta.url).pathname;

/** `npm run redrive -- …` as a user runs it (tsx, a separate process). */
export function runRedriveCli(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [TSX_CLI, 'scripts/redrive.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => {
    stdout += data.toString();
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr += data.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
