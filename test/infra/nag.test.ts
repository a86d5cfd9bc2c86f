import { beforeAll, describe, expect, it } from 'vitest';
import type { VoicedropStack } from '../../lib/voicedrop-stack';
import { acknowledgementsIn, logicalId, type NagFinding, nagFindings, synthesize } from './support';

/** A finding or acknowledgement as `rule on path`, paths relative to the stack, event-source ids shortened. */
function describeAt(stack: VoicedropStack, rule: string, path: string): string {
  const relative = path.startsWith(`${stack.node.path}/`) ? path.slice(stack.node.path.length + 1) : path;
  return `${rule} on ${relative.replace(/SqsEventSource:[^/]+/, 'SqsEventSource')}`;
}

/** Is the finding's resource the acknowledged construct or inside it (cdk-nag looks up the tree)? */
function covers(acknowledgedPath: string, finding: NagFinding): boolean {
  return finding.path === acknowledgedPath || finding.path.startsWith(`${acknowledgedPath}/`);
}

/**
 * Every acknowledgement the cdk.json configuration needs, in one place for review. The reasons are next to
 * the decisions in lib/ and are checked for substance below.
 */
function expectedAcknowledgements(bucketId: string): string[] {
  const incoming = `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/incoming/*]`;
  const routes = [
    'voices/GET',
    'voices/{voiceId}/GET',
    'voices/{voiceId}/DELETE',
    'voices/{voiceId}/speech/POST',
    'uploads/POST',
    'consents/POST',
    'consents/{consentId}/GET',
    'consents/{consentId}/DELETE',
  ];
  return [
    'AwsSolutions-SMG4 on Pipeline/ProviderKeys',
    'AwsSolutions-IAM5[Resource::*] on Pipeline/Clone/Role/DefaultPolicy',
    `${incoming} on Pipeline/Clone/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/cache/*] on Pipeline/Clone/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/speech/*] on Pipeline/Clone/Role/DefaultPolicy`,
    'Serverless-LambdaDLQ on Pipeline/Clone/Function',
    'Serverless-LambdaEventSourceMappingDestination on Pipeline/Clone/Function/SqsEventSource',
    'Serverless-SQSRedrivePolicy on Pipeline/CloneDeadLetters',
    'AwsSolutions-IAM5[Resource::*] on Pipeline/Events/EventsFunction/Role/DefaultPolicy',
    'Serverless-LambdaDLQ on Pipeline/Events/EventsFunction/Function',
    'AwsSolutions-SQS3 on Pipeline/Events/EventsDeadLetters',
    'Serverless-SQSRedrivePolicy on Pipeline/Events/EventsDeadLetters',
    'Serverless-SQSRedrivePolicy on Pipeline/Events/WebhookDeadLetters',
    'AwsSolutions-IAM5[Resource::*] on Pipeline/ApiFunction/Role/DefaultPolicy',
    `${incoming} on Pipeline/ApiFunction/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/cache/*] on Pipeline/ApiFunction/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/speech/*] on Pipeline/ApiFunction/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/consents/*] on Pipeline/ApiFunction/Role/DefaultPolicy`,
    'Serverless-LambdaDLQ on Pipeline/ApiFunction/Function',
    'AwsSolutions-IAM5[Resource::*] on Pipeline/SpeechFunction/Role/DefaultPolicy',
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/speech/*] on Pipeline/SpeechFunction/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/cache/*] on Pipeline/SpeechFunction/Role/DefaultPolicy`,
    'Serverless-LambdaDLQ on Pipeline/SpeechFunction/Function',
    'AwsSolutions-IAM5[Resource::*] on Pipeline/Retention/Function/Role/DefaultPolicy',
    `${incoming} on Pipeline/Retention/Function/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/cache/*] on Pipeline/Retention/Function/Role/DefaultPolicy`,
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/speech/*] on Pipeline/Retention/Function/Role/DefaultPolicy`,
    'Serverless-LambdaDLQ on Pipeline/Retention/Function/Function',
    'AwsSolutions-IAM5[Resource::<PipelineRetentionFunction5ADA7A73.Arn>:*] on Pipeline/Retention/ScheduleRole/DefaultPolicy',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs] ' +
      'on Pipeline/Api/RestApi/CloudWatchRole',
    'AwsSolutions-APIG6 on Pipeline/Api/RestApi/DeploymentStage.v1',
    'AwsSolutions-APIG3 on Pipeline/Api/RestApi/DeploymentStage.v1',
    ...routes.map((route) => `AwsSolutions-COG4 on Pipeline/Api/RestApi/Default/${route}`),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole] ' +
      'on BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
  ];
}

describe.each([
  { name: 'the cdk.json configuration (retain)', voicedrop: undefined, extra: [] as string[] },
  {
    name: 'removalPolicy "destroy" and an alarm e-mail',
    voicedrop: { removalPolicy: 'destroy', alarmEmail: 'ops@example.com' },
    extra: ['Serverless-SNSRedrivePolicy on Pipeline/Monitoring/AlarmEmail'],
  },
])('cdk-nag: Voicedrop with $name', ({ voicedrop, extra }) => {
  let stack: VoicedropStack;
  let raw: NagFinding[];

  beforeAll(() => {
    ({ stack } = synthesize(voicedrop));
    raw = nagFindings(stack, { ignoreAcknowledgements: true });
  });

  it('runs the AwsSolutions and the Serverless pack over the stack', () => {
    expect(raw.some((finding) => finding.rule.startsWith('AwsSolutions-'))).toBe(true);
    expect(raw.some((finding) => finding.rule.startsWith('Serverless-'))).toBe(true);
  });

  it('leaves no finding unacknowledged, errors and warnings alike', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  it('acknowledges exactly the reviewed list of findings', () => {
    const acknowledged = acknowledgementsIn(stack).map(({ rule, path }) => describeAt(stack, rule, path));

    expect([...new Set(acknowledged)].sort()).toEqual(
      [...expectedAcknowledgements(logicalId(stack.pipeline.bucket)), ...extra].sort(),
    );
  });

  it('acknowledges only findings the packs raise, each on the construct that raises it', () => {
    const stale = acknowledgementsIn(stack)
      .filter(({ rule, path }) => !raw.some((finding) => finding.rule === rule && covers(path, finding)))
      .map(({ rule, path }) => describeAt(stack, rule, path));

    expect(stale).toEqual([]);
  });

  it('acknowledges one finding per resource, never a rule for the whole stack', () => {
    for (const { rule, path } of acknowledgementsIn(stack)) {
      const where = describeAt(stack, rule, path);
      expect([stack.node.path, stack.pipeline.node.path], where).not.toContain(path);
      if (/-IAM[45]/.test(rule))
        expect(rule, where).toMatch(/^AwsSolutions-IAM[45]\[(Resource|Policy|Action)::.+\]$/);
    }
  });

  it('gives every acknowledgement a written reason', () => {
    for (const { rule, path, reason } of acknowledgementsIn(stack)) {
      expect(reason.length, describeAt(stack, rule, path)).toBeGreaterThanOrEqual(80);
    }
  });
});
