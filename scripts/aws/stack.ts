/**
 * What the AWS side of the repository's commands (`npm run redrive`, `npm run retention`) shares: the
 * deployed stack's outputs, and sentences for the AWS errors a person can fix.
 */
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { errorMessage } from '../../functions/shared/errors';

/** The stack name bin/voicedrop.ts deploys. */
export const DEFAULT_STACK_NAME = 'Voicedrop';

/** A problem the person running the command can act on; printed without a stack trace. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** The stack's outputs by key; a CommandError naming `--stack`/`--region` when there is no such stack. */
export async function stackOutputs(
  cloudFormation: CloudFormationClient,
  stackName: string,
  region?: string,
): Promise<Record<string, string>> {
  try {
    const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = described.Stacks?.[0];
    if (!stack) throw stackNotFound(stackName, region);
    return Object.fromEntries(
      (stack.Outputs ?? []).flatMap((output) =>
        output.OutputKey && output.OutputValue ? [[output.OutputKey, output.OutputValue]] : [],
      ),
    );
  } catch (error) {
    if (errorName(error) === 'ValidationError' && /does not exist/i.test(errorMessage(error))) {
      throw stackNotFound(stackName, region);
    }
    throw error;
  }
}

/** The named outputs, or a CommandError saying which are missing (an older or a foreign stack). */
export function requireOutputs<K extends string>(
  outputs: Readonly<Record<string, string>>,
  names: readonly K[],
  stackName: string,
): Record<K, string> {
  const missing = names.filter((name) => !outputs[name]);
  if (missing.length > 0) {
    throw new CommandError(
      `Stack ${stackName} has no ${missing.join(' and ')} output: is it a voicedrop stack, deployed from this version (npx cdk deploy)?`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, outputs[name] as string])) as Record<K, string>;
}

/**
 * A sentence for an AWS error a person can fix (credentials, region, permissions); undefined for others.
 * `permissions` says what the command needs, for an access-denied answer.
 */
export function explainAwsError(
  error: unknown,
  context: { readonly region?: string; readonly permissions?: string },
): string | undefined {
  if (error instanceof CommandError) return error.message;
  const name = errorName(error);
  const message = errorMessage(error);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return 'No AWS credentials found. Sign in (aws configure, aws sso login, or AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and run it again.';
  }
  if (/region is missing/i.test(message)) {
    return 'No AWS region: pass --region REGION (the one you deployed to) or set AWS_REGION.';
  }
  if (
    [
      'ExpiredToken',
      'ExpiredTokenException',
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'SignatureDoesNotMatch',
    ].includes(name)
  ) {
    return `AWS rejected the credentials (${name}: ${message}). Refresh them (aws sso login, new keys) and run it again.`;
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || /not authorized/i.test(message)) {
    return `Not allowed: ${message}${context.permissions ? `\nThe caller needs ${context.permissions}` : ''}`;
  }
  return undefined;
}

function stackNotFound(stackName: string, region: string | undefined): CommandError {
  return new CommandError(
    `Stack ${stackName} not found in ${region ?? 'this region'} for these credentials. Pass --stack NAME (default ${DEFAULT_STACK_NAME}) and --region REGION for where you deployed it.`,
  );
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}
