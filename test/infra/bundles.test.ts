import { readFileSync } from 'node:fs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../lib/bundle-substitutes/credential-provider-node';
import { findBundles } from '../../scripts/bench/bundles';
import type { FunctionName } from '../../scripts/bench/report';
import { synthesize } from './support';

/** Text only the credential sources a Lambda function never uses carry, each with what it stands for. */
const OTHER_CREDENTIAL_SOURCES: Readonly<Record<string, string>> = {
  'security-credentials': 'instance metadata (IMDS) credentials',
  '169.254.170.2': 'container metadata credentials',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'container metadata credentials',
  sso_start_url: 'SSO',
  credential_process: 'credential_process',
  AWS_WEB_IDENTITY_TOKEN_FILE: 'web identity',
  login_session: 'console login',
};

describe('Lambda bundles as cdk synth builds them', () => {
  let bundles: Record<FunctionName, string>;

  beforeAll(() => {
    const { app } = synthesize();
    const found = findBundles(app.synth().directory);
    bundles = {
      clone: readFileSync(found.clone.modulePath, 'utf8'),
      api: readFileSync(found.api.modulePath, 'utf8'),
    };
  });

  it.each(['clone', 'api'] as const)(
    '%s: takes credentials from the environment and from nowhere else',
    (name) => {
      const bundle = bundles[name];

      expect(bundle).toContain('Unable to find environment variable credentials.');
      const present = Object.entries(OTHER_CREDENTIAL_SOURCES).filter(([marker]) => bundle.includes(marker));
      expect(present.map(([marker, source]) => `${source} (${marker})`)).toEqual([]);
    },
  );

  it.each(['clone', 'api'] as const)('%s: does not import node:http when it loads', (name) => {
    // Its ES module facade reads http.WebSocket & co, which loads Node's undici: ~20 ms of every cold start.
    expect(bundles[name]).not.toMatch(/\bfrom\s*["']node:http["']/);
  });
});

describe('Substitute: @aws-sdk/credential-provider-node', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('signs with the access key and session token Lambda puts in the environment', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLELAMBDAKEY');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', 'example-session-token');
    // The same hook the clients' runtime config fills with the module this substitute replaces.
    const client = new S3Client({ region: 'eu-west-1', credentialDefaultProvider: defaultProvider });

    const url = new URL(
      await getSignedUrl(client, new GetObjectCommand({ Bucket: 'example', Key: 'incoming/a.wav' })),
    );

    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAEXAMPLELAMBDAKEY\//);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('example-session-token');
  });

  it('fails the call, not the cold start, when the environment has no credentials', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    const client = new S3Client({ region: 'eu-west-1', credentialDefaultProvider: defaultProvider });

    await expect(
      getSignedUrl(client, new GetObjectCommand({ Bucket: 'example', Key: 'incoming/a.wav' })),
    ).rejects.toThrow('Unable to find environment variable credentials.');
  });
});
