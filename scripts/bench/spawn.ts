import { spawn } from 'node:child_process';

export interface NodeRun {
  readonly stdout: string;
  readonly stderr: string;
  /** From spawn to exit, measured by the parent. */
  readonly wallMs: number;
}

/**
 * Runs a fresh Node process (this process's own binary: Node 24 from node_modules) and collects its output.
 * Rejects on a non-zero exit or after `timeoutMs`, with the end of stderr in the message.
 */
export function runNode(
  args: readonly string[],
  options: { readonly env: NodeJS.ProcessEnv; readonly cwd?: string; readonly timeoutMs?: number },
): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      const output = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (code === 0) {
        resolve({ ...output, wallMs });
        return;
      }
      const why = signal ? `was killed (${signal})` : `exited with ${code}`;
      reject(new Error(`node ${args.join(' ')} ${why}:\n${output.stderr.slice(-2_000)}`));
    });
  });
}

/** The last line of a child's stdout, parsed as JSON (children print their result last). */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch (error) {
    throw new Error(`expected a JSON line from the child, got: ${line.slice(0, 300)}`, { cause: error });
  }
}
