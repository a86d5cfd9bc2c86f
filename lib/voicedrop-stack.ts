import { Aws, CfnMapping, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { VoicedropConfig } from './config';
import { VoicedropPipeline, type VoicedropPipelineProps } from './voicedrop-pipeline';

export { VISIBILITY_TIMEOUT_FACTOR } from './voicedrop-pipeline';

export interface VoicedropStackProps extends StackProps {
  /** The validated configuration (`readConfig(app)`), read once per synth. */
  readonly config: VoicedropConfig;
}

/**
 * The cdk.json configuration mapped onto the pipeline's props: the same settings, in the construct's types
 * (Duration, RemovalPolicy) and names.
 */
export function pipelinePropsFromConfig(config: VoicedropConfig): VoicedropPipelineProps {
  return {
    defaultProvider: config.defaultProvider,
    providers: config.providers,
    providerTimeout: Duration.millis(config.providerTimeoutMs),
    cloneQueue: {
      batchSize: config.cloneQueue.batchSize,
      maxBatchingWindow: Duration.seconds(config.cloneQueue.maxBatchingWindowSeconds),
      maxReceiveCount: config.cloneQueue.maxReceiveCount,
      maxConcurrency: config.cloneQueue.maxConcurrency,
    },
    api: {
      authorization: config.api.authorization,
      stageName: config.api.stageName,
      throttleRateLimit: config.api.throttle.rateLimit,
      throttleBurstLimit: config.api.throttle.burstLimit,
    },
    speechUrlTtl: Duration.seconds(config.speechUrlTtlSeconds),
    speechCacheLifetime: Duration.days(config.speechCacheDays),
    uploadUrlTtl: Duration.seconds(config.uploadUrlTtlSeconds),
    logRetention: config.logRetentionDays,
    removalPolicy: config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    alarmEmail: config.alarmEmail ?? undefined,
    alarms: { oldestCloneMessageAge: Duration.minutes(config.alarms.oldestMessageAgeMinutes) },
    validation: config.validation,
    consent: config.consent,
    retention: config.retention,
    webhooks: config.webhooks,
  };
}

/** voicedrop in one stack: the configuration, one VoicedropPipeline, and what a deployer needs to know. */
export class VoicedropStack extends Stack {
  readonly config: VoicedropConfig;
  readonly pipeline: VoicedropPipeline;

  constructor(scope: Construct, id: string, props: VoicedropStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.pipeline = new VoicedropPipeline(this, 'Pipeline', {
      ...pipelinePropsFromConfig(props.config),
      // The stack name is unique per account and region, and names the REST API too.
      dashboardName: this.stackName,
    });
    const pipeline = this.pipeline;

    new CfnOutput(this, 'BucketName', {
      description: 'Upload audio to s3://<bucket>/incoming/<provider>/<file>',
      value: pipeline.bucket.bucketName,
    });
    new CfnOutput(this, 'AccessLogsBucketName', {
      description: 'S3 server access logs of the upload bucket (below uploads/), kept 90 days',
      value: pipeline.accessLogsBucket.bucketName,
    });
    new CfnOutput(this, 'VoicesTableName', { value: pipeline.table.tableName });
    new CfnOutput(this, 'ProviderKeysSecretName', { value: pipeline.secret.secretName });
    new CfnOutput(this, 'ProviderKeysSecretArn', {
      description: 'Put the provider keys here (see the secret description)',
      value: pipeline.secret.secretArn,
    });
    new CfnOutput(this, 'CloneQueueUrl', { value: pipeline.cloneQueue.queueUrl });
    new CfnOutput(this, 'EventBusName', {
      description: 'Voice lifecycle events (source voicedrop): route them with EventBridge rules',
      value: pipeline.events.bus.eventBusName,
    });
    new CfnOutput(this, 'EventBusArn', { value: pipeline.events.bus.eventBusArn });
    new CfnOutput(this, 'WebhookQueueUrl', { value: pipeline.events.webhookQueue.queueUrl });
    new CfnOutput(this, 'WebhookDeadLetterQueueUrl', {
      description:
        'Webhooks that failed for 24 hours or were refused; npm run redrive -- --webhooks moves them back',
      value: pipeline.events.webhookDeadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Uploads that failed every attempt; redrive to the clone queue after fixing the cause',
      value: pipeline.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'DeadLetterQueueName', { value: pipeline.deadLetterQueue.queueName });
    new CfnOutput(this, 'ApiUrl', {
      description:
        pipeline.settings.api.authorization === 'iam'
          ? 'HTTPS API base URL (stage included); sign requests with SigV4 for service execute-api'
          : 'HTTPS API base URL (stage included); NO authorization: for test deployments only',
      value: pipeline.api.url,
    });
    new CfnOutput(this, 'ApiFunctionName', { value: pipeline.apiFunction.lambdaFunction.functionName });
    new CfnOutput(this, 'RetentionFunctionName', {
      description: 'Applies the retention schedule (daily by itself); npm run retention invokes it on demand',
      value: pipeline.retention.retentionFunction.lambdaFunction.functionName,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Every alarm notifies this topic (ALARM and OK); subscribe to it, or set alarmEmail',
      value: pipeline.alarmTopic.topicArn,
    });
    new CfnOutput(this, 'DashboardName', { value: pipeline.dashboard.dashboardName });
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboardUrl(pipeline.dashboard.dashboardName) });
  }

  /** The console address of a dashboard, in whichever partition the stack is deployed to. */
  private dashboardUrl(dashboardName: string): string {
    const consoles = new CfnMapping(this, 'ConsoleHosts', {
      mapping: {
        aws: { host: 'console.aws.amazon.com' },
        'aws-cn': { host: 'console.amazonaws.cn' },
        'aws-us-gov': { host: 'console.amazonaws-us-gov.com' },
      },
    });
    const host = consoles.findInMap(Aws.PARTITION, 'host');
    return `https://${host}/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${dashboardName}`;
  }
}
