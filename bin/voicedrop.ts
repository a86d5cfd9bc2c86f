import { App, Tags } from 'aws-cdk-lib';
import { InvalidConfigurationError, readConfig } from '../lib/config';
import { InvalidPipelinePropsError } from '../lib/voicedrop-pipeline';
import { VoicedropStack } from '../lib/voicedrop-stack';

const app = new App();

try {
  const config = readConfig(app);
  const stack = new VoicedropStack(app, 'Voicedrop', {
    config,
    description: 'voicedrop: self-hosted serverless instant voice cloning (Smallest AI Waves, Typecast)',
    env: environmentFromCli(),
  });
  Tags.of(stack).add('project', 'voicedrop');
} catch (error) {
  // A configuration mistake deserves its list of problems, not a stack trace through the CDK.
  if (!(error instanceof InvalidConfigurationError || error instanceof InvalidPipelinePropsError))
    throw error;
  console.error(error.message);
  process.exit(1);
}

/**
 * The account and region the CLI resolved from credentials, or none: the stack stays environment-agnostic,
 * so `cdk synth` needs neither credentials nor network and one template deploys anywhere. Both are
 * required because without credentials the CLI still reports region us-east-1, a region nobody chose.
 */
function environmentFromCli(): { account: string; region: string } | undefined {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  return account && region ? { account, region } : undefined;
}
