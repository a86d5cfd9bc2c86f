import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { ReadyInfo } from '../../local/pipeline';

const require = createRequire(import.meta.url);
/**
 * As `npm start` runs it: one Node process with tsx's loader. (The tsx command would run the program in a
 * child process of its own and relay signals to it, and under load its relay gives up after 60 ms and
 * kills the program: a Ctrl-C that does not stop cleanly.)
 */
const TSX_LOADER = require.resolve('tsx');

export interface RunningLocalMode {
  readonly info: ReadyInfo;
  readonly process: ChildProcess;
  output(): string;
  /** Sends SIGINT and resolves with the exit code. */
  stop(): Promise<number | null>;
  /**
   * SIGKILL to the whole process group (tsx runs the program in a child process of its own): a crash,
   * nothing cleaned up. Resolves once the group is gone.
   */
  crash(): Promise<void>;
}

/** `npm start`'s flags for `dataDir` with every server on a free port, then `more`. */
export function onFreePorts(dataDir: string, ...more: string[]): string[] {
  return ['--data-dir', dataDir, '--s3-port', '0', '--dynamodb-port', '0', '--api-port', '0', ...more];
}

/** Starts `npm start`'s program (local/main.ts) as a child process and waits for its READY line. */
export async function startLocalMode(
  args: readonly string[],
  environment: Record<string, string | undefined> = {},
): Promise<RunningLocalMode> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, 'local/main.ts', ...args], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      ...process.env,
      SMALLEST_API_KEY: '',
      TYPECAST_API_KEY: '',
      SMALLEST_API_BASE_URL: '',
      TYPECAST_API_BASE_URL: '',
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so crash() reaches anything it started.
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (data: Buffer) => {
    stderr += data.toString();
  });
  const info = await new Promise<ReadyInfo>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no READY line within 60 s:\n${stdout}\n${stderr}`)),
      60_000,
    );
    child.stdout?.on('data', (data: Buffer) => {
      stdout += data.toString();
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('READY '));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice('READY '.length)) as ReadyInfo);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local mode exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return {
    info,
    process: child,
    output: () => `${stdout}\n${stderr}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGINT');
      }),
    crash: async () => {
      const group = -(child.pid as number);
      const exited =
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined;
      process.kill(group, 'SIGKILL');
      await exited;
      // The group is gone when signalling it fails.
      for (let tries = 0; tries < 100; tries += 1) {
        try {
          process.kill(group, 0);
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('local mode survived SIGKILL');
    },
  };
}
