import { ConfigurationError } from '../errors';

type Environment = Readonly<Record<string, string | undefined>>;

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Present for temporary credentials (Lambda's execution role always has one). */
  readonly sessionToken?: string;
}

/** Where and as whom the thin AWS clients send their requests. */
export interface AwsSettings {
  /** The AWS region, e.g. `eu-central-1`; part of every signature. */
  readonly region: string;
  /**
   * Base URL replacing the service's regional endpoint, for local emulators (`http://127.0.0.1:8000`).
   * @default the service's public endpoint in `region`
   */
  readonly endpoint?: string;
  /** Signing credentials. Required to send a request; see `awsSettingsFromEnvironment`. */
  readonly credentials?: AwsCredentials;
  /** How failed attempts are retried. @default the AWS SDK's standard mode: 3 attempts, 100 ms base, 20 s cap */
  readonly retry?: AwsRetrySettings;
}

export interface AwsRetrySettings {
  /** Attempts in all, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** The backoff before attempt n+1 is random in [0, min(maxDelayMs, baseDelayMs × 2^(n-1))). @default 100 */
  readonly baseDelayMs?: number;
  /** @default 20000 */
  readonly maxDelayMs?: number;
}

/**
 * Reads the region and credentials Lambda puts into every function's environment (AWS_REGION,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), naming every missing variable in one
 * message. Nothing else is consulted: no profiles, no instance metadata, no SSO, which is what keeps
 * the Lambda bundles free of the SDK's credential chain.
 */
export function awsSettingsFromEnvironment(
  environment: Environment = process.env,
  options: { readonly endpoint?: string } = {},
): AwsSettings {
  const read = (name: string) => {
    const value = environment[name]?.trim();
    return value ? value : undefined;
  };
  const region = read('AWS_REGION') ?? read('AWS_DEFAULT_REGION');
  const accessKeyId = read('AWS_ACCESS_KEY_ID');
  const secretAccessKey = read('AWS_SECRET_ACCESS_KEY');
  const sessionToken = read('AWS_SESSION_TOKEN');

  const problems: string[] = [];
  if (!region) problems.push('AWS_REGION (or AWS_DEFAULT_REGION) is required');
  if (!accessKeyId) problems.push('AWS_ACCESS_KEY_ID is required');
  if (!secretAccessKey) problems.push('AWS_SECRET_ACCESS_KEY is required');
  if (!region || !accessKeyId || !secretAccessKey) {
    throw new ConfigurationError(`AWS settings are incomplete: ${problems.join('; ')}.`);
  }
  return {
    region,
    ...(options.endpoint ? { endpoint: options.endpoint.replace(/\/+$/, '') } : {}),
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
  };
}

/**
 * The base URL for `service`: the settings' endpoint when one is set (local emulators), otherwise
 * `https://<host prefix>.<region>.amazonaws.com` (`.amazonaws.com.cn` in the China regions).
 */
export function serviceEndpoint(settings: AwsSettings, hostPrefix: string): string {
  if (settings.endpoint) return settings.endpoint.replace(/\/+$/, '');
  const suffix = settings.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${hostPrefix}.${settings.region}.${suffix}`;
}
