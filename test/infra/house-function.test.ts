import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { HouseFunction } from '../../lib/house-function';
import { cdkJson } from './support';

describe('Class: HouseFunction', () => {
  function houseFunction(): HouseFunction {
    const stack = new Stack(new App({ context: cdkJson.context }), 'Test');
    return new HouseFunction(stack, 'Example', {
      entry: 'functions/clone/handler.ts',
      description: 'example',
      memorySize: 256,
      timeout: Duration.seconds(10),
      serviceName: 'example',
      metricsNamespace: 'Example',
      logRetention: RetentionDays.ONE_WEEK,
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
  }

  it('throws when one environment variable is set to two different values', () => {
    const example = houseFunction().addEnvironment('VOICES_TABLE_NAME', 'first');

    expect(() => example.addEnvironment('VOICES_TABLE_NAME', 'first')).not.toThrow();
    expect(() => example.addEnvironment('VOICES_TABLE_NAME', 'second')).toThrow(
      /already set to a different value/,
    );
  });
});
