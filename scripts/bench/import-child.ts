/**
 * Child process for import timing: imports the module named by argv[2] and prints one JSON line with how
 * long `await import()` took. Run directly by Node (built-in type stripping), never through tsx, so no
 * loader hook sits between the measurement and the module; it imports nothing but Node built-ins.
 */
import { pathToFileURL } from 'node:url';

const target = process.argv[2];
if (!target) throw new Error('usage: import-child.ts <module path>');

// The monotonic clock in microseconds is the one V8 stamps CPU profile samples with (on Linux), so a
// profile can be cut to exactly the import.
const startedUs = process.hrtime.bigint() / 1000n;
const started = performance.now();
const module: Record<string, unknown> = await import(pathToFileURL(target).href);
const importMs = performance.now() - started;
const finishedUs = process.hrtime.bigint() / 1000n;

const line = JSON.stringify({
  importMs,
  startedUs: Number(startedUs),
  finishedUs: Number(finishedUs),
  // performance.now() counts from the process's time origin: this is start-up plus import.
  sinceProcessStartMs: performance.now(),
  exports: Object.keys(module),
});
// A pipe is written asynchronously: exit only once the line is out, and regardless of open handles.
process.stdout.write(`${line}\n`, () => process.exit(0));
