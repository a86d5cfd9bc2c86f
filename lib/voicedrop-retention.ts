import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV, METRICS_NAMESPACE, SERVICE_NAMES } from '../functions/shared/contract';
import { acknowledge } from './acknowledgements';
import type { RetentionConfig } from './config';
import { HouseFunction } from './house-function';

/** Long enough for a bounded sweep (100 deletions, each a provider call and a few S3 calls). */
const RETENTION_TIMEOUT = Duration.minutes(15);
const RETENTION_MEMORY_MB = 512;

export interface VoicedropRetentionProps {
  readonly bucket: IBucket;
  readonly table: ITable;
  readonly secret: ISecret;
  readonly retention: RetentionConfig;
  /** The providers' variables (base URLs, models, concurrency), as the other functions get them. */
  readonly providerEnvironment: Readonly<Record<string, string>>;
  readonly providerTimeoutMs: number;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/**
 * The retention schedule applied: a function that sweeps the voices table (functions/retention/) and deletes
 * what is due everywhere, run daily by EventBridge Scheduler and on demand by `npm run retention`.
 */
export class VoicedropRetention extends Construct {
  readonly retentionFunction: HouseFunction;
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: VoicedropRetentionProps) {
    super(scope, id);
    const { retention } = props;
    this.retentionFunction = new HouseFunction(this, 'Function', {
      entry: 'functions/retention/handler.ts',
      description:
        'voicedrop retention: deletes voices and upload audio past the retention schedule, with a receipt',
      memorySize: RETENTION_MEMORY_MB,
      timeout: RETENTION_TIMEOUT,
      serviceName: SERVICE_NAMES.retention,
      metricsNamespace: METRICS_NAMESPACE,
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
      environment: {
        ...props.providerEnvironment,
        [ENV.providerTimeoutMs]: String(props.providerTimeoutMs),
        [ENV.retentionUnusedDays]: retention.unusedDays === null ? 'off' : String(retention.unusedDays),
        [ENV.retentionMaxAgeDays]: retention.maxAgeDays === null ? 'off' : String(retention.maxAgeDays),
        [ENV.retentionRejectedDays]: String(retention.rejectedDays),
      },
    })
      .readsVoicesTable(props.table)
      .updatesVoicesTable(props.table)
      .listsVoices(props.table)
      .deletesUploads(props.bucket)
      .deletesSpeechCache(props.bucket)
      .deletesStoredSpeech(props.bucket)
      .readsProviderKeys(props.secret);
    acknowledge(
      this.retentionFunction.lambdaFunction,
      'Serverless-LambdaDLQ',
      'The schedule invokes it asynchronously once a day; a failed run is retried by Lambda, and whatever it ' +
        'left is taken up by the next run, which keeps no state between runs (the sweep is idempotent and ' +
        'reads the table afresh). Failures show in the function errors and the RetentionFailures metric.',
    );

    // Its own role, so the grant the target adds lands here and its finding is acknowledged here.
    const role = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'voicedrop: lets EventBridge Scheduler invoke the retention function',
    });
    this.schedule = new Schedule(this, 'Daily', {
      description: 'voicedrop: apply the retention schedule once a day',
      schedule: ScheduleExpression.rate(Duration.days(1)),
      target: new LambdaInvoke(this.retentionFunction.lambdaFunction, {
        input: ScheduleTargetInput.fromObject({ source: 'schedule' }),
        retryAttempts: 3,
        role,
      }),
    });
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      acknowledge(
        policy,
        `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(
          this.retentionFunction.lambdaFunction.node.defaultChild as CfnFunction,
        )}.Arn>:*]`,
        "EventBridge Scheduler's Lambda target grants invoking the retention function and its versions " +
          '(<arn>:*); the role is assumed by the scheduler only and may invoke nothing else.',
      );
    }
  }
}
