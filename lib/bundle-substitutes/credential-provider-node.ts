import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * Stands in for `@aws-sdk/credential-provider-node` in the Lambda bundles (an esbuild alias set by
 * HouseFunction; tests and local mode keep the SDK's full chain). Lambda puts the execution role's
 * credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) of every
 * function, so the chain's other links (SSO, shared ini files, credential_process, web identity, container
 * and instance metadata over `node:http`, login) are never reached there, yet cost about 110 KB of each bundle
 * and the `node:http` import at cold start. The SDK memoizes whatever this returns.
 *
 * Without those variables every AWS call fails with "Unable to find environment variable credentials.":
 * loudly, on the first call, rather than by falling back to a source a Lambda function does not have.
 */
export const defaultProvider: typeof fromEnv = (init) => fromEnv(init);
