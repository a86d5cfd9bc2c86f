import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  UnsupportedOperation,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandError } from '../../scripts/aws/stack';
import { explainAwsError, runAwsRedrive } from '../../scripts/redrive/aws';

/*
 * `npm run redrive` against AWS. Neither CloudFormation nor SQS message move tasks have a local
 * implementation this project runs (local mode's queue is in-process, and the S3/DynamoDB emulators cover
 * nothing else), so these tests answer the SDK calls with aws-sdk-client-mock and check the requests.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const CLONE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Voicedrop-CloneQueue-AbC123`;
const DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Voicedrop-CloneDeadLetters-XyZ789`;
const CLONE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:Voicedrop-CloneQueue-AbC123`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:Voicedrop-CloneDeadLetters-XyZ789`;
const HANDLE = 'eyJ0YXNrSWQiOiJkYjFh…';
const WEBHOOK_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Voicedrop-WebhookQueue-Wh1`;
const WEBHOOK_DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/Voicedrop-WebhookDeadLetters-Wh2`;
const WEBHOOK_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:Voicedrop-WebhookQueue-Wh1`;
const WEBHOOK_DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:Voicedrop-WebhookDeadLetters-Wh2`;

const cloudFormation = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);
const clients = {
  cloudFormation: new CloudFormationClient({ region: REGION }),
  sqs: new SQSClient({ region: REGION }),
};

function givenStack(deadLetters = 3, inFlight = 0): void {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'Voicedrop' }).resolves({
    Stacks: [
      {
        StackName: 'Voicedrop',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        Outputs: [
          { OutputKey: 'BucketName', OutputValue: 'voicedrop-bucket' },
          { OutputKey: 'CloneQueueUrl', OutputValue: CLONE_URL },
          { OutputKey: 'DeadLetterQueueUrl', OutputValue: DLQ_URL },
          { OutputKey: 'DeadLetterQueueName', OutputValue: 'Voicedrop-CloneDeadLetters-XyZ789' },
          { OutputKey: 'WebhookQueueUrl', OutputValue: WEBHOOK_URL },
          { OutputKey: 'WebhookDeadLetterQueueUrl', OutputValue: WEBHOOK_DLQ_URL },
        ],
      },
    ],
  });
  sqs.on(GetQueueAttributesCommand, { QueueUrl: DLQ_URL }).resolves({
    Attributes: {
      QueueArn: DLQ_ARN,
      ApproximateNumberOfMessages: String(deadLetters),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
    },
  });
  sqs
    .on(GetQueueAttributesCommand, { QueueUrl: CLONE_URL })
    .resolves({ Attributes: { QueueArn: CLONE_ARN } });
  sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
}

async function run(
  mode: 'start' | 'dry-run' | 'status',
  stackName = 'Voicedrop',
  target: 'clone' | 'webhooks' = 'clone',
) {
  const lines: string[] = [];
  const result = await runAwsRedrive(clients, {
    stackName,
    mode,
    target,
    region: REGION,
    print: (line) => lines.push(line),
  });
  return { result, output: lines.join('\n') };
}

beforeEach(() => {
  cloudFormation.reset();
  sqs.reset();
});

afterEach(() => {
  cloudFormation.reset();
  sqs.reset();
});

describe('npm run redrive (AWS)', () => {
  it('finds both queues from the stack outputs and moves the dead letters to the clone queue by ARN', async () => {
    givenStack(3, 1);
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });

    const { result, output } = await run('start');

    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input)).toEqual([
      { SourceArn: DLQ_ARN, DestinationArn: CLONE_ARN },
    ]);
    expect(sqs.commandCalls(GetQueueAttributesCommand).map((call) => call.args[0].input)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ QueueUrl: DLQ_URL, AttributeNames: expect.arrayContaining(['QueueArn']) }),
        { QueueUrl: CLONE_URL, AttributeNames: ['QueueArn'] },
      ]),
    );
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)[0]?.args[0].input).toMatchObject({
      SourceArn: DLQ_ARN,
    });
    expect(result).toMatchObject({
      taskHandle: HANDLE,
      queues: {
        deadLetterQueueArn: DLQ_ARN,
        destinationQueueArn: CLONE_ARN,
        deadLetters: 3,
        deadLettersInFlight: 1,
      },
    });
    expect(output).toContain(`Stack Voicedrop (${REGION})`);
    expect(output).toContain(`dead-letter queue: ${DLQ_URL}  about 3 messages (+1 in flight)`);
    expect(output).toContain(`task handle: ${HANDLE}`);
    expect(output).toContain('npm run redrive -- --status');
  });

  it('moves dead-lettered webhooks back to the webhook queue with --webhooks', async () => {
    givenStack(0);
    sqs.on(GetQueueAttributesCommand, { QueueUrl: WEBHOOK_DLQ_URL }).resolves({
      Attributes: {
        QueueArn: WEBHOOK_DLQ_ARN,
        ApproximateNumberOfMessages: '2',
        ApproximateNumberOfMessagesNotVisible: '0',
      },
    });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: WEBHOOK_URL })
      .resolves({ Attributes: { QueueArn: WEBHOOK_ARN } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: HANDLE });

    const { result, output } = await run('start', 'Voicedrop', 'webhooks');

    expect(sqs.commandCalls(StartMessageMoveTaskCommand).map((call) => call.args[0].input)).toEqual([
      { SourceArn: WEBHOOK_DLQ_ARN, DestinationArn: WEBHOOK_ARN },
    ]);
    expect(sqs.commandCalls(ListMessageMoveTasksCommand)[0]?.args[0].input).toMatchObject({
      SourceArn: WEBHOOK_DLQ_ARN,
    });
    expect(result.queues).toMatchObject({
      target: 'webhooks',
      destinationQueueUrl: WEBHOOK_URL,
      deadLetters: 2,
    });
    expect(output).toContain(`dead-letter queue: ${WEBHOOK_DLQ_URL}  about 2 messages`);
    expect(output).toContain(`webhook queue:     ${WEBHOOK_URL}`);
    expect(output).toContain('Started moving about 2 messages back to the webhook queue.');
    expect(output).toContain('npm run redrive -- --webhooks --status');
    expect(output).toContain('under its webhook-id');
  });

  it('only reports on a dry run', async () => {
    givenStack(2);

    const { output } = await run('dry-run');

    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(output).toContain(
      `Dry run: would start a move task of 2 messages from ${DLQ_ARN} to ${CLONE_ARN}.`,
    );
  });

  it('starts nothing when the dead-letter queue is empty', async () => {
    givenStack(0);

    const { output } = await run('start');

    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(output).toContain('nothing to redrive');
  });

  it('says a move task is already running, with its progress and how to cancel it, and starts no other', async () => {
    givenStack(5);
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          TaskHandle: HANDLE,
          Status: 'RUNNING',
          SourceArn: DLQ_ARN,
          DestinationArn: CLONE_ARN,
          ApproximateNumberOfMessagesMoved: 2,
          ApproximateNumberOfMessagesToMove: 7,
          StartedTimestamp: Date.parse('2026-11-21T10:00:00Z'),
        },
      ],
    });

    const failure = await run('start').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(CommandError);
    expect((failure as Error).message).toMatch(/already running.*2 of 7 moved/);
    expect((failure as Error).message).toContain(`aws sqs cancel-message-move-task --task-handle ${HANDLE}`);
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    const dryRun = await run('dry-run');
    expect(dryRun.output).toContain('Dry run: A move task is already running');
  });

  it('turns SQS refusing a second task (one started meanwhile) into the same message', async () => {
    givenStack(5);
    sqs.on(StartMessageMoveTaskCommand).rejects(
      new UnsupportedOperation({
        message: 'There is already a task running. Only one active task is allowed for a source queue arn.',
        $metadata: {},
      }),
    );

    await expect(run('start')).rejects.toThrow(/already running on the dead-letter queue/);
  });

  it('lists move tasks, newest first, with their progress on --status', async () => {
    givenStack(0);
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          Status: 'COMPLETED',
          SourceArn: DLQ_ARN,
          DestinationArn: CLONE_ARN,
          ApproximateNumberOfMessagesMoved: 4,
          ApproximateNumberOfMessagesToMove: 4,
          StartedTimestamp: Date.parse('2026-11-20T09:00:00Z'),
        },
        {
          TaskHandle: HANDLE,
          Status: 'RUNNING',
          SourceArn: DLQ_ARN,
          DestinationArn: CLONE_ARN,
          ApproximateNumberOfMessagesMoved: 1,
          ApproximateNumberOfMessagesToMove: 3,
          StartedTimestamp: Date.parse('2026-11-21T10:00:00Z'),
        },
        {
          Status: 'FAILED',
          SourceArn: DLQ_ARN,
          ApproximateNumberOfMessagesMoved: 0,
          FailureReason: 'AWS.SimpleQueueService.AccessDenied',
          StartedTimestamp: Date.parse('2026-11-19T08:00:00Z'),
        },
      ],
    });

    const { result, output } = await run('status');

    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(result.tasks.map((task) => task.Status)).toEqual(['RUNNING', 'COMPLETED', 'FAILED']);
    const lines = output.split('\n');
    const tasks = lines.slice(lines.indexOf('Move tasks from the dead-letter queue, newest first:') + 1);
    expect(tasks).toHaveLength(3);
    expect(tasks[0]).toContain('RUNNING');
    expect(tasks[0]).toContain('started 2026-11-21T10:00:00.000Z, 1 of 3 moved');
    expect(tasks[0]).toContain(`task handle ${HANDLE}`);
    expect(tasks[1]).toContain('4 of 4 moved');
    expect(tasks[2]).toContain('failure: AWS.SimpleQueueService.AccessDenied');
  });

  it('says so when the stack does not exist, naming the flags that choose another', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      new CloudFormationServiceException({
        name: 'ValidationError',
        $fault: 'client',
        message: 'Stack with id Elsewhere does not exist',
        $metadata: {},
      }),
    );

    const failure = await run('start', 'Elsewhere').catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(CommandError);
    expect(explainAwsError(failure, { region: REGION })).toBe(
      `Stack Elsewhere not found in ${REGION} for these credentials. Pass --stack NAME (default Voicedrop) and --region REGION for where you deployed it.`,
    );
    expect(sqs.calls()).toHaveLength(0);
  });

  it('says which output is missing from a stack that is not (this version of) voicedrop', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'Voicedrop',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'CloneQueueUrl', OutputValue: CLONE_URL }],
        },
      ],
    });

    await expect(run('start')).rejects.toThrow('Stack Voicedrop has no DeadLetterQueueUrl output');
    await expect(run('start', 'Voicedrop', 'webhooks')).rejects.toThrow(
      'Stack Voicedrop has no WebhookQueueUrl and WebhookDeadLetterQueueUrl output',
    );
  });

  it('explains missing or rejected credentials and a missing region', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const expired = Object.assign(new Error('The security token included in the request is expired'), {
      name: 'ExpiredToken',
    });
    const denied = Object.assign(new Error('User: arn:aws:iam::1:user/x is not authorized to perform'), {
      name: 'AccessDenied',
    });

    expect(explainAwsError(noCredentials, {})).toMatch(/^No AWS credentials found/);
    expect(explainAwsError(new Error('Region is missing'), {})).toMatch(/^No AWS region: pass --region/);
    expect(explainAwsError(expired, {})).toMatch(/^AWS rejected the credentials \(ExpiredToken/);
    expect(explainAwsError(denied, {})).toContain('sqs:StartMessageMoveTask');
    expect(explainAwsError(new Error('something else'), {})).toBeUndefined();
  });
});
