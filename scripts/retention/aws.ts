import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SweepReport } from '../../functions/retention/sweep';
import { CommandError, requireOutputs, stackOutputs } from '../aws/stack';

/** The stack output naming the retention function (lib/voicedrop-stack.ts). */
export const RETENTION_FUNCTION_OUTPUT = 'RetentionFunctionName';

/** What invoking the sweep needs, for an access-denied answer. */
export const RETENTION_PERMISSIONS =
  'cloudformation:DescribeStacks on the stack and lambda:InvokeFunction on the retention function.';

/**
 * `npm run retention` in AWS: finds the retention function from the stack's outputs and invokes it
 * synchronously with the clock and dry-run flag; the function applies the stack's own settings.
 */
export async function invokeRetention(
  clients: { readonly cloudFormation: CloudFormationClient; readonly lambda: LambdaClient },
  options: {
    readonly stackName: string;
    readonly asOf: Date;
    readonly dryRun: boolean;
    /** For messages only (the clients carry the region they use). */
    readonly region?: string;
  },
): Promise<SweepReport> {
  const outputs = requireOutputs(
    await stackOutputs(clients.cloudFormation, options.stackName, options.region),
    [RETENTION_FUNCTION_OUTPUT],
    options.stackName,
  );
  const answer = await clients.lambda.send(
    new InvokeCommand({
      FunctionName: outputs[RETENTION_FUNCTION_OUTPUT],
      Payload: new TextEncoder().encode(
        JSON.stringify({ asOf: options.asOf.toISOString(), dryRun: options.dryRun }),
      ),
    }),
  );
  const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
  if (answer.FunctionError) throw new CommandError(`The retention function failed: ${text}`);
  return JSON.parse(text) as SweepReport;
}
