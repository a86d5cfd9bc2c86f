import type { SweepReport } from '../functions/retention/sweep';
import { ENV } from '../functions/shared/contract';
import { errorMessage } from '../functions/shared/errors';
import { parseCommand, print, runCommand, usageError } from './command-line';

const USAGE = `Usage:
  npm run retention -- [--stack NAME] [--region REGION] [--as-of ISO-TIME] [--dry-run] [--json]
  npm run retention -- --local [--data-dir DIR] [--as-of ISO-TIME] [--dry-run] [--json]

Applies the retention schedule now (it also runs daily by itself): deletes, everywhere and with a receipt,
every voice not used for retention.unusedDays or older than retention.maxAgeDays, every voice whose
consent was revoked or expired, and the audio of rejected, failed and duplicate uploads older than
retention.rejectedDays.

AWS (default): invokes the stack's retention function (found from the stack's outputs, default stack
Voicedrop), which applies the stack's settings.
Local (--local): sweeps <data-dir> (default .voicedrop) with ${ENV.retentionUnusedDays}, ${ENV.retentionMaxAgeDays}
and ${ENV.retentionRejectedDays} from the environment, through local mode if it is running, else on the folder.
  --as-of     judge ages as if it were this time (ISO 8601), e.g. to see what a schedule will delete
  --dry-run   only report what would be deleted
  --json      print the report as JSON`;

async function main(): Promise<number> {
  const parsed = parseCommand(USAGE, {
    'as-of': { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (!parsed.ok) return parsed.exitCode;
  const { values, where } = parsed;
  const asOfText = values['as-of'] as string | undefined;
  const asOf = asOfText === undefined ? new Date() : new Date(asOfText);
  if (Number.isNaN(asOf.getTime()) || (asOfText !== undefined && !/^\d{4}-\d\d-\d\d/.test(asOfText))) {
    return usageError(
      USAGE,
      `--as-of must be an ISO 8601 time such as 2027-01-31T00:00:00Z (got "${asOfText}")`,
    );
  }
  const dryRun = values['dry-run'] === true;
  try {
    const report = where.local
      ? await sweepLocal(where.dataDir, asOf, dryRun)
      : await sweepAws(where.stack, where.region, asOf, dryRun);
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report);
    return report.failed.length > 0 ? 1 : 0;
  } catch (error) {
    const { explainAwsError } = await import('./aws/stack');
    const { RETENTION_PERMISSIONS } = await import('./retention/aws');
    const explained = explainAwsError(error, { permissions: RETENTION_PERMISSIONS });
    const name = error instanceof Error ? error.name : 'Error';
    const message = errorMessage(error);
    process.stderr.write(`retention: ${explained ?? `${name}: ${message}`}\n`);
    return 1;
  }
}

async function sweepLocal(dataDir: string, asOf: Date, dryRun: boolean): Promise<SweepReport> {
  const { runLocalRetention } = await import('../local/retention');
  const { LOCAL_BUCKET, LOCAL_TABLE } = await import('../local/pipeline');
  const quiet = {
    debug() {},
    info() {},
    warn() {},
    error: (message: string, attributes?: unknown) => {
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', message, ...(attributes as object) })}\n`);
    },
  };
  return runLocalRetention({
    dataDir,
    asOf,
    dryRun,
    environment: process.env,
    log: quiet,
    bucket: LOCAL_BUCKET,
    table: LOCAL_TABLE,
  });
}

async function sweepAws(
  stack: string | undefined,
  region: string | undefined,
  asOf: Date,
  dryRun: boolean,
): Promise<SweepReport> {
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const { LambdaClient } = await import('@aws-sdk/client-lambda');
  const { invokeRetention } = await import('./retention/aws');
  const { DEFAULT_STACK_NAME } = await import('./aws/stack');
  const config = region ? { region } : {};
  const clients = { cloudFormation: new CloudFormationClient(config), lambda: new LambdaClient(config) };
  try {
    const resolvedRegion = await clients.lambda.config.region().catch(() => region);
    return await invokeRetention(clients, {
      stackName: stack ?? DEFAULT_STACK_NAME,
      asOf,
      dryRun,
      region: resolvedRegion,
    });
  } finally {
    clients.cloudFormation.destroy();
    clients.lambda.destroy();
  }
}

function printReport(report: SweepReport & { via?: string }): void {
  const { settings } = report;
  print(
    `Retention as of ${report.asOf}${report.via ? ` (${report.via})` : ''}: unusedDays ${settings.unusedDays ?? 'off'}, maxAgeDays ${settings.maxAgeDays ?? 'off'}, rejectedDays ${settings.rejectedDays}.`,
  );
  print(
    `${report.examined} voice records examined; ${report.dryRun ? 'would delete' : 'deleted'} ${report.deleted.length}.`,
  );
  for (const entry of report.deleted)
    print(`  ${entry.voiceId}  ${entry.status} → ${entry.reason}: ${entry.because}`);
  for (const entry of report.kept) print(`  kept ${entry.voiceId}: used or changed since it was listed`);
  for (const entry of report.failed)
    print(`  FAILED ${entry.voiceId}: ${entry.error} (the next run tries again)`);
  if (!report.complete)
    print('Stopped at the per-run bound; run again (or wait for the next daily run) for the rest.');
}

runCommand('retention', main);
