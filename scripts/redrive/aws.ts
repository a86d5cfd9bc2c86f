import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

import { errorMessage } from '../../functions/shared/errors';
import {
  CommandError,
  errorName,
  explainAwsError as explainAnyAwsError,
  requireOutputs,
  stackOutputs,
} from '../aws/stack';

/** What redriving needs, for an access-denied answer. */
const PERMISSIONS =
  'cloudformation:DescribeStacks on the stack; sqs:GetQueueAttributes on both queues; sqs:ListMessageMoveTasks, sqs:StartMessageMoveTask, sqs:ReceiveMessage and sqs:DeleteMessage on the dead-letter queue; sqs:SendMessage on the queue they go back to (the clone queue, or the webhook queue).';

export interface RedriveClients {
  readonly cloudFormation: CloudFormationClient;
  readonly sqs: SQSClient;
}

/** Which dead letters a redrive moves: uploads back to the clone queue, or webhooks back to theirs. */
export type RedriveTarget = 'clone' | 'webhooks';

interface QueuePair {
  /** The stack outputs naming the dead-letter queue and the queue its messages go back to. */
  readonly deadLetterOutput: string;
  readonly destinationOutput: string;
  /** How the destination is called in what the command prints. */
  readonly destinationName: string;
  /** What happens to a moved message. */
  readonly afterwards: string;
}

const QUEUE_PAIRS: Record<RedriveTarget, QueuePair> = {
  clone: {
    deadLetterOutput: 'DeadLetterQueueUrl',
    destinationOutput: 'CloneQueueUrl',
    destinationName: 'clone queue',
    afterwards:
      'Each upload is processed again; voices that say `failed` (retryable) become `ready`, or `failed` with a new reason.',
  },
  webhooks: {
    deadLetterOutput: 'WebhookDeadLetterQueueUrl',
    destinationOutput: 'WebhookQueueUrl',
    destinationName: 'webhook queue',
    afterwards:
      'Each webhook is delivered again under its webhook-id (receivers that dedupe see it once), and retried for another 24 hours.',
  },
};

export interface StackQueues {
  readonly stackName: string;
  readonly target: RedriveTarget;
  /** The queue the dead letters go back to (the clone queue, or the webhook queue). */
  readonly destinationQueueUrl: string;
  readonly destinationQueueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  /** ApproximateNumberOfMessages of the dead-letter queue. */
  readonly deadLetters: number;
  /** ApproximateNumberOfMessagesNotVisible: being read (by a move task, or by hand). */
  readonly deadLettersInFlight: number;
}

export type AwsRedriveMode = 'start' | 'dry-run' | 'status';

export interface AwsRedriveResult {
  readonly queues: StackQueues;
  /** The move task started (mode `start`, when there was something to move). */
  readonly taskHandle?: string;
  readonly tasks: readonly ListMessageMoveTasksResultEntry[];
}

/**
 * `npm run redrive`: finds the stack's queues from its outputs, reports the dead letters, and (unless a dry
 * run or a status request) starts an SQS message move task from the dead-letter queue to the queue its
 * messages came from. For the clone queue (the default), the clone function takes each upload up once more
 * (a `failed` record with `error.retryable` is processed again); for the webhook queue (`--webhooks`), the
 * webhook function delivers each event again under the same webhook-id (it is the event's id).
 */
export async function runAwsRedrive(
  clients: RedriveClients,
  options: {
    readonly stackName: string;
    readonly mode: AwsRedriveMode;
    /** Default `clone`. */
    readonly target?: RedriveTarget;
    readonly print: (line: string) => void;
    /** For messages only (the clients carry the region they use). */
    readonly region?: string;
  },
): Promise<AwsRedriveResult> {
  const { print } = options;
  const pair = QUEUE_PAIRS[options.target ?? 'clone'];
  const queues = await findStackQueues(clients, options.stackName, options.region, options.target);
  printQueues(queues, pair.destinationName, options);

  const tasks = await listMoveTasks(clients.sqs, queues.deadLetterQueueArn);
  const running = tasks.find((task) => task.Status === 'RUNNING');

  if (options.mode === 'status') {
    if (tasks.length === 0)
      print('No move tasks on the dead-letter queue (SQS keeps the last 10 for 14 days).');
    else print('Move tasks from the dead-letter queue, newest first:');
    for (const task of tasks) print(`  ${describeTask(task)}`);
    return { queues, tasks };
  }

  const total = queues.deadLetters + queues.deadLettersInFlight;
  if (options.mode === 'dry-run') {
    if (running) {
      print(`Dry run: ${alreadyRunning(running).message}`);
      return { queues, tasks };
    }
    print(
      `Dry run: would start a move task of ${plural(total, 'message')} from ${queues.deadLetterQueueArn} to ${queues.destinationQueueArn}.`,
    );
    return { queues, tasks };
  }
  if (running) throw alreadyRunning(running);
  if (total === 0) {
    print('The dead-letter queue is empty: nothing to redrive.');
    return { queues, tasks };
  }

  const taskHandle = await startMoveTask(clients.sqs, queues);
  print(`Started moving about ${plural(total, 'message')} back to the ${pair.destinationName}.`);
  print(`  task handle: ${taskHandle ?? '(none returned)'}`);
  print(`  progress:    npm run redrive -- ${options.target === 'webhooks' ? '--webhooks ' : ''}--status`);
  print(pair.afterwards);
  return { queues, tasks, taskHandle };
}

