/**
 * Checks local audio files against a provider's cloning rules, with the same code the clone Lambda runs.
 *
 *   npm run --silent validate -- [--provider smallest|typecast] [--json] FILE...
 *
 * Exit status: 0 when every file passes, 1 when any fails, 2 on a usage error.
 */

import { parse, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileByteSource } from '../functions/shared/audio/sources';
import { isProviderName, PROVIDER_NAMES } from '../functions/shared/providers/types';
import type { ValidationReport } from '../functions/shared/validation/types';
import { validateSource } from '../functions/shared/validation/validate';

const USAGE = `Usage: npm run --silent validate -- [--provider ${PROVIDER_NAMES.join('|')}] [--json] FILE...

Checks each audio file against the provider's voice-cloning rules (format from the bytes, size,
duration, name). The voice name is the file name without its extension.

  --provider NAME  provider whose rules apply (default: $DEFAULT_PROVIDER, else smallest)
  --json           one JSON object per line instead of a table
  -h, --help       show this help

Exit status: 0 when every file passes, 1 when any fails, 2 on a usage error.`;

class UsageError extends Error {}

interface FileVerdict {
  readonly file: string;
  readonly report: ValidationReport;
}

function chooseProvider(flag: string | undefined): string {
  const fromEnvironment = process.env.DEFAULT_PROVIDER?.trim();
  const provider = flag ?? (fromEnvironment || 'smallest');
  if (!isProviderName(provider)) {
    const where = flag === undefined ? 'DEFAULT_PROVIDER' : '--provider';
    throw new UsageError(`${where} is "${provider}"; expected one of: ${PROVIDER_NAMES.join(', ')}.`);
  }
  return provider;
}

// `npm run` starts scripts in the package root; INIT_CWD is where the user typed the command.
const workingDirectory = process.env.INIT_CWD ?? process.cwd();

async function validateFile(file: string, provider: string): Promise<FileVerdict> {
  try {
    const source = await fileByteSource(resolve(workingDirectory, file));
    const { report } = await validateSource(source, {
      provider,
      displayName: parse(file).name,
      options: {},
      // A local file costs nothing to read: an oversize one still gets every verdict its bytes allow.
      oversize: 'whole',
    });
    return { file, report };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      file,
      report: {
        ok: false,
        provider,
        format: null,
        durationSec: null,
        sampleRate: null,
        channels: null,
        sizeBytes: 0,
        errors: [{ code: 'unreadable_audio', message: `cannot read file: ${reason}` }],
      },
    };
  }
}

/** The --json line: exactly these keys, in this order. */
function jsonLine({ file, report }: FileVerdict): string {
  return JSON.stringify({
    file,
    provider: report.provider,
    ok: report.ok,
    format: report.format,
    durationSec: report.durationSec === null ? null : Math.round(report.durationSec * 1000) / 1000,
    sampleRate: report.sampleRate,
    channels: report.channels,
    sizeBytes: report.sizeBytes,
    errors: report.errors.map(({ code, message }) => ({ code, message })),
  });
}

function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function humanChannels(channels: number | null): string {
  if (channels === null) return '-';
  return channels === 1 ? 'mono' : channels === 2 ? 'stereo' : `${channels} ch`;
}

function table(verdicts: readonly FileVerdict[]): string {
  const header = ['FILE', 'FORMAT', 'DURATION', 'RATE', 'CHANNELS', 'SIZE', 'VERDICT'];
  const rows = verdicts.map(({ file, report }) => [
    file,
    report.format ?? '-',
    report.durationSec === null ? '-' : `${report.durationSec.toFixed(2)} s`,
    report.sampleRate === null ? '-' : `${report.sampleRate} Hz`,
    humanChannels(report.channels),
    humanSize(report.sizeBytes),
    report.ok ? 'ok' : report.errors.map((issue) => `${issue.code}: ${issue.message}`).join(' | '),
  ]);
  const all = [header, ...rows];
  // Every column but the last (free text) is padded to its widest cell.
  const widths = header.map((_, column) => Math.max(...all.map((row) => [...(row[column] ?? '')].length)));
  const rightAligned = new Set([2, 3, 5]);
  return all
    .map((row) =>
      row
        .map((cell, column) => {
          if (column === row.length - 1) return cell;
          const width = widths[column] ?? 0;
          return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
        })
        .join('  '),
    )
    .join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let values: { provider?: string; json?: boolean; help?: boolean };
  let files: string[];
  let provider: string;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: {
        provider: { type: 'string', short: 'p' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    values = parsed.values;
    files = parsed.positionals;
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    provider = chooseProvider(values.provider);
    if (files.length === 0) throw new UsageError('No files given.');
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    return 2;
  }

  const verdicts: FileVerdict[] = [];
  for (const file of files) {
    const verdict = await validateFile(file, provider);
    verdicts.push(verdict);
    // JSON lines go out as they are ready; the table needs every row to align.
    if (values.json) process.stdout.write(`${jsonLine(verdict)}\n`);
  }
  if (!values.json) process.stdout.write(`${table(verdicts)}\n`);
  return verdicts.every((verdict) => verdict.report.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
