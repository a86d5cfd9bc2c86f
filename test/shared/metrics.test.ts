import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLambdaMetrics } from '../../functions/shared/metrics';

afterEach(() => {
  vi.restoreAllMocks();
});

function captureStdout(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return lines;
}

function embeddedMetrics(lines: string[]) {
  return lines
    .flatMap((line) => line.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map(
      (line) =>
        JSON.parse(line) as Record<string, unknown> & {
          _aws: {
            CloudWatchMetrics: {
              Namespace: string;
              Dimensions: string[][];
              Metrics: { Name: string; Unit: string }[];
            }[];
          };
        },
    );
}

describe('createLambdaMetrics', () => {
  it('writes counts as one embedded-metrics document per invocation in the Voicedrop namespace', () => {
    const lines = captureStdout();
    const metrics = createLambdaMetrics('voicedrop-clone');
    metrics.count('ClonesStarted');
    metrics.count('ClonesReady');
    metrics.count('ClonesReady');
    metrics.publish();
    const [document] = embeddedMetrics(lines);
    expect(document?._aws.CloudWatchMetrics[0]?.Namespace).toBe('Voicedrop');
    expect(document?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(document?.service).toBe('voicedrop-clone');
    expect(document?.ClonesStarted).toBe(1);
    expect(document?.ClonesReady).toEqual([1, 1]);
  });

  it('writes provider latency with Provider and Operation dimensions at once', () => {
    const lines = captureStdout();
    const metrics = createLambdaMetrics('voicedrop-api');
    metrics.providerLatency('typecast', 'speech', 812);
    const [document] = embeddedMetrics(lines);
    expect(document?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'ProviderLatency', Unit: 'Milliseconds' },
    ]);
    expect(document).toMatchObject({ Provider: 'typecast', Operation: 'speech', ProviderLatency: 812 });
  });

  it('publishes nothing for an invocation without business events', () => {
    const lines = captureStdout();
    createLambdaMetrics('voicedrop-clone').publish();
    expect(embeddedMetrics(lines)).toEqual([]);
  });
});
