/**
 * Checks local audio files against a provider's cloning rules, with the same code the clone Lambda runs.
 *
 *   npm run --silent validate -- [--provider smallest|typecast] [--trim] [--json] [threshold flags] FILE...
 *
 * Exit status: 0 when every file passes, 1 when any fails, 2 on a usage error.
 */

import { parse, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileByteSource } from '../functions/shared/audio/sources';
import { ENV } from '../functions/shared/contract';
import { errorMessage } from '../functions/shared/errors';
import { isProviderName, PROVIDER_NAMES } from '../functions/shared/providers/types';
import {
  DEFAULT_QUALITY_THRESHOLDS,
  parseQualityThresholds,
  QUALITY_THRESHOLD_NAMES,
  type QualityThresholds,
} from '../functions/shared/validation/quality-rules';
import type { ValidationReport } from '../functions/shared/validation/types';
import { validateSource } from '../functions/shared/validation/validate';

const THRESHOLD_FLAGS = Object.values(QUALITY_THRESHOLD_NAMES)
  .map(
    ({ flag, env }) =>
      `  --${flag} N`.padEnd(33) +
      `(default: $${env}, else ${DEFAULT_QUALITY_THRESHOLDS[thresholdKeyOfFlag(flag)]})`,
  )
  .join('\n');

const USAGE = `Usage: npm run --silent validate -- [--provider ${PROVIDER_NAMES.join('|')}] [--trim] [--json] FILE...

Checks each audio file against the provider's voice-cloning rules (format from the bytes, size,
duration, name) and its speech quality (silence, level, clipping, seconds of speech). The voice name is
the file name without its extension.

  --provider NAME                provider whose rules apply (default: $${ENV.defaultProvider}, else smallest)
  --trim                         judge what trim=auto would send: the best window of speech
  --json                         one JSON object per line instead of a table
${THRESHOLD_FLAGS}
  -h, --help                     show this help

Exit status: 0 when every file passes, 1 when any fails, 2 on a usage error.`;

class UsageError extends Error {}

interface FileVerdict {
  readonly file: string;
  readonly report: ValidationReport;
}

function chooseProvider(flag: string | undefined): string {
  const fromEnvironment = process.env[ENV.defaultProvider]?.trim();
  const provider = flag ?? (fromEnvironment || 'smallest');
  if (!isProviderName(provider)) {
    const where = flag === undefined ? ENV.defaultProvider : '--provider';
    throw new UsageError(`${where} is "${provider}"; expected one of: ${PROVIDER_NAMES.join(', ')}.`);
  }
  return provider;
}

// `npm run` starts scripts in the package root; INIT_CWD is where the user typed the command.
const workingDirectory = process.env.INIT_CWD ?? process.cwd();

function thresholdKeyOfFlag(flag: string): keyof QualityThresholds {
  const entry = Object.entries(QUALITY_THRESHOLD_NAMES).find(([, names]) => names.flag === flag);
  return entry?.[0] as keyof QualityThresholds;
}

interface CheckSettings {
  readonly provider: string;
  readonly trim: boolean;
  readonly quality: QualityThresholds;
}

async function validateFile(file: string, { provider, trim, quality }: CheckSettings): Promise<FileVerdict> {
  try {
    const source = await fileByteSource(resolve(workingDirectory, file));
    const { report } = await validateSource(source, {
      provider,
      displayName: parse(file).name,
      options: trim ? { trim: 'auto' } : {},
      quality,
      // A local file costs nothing to read: an oversize one still gets every verdict its bytes allow.
      oversize: 'whole',
    });
    return { file, report };
  } catch (error) {
    const reason = errorMessage(error);
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
        quality: null,
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
    quality: report.quality,
    ...(report.trimmed ? { trimmed: report.trimmed } : {}),
    ...(report.trimSkipped ? { trimSkipped: report.trimSkipped } : {}),
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
  let values: { provider?: string; json?: boolean; help?: boolean; trim?: boolean } & Record<string, unknown>;
  let files: string[];
  let settings: CheckSettings;
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: {
        provider: { type: 'string', short: 'p' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        trim: { type: 'boolean' },
        ...Object.fromEntries(
          Object.values(QUALITY_THRESHOLD_NAMES).map(({ flag }) => [flag, { type: 'string' as const }]),
        ),
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
    const flagOf = (key: keyof QualityThresholds) => QUALITY_THRESHOLD_NAMES[key].flag;
    let quality: QualityThresholds;
    try {
      quality = parseQualityThresholds(
        (key) => (values[flagOf(key)] as string | undefined) ?? process.env[QUALITY_THRESHOLD_NAMES[key].env],
        (key) => `--${flagOf(key)}`,
      );
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    settings = { provider: chooseProvider(values.provider), trim: values.trim === true, quality };
    if (files.length === 0) throw new UsageError('No files given.');
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n\n${USAGE}\n`);
    return 2;
  }

  const verdicts: FileVerdict[] = [];
  for (const file of files) {
    const verdict = await validateFile(file, settings);
    verdicts.push(verdict);
    // JSON lines go out as they are ready; the table needs every row to align.
    if (values.json) process.stdout.write(`${jsonLine(verdict)}\n`);
  }
  if (!values.json) process.stdout.write(`${table(verdicts)}\n`);
  return verdicts.every((verdict) => verdict.report.ok) ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
