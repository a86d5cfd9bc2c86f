import type { AwsSettings } from './config';
import type { AwsCallOptions } from './http';
import { jsonRpc } from './json-rpc';

interface GetSecretValueOutput {
  readonly SecretString?: string;
}

/**
 * The current string value of a Secrets Manager secret (`GetSecretValue`), or `undefined` when the
 * secret holds binary data only. A missing secret throws `AwsServiceError` named
 * `ResourceNotFoundException`.
 */
export async function getSecretString(
  settings: AwsSettings,
  secretId: string,
  options: AwsCallOptions = {},
): Promise<string | undefined> {
  const output = await jsonRpc<GetSecretValueOutput>(
    settings,
    {
      service: 'secretsmanager',
      hostPrefix: 'secretsmanager',
      target: 'secretsmanager.GetSecretValue',
      jsonVersion: '1.1',
      input: { SecretId: secretId },
    },
    options,
  );
  return output.SecretString;
}
