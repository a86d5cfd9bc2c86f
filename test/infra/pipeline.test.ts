import { App, CfnParameter, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseConfig } from '../../lib/config';
import {
  accessLogsObjectOwnership,
  InvalidPipelinePropsError,
  resolvePipelineProps,
  VoicedropPipeline,
  type VoicedropPipelineProps,
} from '../../lib/voicedrop-pipeline';
import { pipelinePropsFromConfig } from '../../lib/voicedrop-stack';
import { problemsReported } from './support';

const problemsOf = (props: VoicedropPipelineProps) =>
  problemsReported(() => resolvePipelineProps(props), InvalidPipelinePropsError);

describe('Function: resolvePipelineProps', () => {
  it('defaults every prop to the cdk.json defaults', () => {
    expect(resolvePipelineProps()).toEqual(DEFAULT_CONFIG);
    expect(resolvePipelineProps({})).toEqual(parseConfig(undefined));
  });

  it('gets back exactly the configuration the stack mapped onto the props', () => {
    const config = parseConfig({
      defaultProvider: 'typecast',
      providers: {
        typecast: {
          baseUrl: 'https://proxy.example.com/typecast',
          model: 'ssfm-v21',
          cloneConcurrency: 15,
          speechConcurrency: 5,
        },
      },
      providerTimeoutMs: 30_500,
      cloneQueue: { batchSize: 1, maxBatchingWindowSeconds: 0, maxReceiveCount: 3, maxConcurrency: 4 },
      api: { authorization: 'none', stageName: 'test', throttle: { rateLimit: 2, burstLimit: 4 } },
      speechUrlTtlSeconds: 120,
      uploadUrlTtlSeconds: 300,
      logRetentionDays: 7,
      removalPolicy: 'destroy',
      alarmEmail: 'ops@example.com',
      alarms: { oldestMessageAgeMinutes: 90 },
    });

    expect(resolvePipelineProps(pipelinePropsFromConfig(config))).toEqual(config);
    expect(resolvePipelineProps(pipelinePropsFromConfig(DEFAULT_CONFIG))).toEqual(DEFAULT_CONFIG);
  });

  it('takes durations in any unit that comes to whole units of the setting', () => {
    const settings = resolvePipelineProps({
      providerTimeout: Duration.seconds(1.5),
      speechUrlTtl: Duration.minutes(2),
      cloneQueue: { maxBatchingWindow: Duration.millis(3_000) },
      alarms: { oldestCloneMessageAge: Duration.hours(2) },
    });

    expect(settings.providerTimeoutMs).toBe(1_500);
    expect(settings.speechUrlTtlSeconds).toBe(120);
    expect(settings.cloneQueue.maxBatchingWindowSeconds).toBe(3);
    expect(settings.alarms.oldestMessageAgeMinutes).toBe(120);
  });

  it('reports every bad prop together, named as the construct names it', () => {
    const problems = problemsOf({
      defaultProvider: 'elevenlabs' as never,
      providers: {
        smallest: { baseUrl: 'http://api.smallest.ai', model: 'lightning-v2', cloneConcurrency: 0 },
        typecast: { model: 'ssfm-v9' },
      },
      providerTimeout: Duration.minutes(5),
      cloneQueue: {
        batchSize: 11,
        maxBatchingWindow: Duration.millis(1_500),
        maxReceiveCount: 0,
        maxConcurrency: 1,
      },
      api: {
        authorization: 'cognito' as never,
        stageName: 'v1/beta',
        throttleRateLimit: 0,
        throttleBurstLimit: 2.5,
      },
      speechUrlTtl: Duration.seconds(30),
      uploadUrlTtl: Duration.days(1),
      logRetention: RetentionDays.INFINITE,
      removalPolicy: RemovalPolicy.SNAPSHOT,
      alarmEmail: 'not an address',
      alarms: { oldestCloneMessageAge: Duration.minutes(4) },
      dashboardName: 'voicedrop dashboard',
    });

    expect(problems).toEqual([
      'defaultProvider must be one of "smallest", "typecast" (got "elevenlabs")',
      'providers.smallest.baseUrl must be an https:// URL (got "http://api.smallest.ai")',
      expect.stringMatching(
        /^providers\.smallest\.model is rejected by the provider: .*\(got "lightning-v2"\)$/,
      ),
      'providers.smallest.cloneConcurrency must be a whole number from 1 to 100 (got 0)',
      'providers.typecast.model must be one of "ssfm-v30", "ssfm-v21" (got "ssfm-v9")',
      'providerTimeout must be a whole number of milliseconds from 1000 to 240000 (got 5 minutes)',
      'cloneQueue.batchSize must be a whole number from 1 to 10 (got 11)',
      'cloneQueue.maxBatchingWindow must be a whole number of seconds from 0 to 300 (the Lambda limit) (got 1 second 500 millis)',
      'cloneQueue.maxReceiveCount must be a whole number from 1 to 1000 (the SQS limit) (got 0)',
      'cloneQueue.maxConcurrency must be a whole number from 2 to 1000 (SQS event sources accept at least 2) (got 1)',
      'api.authorization must be "iam" or "none" (got "cognito")',
      'api.stageName must be 1 to 128 letters, digits, hyphens or underscores (got "v1/beta")',
      expect.stringMatching(/^api\.throttleRateLimit must be a whole number from 1 to 10000 .*\(got 0\)$/),
      expect.stringMatching(/^api\.throttleBurstLimit must be a whole number from 1 to 5000 .*\(got 2\.5\)$/),
      'speechUrlTtl must be a whole number of seconds from 60 to 3600 (got 30 seconds)',
      'uploadUrlTtl must be a whole number of seconds from 60 to 3600 (got 1 day)',
      expect.stringMatching(
        /^logRetention must be a CloudWatch Logs retention period in days: .*\(got 9999\)$/,
      ),
      'removalPolicy must be RemovalPolicy.RETAIN or RemovalPolicy.DESTROY (got "snapshot")',
      'alarmEmail must be an e-mail address (got "not an address")',
      expect.stringMatching(
        /^alarms\.oldestCloneMessageAge must be a whole number of minutes from 5 to 1440 .*\(got 4 minutes\)$/,
      ),
      'dashboardName must be 1 to 255 letters, digits, hyphens or underscores (got "voicedrop dashboard")',
    ]);
  });

  it('puts every problem and the construct’s path in one message', () => {
    expect(() =>
      resolvePipelineProps({ cloneQueue: { batchSize: 0 }, alarmEmail: 'nobody' }, 'App/Pipeline'),
    ).toThrow(
      /^Invalid VoicedropPipeline props at App\/Pipeline, 2 problems:\n {2}- cloneQueue\.batchSize .*\n {2}- alarmEmail /,
    );
  });

  it('refuses numbers and durations that are unknown until deployment, but takes an e-mail that is', () => {
    const stack = new Stack();
    const email = new CfnParameter(stack, 'AlarmEmail').valueAsString;

    expect(
      problemsOf({
        cloneQueue: { batchSize: Token.asNumber(new CfnParameter(stack, 'BatchSize').value) },
        speechUrlTtl: Duration.seconds(new CfnParameter(stack, 'Ttl', { type: 'Number' }).valueAsNumber),
        alarmEmail: email,
      }),
    ).toEqual([
      'cloneQueue.batchSize must be known at synth time (got a token)',
      'speechUrlTtl must be known at synth time (got a token)',
    ]);
    expect(resolvePipelineProps({ alarmEmail: email }).alarmEmail).toBe(email);
  });
});

describe('Function: accessLogsObjectOwnership', () => {
  it('disables ACLs when S3 delivers access logs by bucket policy, as the cdk.json flag makes it', () => {
    const flag = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

    expect(accessLogsObjectOwnership(new Stack(new App({ context: { [flag]: true } })))).toBe(
      ObjectOwnership.BUCKET_OWNER_ENFORCED,
    );
    expect(accessLogsObjectOwnership(new Stack(new App({ context: { [flag]: false } })))).toBe(
      ObjectOwnership.OBJECT_WRITER,
    );
  });
});

describe('Class: VoicedropPipeline', () => {
  it('validates its props before it builds anything, naming itself in the error', () => {
    const stack = new Stack(new App(), 'Test');

    expect(() => new VoicedropPipeline(stack, 'Pipeline', { removalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(
      /^Invalid VoicedropPipeline props at Test\/Pipeline, 1 problem:\n {2}- removalPolicy /,
    );
    expect(stack.node.findAll().map((construct) => construct.node.path)).toEqual(['Test', 'Test/Pipeline']);
  });
});