/** The stack, its dead-letter queue (and about how many messages wait there) and their destination. */
function printQueues(
  queues: StackQueues,
  destinationName: string,
  options: { readonly print: (line: string) => void; readonly region?: string },
): void {
  const { print } = options;
  print(`Stack ${queues.stackName}${options.region ? ` (${options.region})` : ''}`);
  print(
    `  dead-letter queue: ${queues.deadLetterQueueUrl}  about ${plural(queues.deadLetters, 'message')}` +
      (queues.deadLettersInFlight > 0 ? ` (+${queues.deadLettersInFlight} in flight)` : ''),
  );
  print(`  ${`${destinationName}:`.padEnd(18)} ${queues.destinationQueueUrl}`);
}

/** Starts the move from the dead-letter queue to its destination; its task handle. */
async function startMoveTask(sqs: RedriveClients['sqs'], queues: StackQueues): Promise<string | undefined> {
  try {
    const started = await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: queues.deadLetterQueueArn,
        DestinationArn: queues.destinationQueueArn,
      }),
    );
    return started.TaskHandle;
  } catch (error) {
    // Another redrive may have started between the listing above and this request.
    if (isAlreadyRunning(error)) {
      const again = await listMoveTasks(sqs, queues.deadLetterQueueArn).catch(() => []);
      throw alreadyRunning(again.find((task) => task.Status === 'RUNNING'));
    }
    throw error;
  }
}

/**
 * The stack outputs naming the dead-letter queue and its destination (CloneQueueUrl and DeadLetterQueueUrl,
 * or WebhookQueueUrl and WebhookDeadLetterQueueUrl), with both queues' ARNs and the DLQ's size.
 */
export async function findStackQueues(
  clients: RedriveClients,
  stackName: string,
  region?: string,
  target: RedriveTarget = 'clone',
): Promise<StackQueues> {
  const pair = QUEUE_PAIRS[target];
  const outputs = requireOutputs(
    await stackOutputs(clients.cloudFormation, stackName, region),
    [pair.destinationOutput, pair.deadLetterOutput],
    stackName,
  );
  const destinationQueueUrl = outputs[pair.destinationOutput] as string;
  const deadLetterQueueUrl = outputs[pair.deadLetterOutput] as string;
  const [deadLetters, destination] = await Promise.all([
    clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: deadLetterQueueUrl,
        AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    ),
    clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: destinationQueueUrl, AttributeNames: ['QueueArn'] }),
    ),
  ]);
  const deadLetterQueueArn = deadLetters.Attributes?.QueueArn;
  const destinationQueueArn = destination.Attributes?.QueueArn;
  if (!deadLetterQueueArn || !destinationQueueArn) {
    throw new CommandError('SQS did not return the queues’ ARNs (GetQueueAttributes QueueArn).');
  }
  return {
    stackName,
    target,
    destinationQueueUrl,
    destinationQueueArn,
    deadLetterQueueUrl,
    deadLetterQueueArn,
    deadLetters: Number(deadLetters.Attributes?.ApproximateNumberOfMessages ?? 0),
    deadLettersInFlight: Number(deadLetters.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/**
 * A sentence for an AWS error a person can fix (credentials, region, permissions, a queue that is gone);
 * undefined for others.
 */
export function explainAwsError(error: unknown, context: { readonly region?: string }): string | undefined {
  const name = errorName(error);
  if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') {
    return `A queue named in the stack outputs does not exist${context.region ? ` in ${context.region}` : ''}: ${errorMessage(error)}`;
  }
  return explainAnyAwsError(error, { ...context, permissions: PERMISSIONS });
}

export function describeTask(task: ListMessageMoveTasksResultEntry): string {
  const started = task.StartedTimestamp ? new Date(task.StartedTimestamp).toISOString() : 'unknown time';
  const toMove = task.ApproximateNumberOfMessagesToMove;
  const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
  const progress = toMove === undefined ? `${moved} moved` : `${moved} of ${toMove} moved`;
  const parts = [`${(task.Status ?? 'UNKNOWN').padEnd(10)} started ${started}, ${progress}`];
  if (task.DestinationArn) parts.push(`to ${task.DestinationArn}`);
  if (task.TaskHandle) parts.push(`task handle ${task.TaskHandle}`);
  if (task.FailureReason) parts.push(`failure: ${task.FailureReason}`);
  return parts.join('; ');
}

async function listMoveTasks(sqs: SQSClient, sourceArn: string): Promise<ListMessageMoveTasksResultEntry[]> {
  const listed = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
  return [...(listed.Results ?? [])].sort((a, b) => (b.StartedTimestamp ?? 0) - (a.StartedTimestamp ?? 0));
}

function alreadyRunning(task: ListMessageMoveTasksResultEntry | undefined): CommandError {
  const detail = task ? ` (${describeTask(task)})` : '';
  const cancel = task?.TaskHandle
    ? `, or cancel it: aws sqs cancel-message-move-task --task-handle ${task.TaskHandle}`
    : '';
  return new CommandError(
    `A move task is already running on the dead-letter queue${detail}. SQS runs one at a time: wait for it (npm run redrive -- --status)${cancel}.`,
  );
}

function isAlreadyRunning(error: unknown): boolean {
  return (
    ['UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', 'InvalidParameterValue'].includes(
      errorName(error),
    ) && /already|running|active|in progress/i.test(errorMessage(error))
  );
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
