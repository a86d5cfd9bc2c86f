import { isAbsolute, relative, resolve } from 'node:path';
import { errorMessage } from '../functions/shared/errors';
import { parseCommand, plural, print, runCommand, usageError } from './command-line';

const USAGE = `Usage:
  npm run redrive -- [--webhooks] [--stack NAME] [--region REGION] [--dry-run | --status]
  npm run redrive -- --local [--webhooks] [--data-dir DIR] [--dry-run | --status]

Moves dead-lettered uploads back to the clone queue, where they are processed again (a voice that says
\`failed\` with error.retryable is taken up again). With --webhooks, moves dead-lettered webhooks back to
the webhook queue instead: each is delivered again under its webhook-id, with another 24 hours of retries.

AWS (default): finds the queues from the stack's outputs (default stack Voicedrop), reports the
dead-letter queue's approximate size and starts an SQS move task from it to its queue.
  --status    list the dead-letter queue's move tasks and their progress
  --dry-run   only report what would move
Local (--local): moves <data-dir>/dead-letters.jsonl (default .voicedrop) into <data-dir>/redrive/, or
with --webhooks <data-dir>/webhook-dead-letters.jsonl into <data-dir>/webhook-redrive/; local mode
(npm start) sends those messages again, at once if it is running, else when it next starts.`;

async function main(): Promise<number> {
  const parsed = parseCommand(USAGE, {
    'dry-run': { type: 'boolean' },
    status: { type: 'boolean' },
    webhooks: { type: 'boolean' },
  });
  if (!parsed.ok) return parsed.exitCode;
  const { values, where } = parsed;
  if (values['dry-run'] && values.status)
    return usageError(USAGE, '--dry-run and --status do not go together');
  const mode = values.status ? 'status' : values['dry-run'] ? 'dry-run' : 'start';
  const target = values.webhooks ? 'webhooks' : 'clone';
  return where.local
    ? redriveLocal(where.dataDir, mode, target)
    : redriveAws(where.stack, where.region, mode, target);
}

async function redriveLocal(
  dataDir: string,
  mode: 'start' | 'dry-run' | 'status',
  target: 'clone' | 'webhooks',
): Promise<number> {
  const {
    deadLetterFile: deadLetterFileOf,
    localDeadLetterStatus,
    redriveFolder,
    redriveLocalDeadLetters,
  } = await import('../local/redrive');
  const shown = (path: string) => {
    const nearby = relative(process.cwd(), path);
    return nearby.startsWith('..') || isAbsolute(nearby) ? resolve(path) : nearby || '.';
  };
  const deadLetterFile = shown(deadLetterFileOf(dataDir, target));
  const list = (letters: Awaited<ReturnType<typeof redriveLocalDeadLetters>>['letters']) => {
    for (const letter of letters) {
      print(`  ${letter.summary}  (${letter.receiveCount} deliveries; dead-lettered ${letter.at})`);
    }
  };

  if (mode === 'status') {
    const status = await localDeadLetterStatus(dataDir, target);
    print(`${plural(status.waiting.length, 'dead letter')} in ${deadLetterFile}`);
    list(status.waiting);
    if (status.redriving > 0) {
      print(
        `${plural(status.redriving, 'redriven message')} waiting in ${shown(redriveFolder(dataDir, target))} for local mode (npm start) to send them again.`,
      );
    }
    return 0;
  }
  const result = await redriveLocalDeadLetters({ dataDir, target, dryRun: mode === 'dry-run' });
  if (result.moved === 0) {
    print(`No dead letters in ${deadLetterFile}: nothing to redrive.`);
    return 0;
  }
  if (mode === 'dry-run') {
    print(`Dry run: would move ${plural(result.moved, 'dead letter')} from ${deadLetterFile}:`);
    list(result.letters);
    return 0;
  }
  print(`Moved ${plural(result.moved, 'dead letter')} to ${shown(result.file ?? '')}:`);
  list(result.letters);
  if (result.unreadable > 0) print(`(${result.unreadable} of them unreadable; local mode keeps those aside)`);
  const queue = target === 'clone' ? 'the clone queue' : 'the webhook outbox';
  print(
    `Local mode sends them back to ${queue}: at once if it is running, else when it next starts (npm start -- --data-dir ${dataDir}).`,
  );
  print(
    target === 'clone'
      ? 'Each upload is processed again; voices that say `failed` (retryable) become `ready` or get a new reason.'
      : 'Each webhook is delivered again under its webhook-id, to the --webhook URL of the same position (endpoint-N).',
  );
  return 0;
}

async function redriveAws(
  stack: string | undefined,
  regionOption: string | undefined,
  mode: 'start' | 'dry-run' | 'status',
  target: 'clone' | 'webhooks',
): Promise<number> {
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const { DEFAULT_STACK_NAME } = await import('./aws/stack');
  const { explainAwsError, runAwsRedrive } = await import('./redrive/aws');
  const config = regionOption ? { region: regionOption } : {};
  const clients = { cloudFormation: new CloudFormationClient(config), sqs: new SQSClient(config) };
  let region: string | undefined;
  try {
    region = await clients.sqs.config.region();
    await runAwsRedrive(clients, { stackName: stack ?? DEFAULT_STACK_NAME, mode, target, print, region });
    return 0;
  } catch (error) {
    const explained = explainAwsError(error, { region });
    const name = error instanceof Error ? error.name : 'Error';
    const message = errorMessage(error);
    process.stderr.write(`redrive: ${explained ?? `${name}: ${message}`}\n`);
    return 1;
  } finally {
    clients.cloudFormation.destroy();
    clients.sqs.destroy();
  }
}

runCommand('redrive', main);
