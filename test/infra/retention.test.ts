import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidPipelinePropsError, resolvePipelineProps } from '../../lib/pipeline-settings';
import {
  identityStatements,
  logicalId,
  resourceById,
  type Synthesized,
  synthesize,
  useDefaultStack,
} from './support';

// The retention schedule and consent settings in the stack: the daily schedule, the retention function and
// its variables, CONSENT_REQUIRED on the functions that check consent.
describe('Stack: retention and consent with the cdk.json configuration', () => {
  const synthesized = useDefaultStack();

  it('runs the retention function once a day through EventBridge Scheduler, with its own role', () => {
    const { template, stack } = synthesized;
    const retention = stack.pipeline.retention;
    const functionId = logicalId(retention.retentionFunction.lambdaFunction);
    const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(1);
    const properties = (schedules[0] as { Properties: Record<string, unknown> }).Properties;
    expect(properties.ScheduleExpression).toBe('rate(1 day)');
    expect(properties.State).toBe('ENABLED');
    const target = properties.Target as { Arn: unknown; RoleArn: unknown; RetryPolicy: unknown };
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
    const roleId = logicalId(retention.node.findChild('ScheduleRole'));
    expect(target.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    // The role may invoke the retention function and nothing else.
    const statements = identityStatements(template).filter(({ roles }) => roles.includes(roleId));
    expect(statements.map(({ statement }) => statement.Action)).toEqual(['lambda:InvokeFunction']);
  });

  it('gives the retention function the schedule as variables, and 15 minutes', () => {
    const { template, stack } = synthesized;
    const fn = resourceById(template, logicalId(stack.pipeline.retention.retentionFunction.lambdaFunction));
    expect(fn.Properties.Timeout).toBe(900);
    expect(fn.Properties.Handler).toBe('index.handler');
    expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      RETENTION_UNUSED_DAYS: '1095',
      RETENTION_MAX_AGE_DAYS: 'off',
      RETENTION_REJECTED_DAYS: '30',
      POWERTOOLS_SERVICE_NAME: 'voicedrop-retention',
    });
  });
});

describe('Stack: retention and consent overridden in cdk.json', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize({
      consent: { required: true },
      retention: { unusedDays: null, maxAgeDays: 365, rejectedDays: 7 },
    });
  });

  it('passes them on to the functions that apply them', () => {
    const { template, stack } = synthesized;
    const variables = (construct: Parameters<typeof logicalId>[0]) =>
      (
        resourceById(template, logicalId(construct)).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    const { pipeline } = stack;
    expect(variables(pipeline.retention.retentionFunction.lambdaFunction)).toMatchObject({
      RETENTION_UNUSED_DAYS: 'off',
      RETENTION_MAX_AGE_DAYS: '365',
      RETENTION_REJECTED_DAYS: '7',
    });
    expect(variables(pipeline.apiFunction.lambdaFunction).CONSENT_REQUIRED).toBe('true');
    expect(variables(pipeline.cloneFunction.lambdaFunction).CONSENT_REQUIRED).toBe('true');
  });
});

describe('Function: resolvePipelineProps (consent and retention)', () => {
  it('reports every bad retention setting together', () => {
    let error: unknown;
    try {
      resolvePipelineProps({ retention: { unusedDays: 2_000, rejectedDays: 0 } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidPipelinePropsError);
    expect((error as InvalidPipelinePropsError).problems).toEqual([
      'retention.unusedDays must be a whole number from 1 to 1095 (BIPA: at most three years after the last interaction) (got 2000)',
      'retention.rejectedDays must be a whole number from 1 to 1095 (BIPA: at most three years after the last interaction) (got 0)',
    ]);
  });

  it('keeps null as "off" and fills in the defaults', () => {
    expect(resolvePipelineProps({ retention: { maxAgeDays: null } }).retention).toEqual({
      unusedDays: 1_095,
      maxAgeDays: null,
      rejectedDays: 30,
    });
    expect(resolvePipelineProps({ consent: { required: true } }).consent).toEqual({ required: true });
  });
});
