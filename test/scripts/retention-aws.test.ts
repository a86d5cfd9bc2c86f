import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError, explainAwsError } from '../../scripts/aws/stack';
import { invokeRetention, RETENTION_PERMISSIONS } from '../../scripts/retention/aws';

/*
 * `npm run retention` against AWS. CloudFormation and Lambda have no local implementation this project
 * runs, so the SDK calls are answered by aws-sdk-client-mock and the requests are checked.
 */
const cloudFormation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const clients = {
  cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
  lambda: new LambdaClient({ region: 'eu-west-1' }),
};
const stack = (outputs: { OutputKey: string; OutputValue: string }[]) =>
  cloudFormation.on(DescribeStacksCommand, { StackName: 'Voicedrop' }).resolves({
    Stacks: [
      { StackName: 'Voicedrop', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: outputs },
    ],
  });
const asOf = new Date('2027-01-31T00:00:00Z');

afterEach(() => {
  cloudFormation.reset();
  lambda.reset();
});

describe('npm run retention (AWS)', () => {
  it('invokes the function named by the stack output with the clock and dry-run flag', async () => {
    stack([{ OutputKey: 'RetentionFunctionName', OutputValue: 'Voicedrop-Retention-AbC' }]);
    const report = { asOf: asOf.toISOString(), deleted: [], kept: [], failed: [] };
    lambda.on(InvokeCommand).resolves({ Payload: new TextEncoder().encode(JSON.stringify(report)) as never });

    expect(await invokeRetention(clients, { stackName: 'Voicedrop', asOf, dryRun: true })).toEqual(report);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('Voicedrop-Retention-AbC');
    expect(JSON.parse(new TextDecoder().decode(input?.Payload as Uint8Array))).toEqual({
      asOf: '2027-01-31T00:00:00.000Z',
      dryRun: true,
    });
  });

  it('says what is wrong: a stack without the output, a missing stack, a failing function', async () => {
    stack([]);
    await expect(invokeRetention(clients, { stackName: 'Voicedrop', asOf, dryRun: false })).rejects.toThrow(
      new CommandError(
        'Stack Voicedrop has no RetentionFunctionName output: is it a voicedrop stack, deployed from this version (npx cdk deploy)?',
      ),
    );

    cloudFormation.reset();
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id Other does not exist'), { name: 'ValidationError' }));
    const missing = await invokeRetention(clients, {
      stackName: 'Other',
      asOf,
      dryRun: false,
      region: 'eu-west-1',
    }).catch((error: unknown) => error);
    expect(explainAwsError(missing, {})).toMatch(/^Stack Other not found in eu-west-1 .*--stack NAME/);

    stack([{ OutputKey: 'RetentionFunctionName', OutputValue: 'f' }]);
    lambda.on(InvokeCommand).resolves({
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode('{"errorMessage":"boom"}') as never,
    });
    await expect(invokeRetention(clients, { stackName: 'Voicedrop', asOf, dryRun: false })).rejects.toThrow(
      'The retention function failed: {"errorMessage":"boom"}',
    );
    const denied = Object.assign(new Error('User x is not authorized to perform lambda:InvokeFunction'), {
      name: 'AccessDeniedException',
    });
    expect(explainAwsError(denied, { permissions: RETENTION_PERMISSIONS })).toContain(
      'lambda:InvokeFunction on',
    );
  });
});
