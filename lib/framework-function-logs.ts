import { CfnResource, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledgements';

const FRAMEWORK_FUNCTIONS = [
  {
    id: 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    functionChild: 'Resource',
    required: true,
  },
  { id: 'Custom::S3AutoDeleteObjectsCustomResourceProvider', functionChild: 'Handler', required: false },
] as const;

/**
 * CDK's own functions (FRAMEWORK_FUNCTIONS) would log into groups Lambda creates on first use, without
 * retention, and that outlive the stack: the auto-delete function even runs while the stack is being
 * deleted. They log into groups of ours instead, with the pipeline's retention and removal policy; the
 * dependency on the group makes CloudFormation delete the group last. One per stack, shared by every
 * pipeline in it, so the first pipeline sets it up. Their framework permissions are acknowledged there.
 */
export function keepFrameworkFunctionLogs(
  scope: Construct,
  retention: RetentionDays,
  removalPolicy: RemovalPolicy,
): void {
  const stack = Stack.of(scope);
  for (const framework of FRAMEWORK_FUNCTIONS) {
    const provider = stack.node.tryFindChild(framework.id);
    if (!provider) {
      if (!framework.required) continue;
      throw new Error(`${scope.node.path}: CDK's ${framework.id} is not where it used to be`);
    }
    const logsId = `${framework.id.replace(/[^A-Za-z0-9]/g, '')}Logs`;
    if (stack.node.tryFindChild(logsId)) continue;
    const handler = provider.node.tryFindChild(framework.functionChild);
    if (
      !CfnResource.isCfnResource(handler) ||
      handler.cfnResourceType !== CfnFunction.CFN_RESOURCE_TYPE_NAME
    ) {
      throw new Error(`${scope.node.path}: CDK's ${framework.id} has no function ${framework.functionChild}`);
    }
    const logGroup = new LogGroup(stack, logsId, { retention, removalPolicy });
    handler.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
  }
  const notificationsHandler = stack.node.tryFindChild(FRAMEWORK_FUNCTIONS[0].id);
  if (notificationsHandler) {
    acknowledge(
      notificationsHandler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's own bucket-notifications function (framework code, one per stack) comes with this managed " +
        'policy; it only lets the function write its logs.',
    );
  }
}
