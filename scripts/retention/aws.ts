import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { SweepReport } from '../../functions/retention/sweep';

/** The stack output naming the retention function (lib/voicedrop-stack.ts). */
export const RETENTION_FUNCTION_OUTPUT = 'RetentionFunctionName';

/** A problem the person running the command can act on; printed without a stack trace. */
export class RetentionError extends Error {
  override readonly name = 'RetentionError';
}

/**
 * `npm run retention` in AWS: finds the retention function from the stack's outputs and invokes it
 * synchronously with the clock and dry-run flag; the function applies the stack's own settings.
 */
export async function invokeRetention(
  clients: { readonly cloudFormation: CloudFormationClient; readonly lambda: LambdaClient },
  options: { readonly stackName: string; readonly asOf: Date; readonly dryRun: boolean },
): Promise<SweepReport> {
  const stacks = await clients.cloudFormation.send(
    new DescribeStacksCommand({ StackName: options.stackName }),
  );
  const output = stacks.Stacks?.[0]?.Outputs?.find(
    (candidate) => candidate.OutputKey === RETENTION_FUNCTION_OUTPUT,
  );
  if (!output?.OutputValue) {
    throw new RetentionError(
      `Stack ${options.stackName} has no ${RETENTION_FUNCTION_OUTPUT} output; deploy this version of voicedrop first.`,
    );
  }
  const answer = await clients.lambda.send(
    new InvokeCommand({
      FunctionName: output.OutputValue,
      Payload: new TextEncoder().encode(
        JSON.stringify({ asOf: options.asOf.toISOString(), dryRun: options.dryRun }),
      ),
    }),
  );
  const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
  if (answer.FunctionError) throw new RetentionError(`The retention function failed: ${text}`);
  return JSON.parse(text) as SweepReport;
}
