import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { InvalidConfigurationError, parseConfig, readConfig, type VoicedropConfig } from '../../lib/config';
import { problemsReported } from './support';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
  readonly context: { readonly voicedrop: unknown };
};

const DEFAULTS: VoicedropConfig = {
  webhooks: [],
  defaultProvider: 'smallest',
  providers: {
    smallest: {
      baseUrl: 'https://api.smallest.ai',
      model: 'lightning-v3.1',
      cloneConcurrency: 1,
      speechConcurrency: 1,
    },
    typecast: {
      baseUrl: 'https://api.typecast.ai',
      model: 'ssfm-v30',
      cloneConcurrency: 2,
      speechConcurrency: 2,
    },
  },
  providerTimeoutMs: 60_000,
  cloneQueue: { batchSize: 5, maxBatchingWindowSeconds: 0, maxReceiveCount: 8, maxConcurrency: 2 },
  api: { authorization: 'iam', stageName: 'v1', throttle: { rateLimit: 10, burstLimit: 20 } },
  speechUrlTtlSeconds: 900,
  speechCacheDays: 30,
  uploadUrlTtlSeconds: 900,
  logRetentionDays: 30,
  removalPolicy: 'retain',
  alarmEmail: null,
  alarms: { oldestMessageAgeMinutes: 60 },
  validation: {
    trim: 'off',
    quality: { silencePeakDbfs: -60, minSpeechLevelDbfs: -50, maxClippedRatio: 0.01 },
  },
  consent: { required: false },
  retention: { unusedDays: 1_095, maxAgeDays: null, rejectedDays: 30 },
};

const problemsOf = (raw: unknown) => problemsReported(() => parseConfig(raw), InvalidConfigurationError);

describe('Function: parseConfig', () => {
  it('takes consent and retention settings, and reports every bad one together', () => {
    const config = parseConfig({
      consent: { required: true },
      retention: { unusedDays: null, maxAgeDays: 365, rejectedDays: 7 },
    });
    expect(config.consent).toEqual({ required: true });
    expect(config.retention).toEqual({ unusedDays: null, maxAgeDays: 365, rejectedDays: 7 });
    const problems = problemsOf({
      consent: { required: 'yes' },
      retention: { unusedDays: 1_096, maxAgeDays: 0, rejectedDays: null, keepForever: true },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^voicedrop\.consent\.required must be true or false/),
        expect.stringMatching(
          /^voicedrop\.retention\.unusedDays must be a whole number from 1 to 1095 \(BIPA/,
        ),
        expect.stringMatching(/^voicedrop\.retention\.maxAgeDays must be a whole number from 1 to 1095/),
        expect.stringMatching(/^voicedrop\.retention\.rejectedDays must be a whole number/),
        expect.stringMatching(/^voicedrop\.retention has unknown key "keepForever"/),
      ]),
    );
  });

  it('returns the defaults when the context has no voicedrop key', () => {
    expect(parseConfig(undefined)).toEqual(DEFAULTS);
  });

  it('ships cdk.json with exactly the defaults, so a -c override falls back to the same values', () => {
    expect(cdkJson.context.voicedrop).toEqual(DEFAULTS);
    expect(parseConfig(cdkJson.context.voicedrop)).toEqual(DEFAULTS);
  });

  it('keeps the defaults for every key an override leaves out, at any depth', () => {
    const config = parseConfig({
      providers: { typecast: { model: 'ssfm-v21', cloneConcurrency: 15 } },
      cloneQueue: { maxConcurrency: 4 },
      removalPolicy: 'destroy',
      alarmEmail: 'ops@example.com',
    });

    expect(config).toEqual({
      ...DEFAULTS,
      providers: {
        ...DEFAULTS.providers,
        typecast: { ...DEFAULTS.providers.typecast, model: 'ssfm-v21', cloneConcurrency: 15 },
      },
      cloneQueue: { ...DEFAULTS.cloneQueue, maxConcurrency: 4 },
      removalPolicy: 'destroy',
      alarmEmail: 'ops@example.com',
    });
  });

  it('parses the JSON string that `cdk synth -c voicedrop=…` passes', () => {
    const config = parseConfig('{"logRetentionDays": 7, "providerTimeoutMs": 30000}');

    expect(config.logRetentionDays).toBe(7);
    expect(config.providerTimeoutMs).toBe(30_000);
    expect(config.cloneQueue).toEqual(DEFAULTS.cloneQueue);
  });

  it('drops the trailing slash of a base URL so handlers can append paths', () => {
    const config = parseConfig({
      providers: { smallest: { baseUrl: 'https://proxy.example.com/smallest/' } },
    });

    expect(config.providers.smallest.baseUrl).toBe('https://proxy.example.com/smallest');
  });

  it('names the two settings that replaced the single provider concurrency', () => {
    const problems = problemsOf({ providers: { typecast: { concurrency: 5 } } });
    expect(problems).toEqual([
      expect.stringMatching(
        /^voicedrop\.providers\.typecast\.concurrency was split in two: set cloneConcurrency .* and speechConcurrency/,
      ),
    ]);
  });

  it('keeps clone and speech concurrency apart, each defaulting to the provider limits', () => {
    const config = parseConfig({ providers: { typecast: { speechConcurrency: 5 } } });
    expect(config.providers.typecast).toMatchObject({ cloneConcurrency: 2, speechConcurrency: 5 });
    expect(config.providers.smallest).toMatchObject({ cloneConcurrency: 1, speechConcurrency: 1 });
  });

  it('reports several bad values together in one error', () => {
    const raw = {
      defaultProvider: 'elevenlabs',
      providers: { smallest: { baseUrl: 'http://api.smallest.ai', cloneConcurrency: 0 } },
      providerTimeoutMs: 'sixty seconds',
      cloneQueue: { batchSize: 11, maxConcurrency: 1 },
      logRetentionDays: 31,
      removalPolicy: 'snapshot',
      alarmEmail: 'not an address',
    };

    expect(() => parseConfig(raw)).toThrow(InvalidConfigurationError);
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(9);
    expect(problems).toEqual([
      expect.stringMatching(
        /^voicedrop\.defaultProvider must be one of "smallest", "typecast" \(got "elevenlabs"\)$/,
      ),
      expect.stringMatching(/^voicedrop\.providers\.smallest\.baseUrl must be an https:\/\/ URL/),
      expect.stringMatching(
        /^voicedrop\.providers\.smallest\.cloneConcurrency must be a whole number from 1 to 100/,
      ),
      expect.stringMatching(/^voicedrop\.providerTimeoutMs must be a whole number/),
      expect.stringMatching(
        /^voicedrop\.cloneQueue\.batchSize must be a whole number from 1 to 10 \(got 11\)$/,
      ),
      expect.stringMatching(/^voicedrop\.cloneQueue\.maxConcurrency must be a whole number from 2 to 1000/),
      expect.stringMatching(
        /^voicedrop\.logRetentionDays must be a CloudWatch Logs retention period .*\(got 31\)$/,
      ),
      expect.stringMatching(/^voicedrop\.removalPolicy must be "retain" or "destroy"/),
      expect.stringMatching(/^voicedrop\.alarmEmail must be an e-mail address or null/),
    ]);
  });

  it('puts every problem in the error message, one per line', () => {
    expect(() => parseConfig({ removalPolicy: 'snapshot', cloneQueue: { maxReceiveCount: 0 } })).toThrow(
      /2 problems:\n {2}- voicedrop\.cloneQueue\.maxReceiveCount .*\n {2}- voicedrop\.removalPolicy /,
    );
  });

  it('rejects a model the provider refuses, with the provider’s own reason', () => {
    expect(problemsOf({ providers: { smallest: { model: 'lightning-v2' } } })).toEqual([
      'voicedrop.providers.smallest.model is rejected by the provider: Voice cloning for lightning-v2 is deprecated. ' +
        'Please use lightning-v3.1 (got "lightning-v2")',
    ]);
    expect(problemsOf({ providers: { typecast: { model: 'ssfm-v9' } } })).toEqual([
      'voicedrop.providers.typecast.model must be one of "ssfm-v30", "ssfm-v21" (got "ssfm-v9")',
    ]);
  });

  it('reports unknown keys, so a misspelt setting is not silently ignored', () => {
    expect(problemsOf({ logRetentionDay: 7, providers: { elevenlabs: {} } })).toEqual([
      'voicedrop.providers has unknown key "elevenlabs"',
      'voicedrop has unknown key "logRetentionDay"',
    ]);
  });

  it('requires IAM authorization unless "none" is written out', () => {
    expect(parseConfig({ api: {} }).api.authorization).toBe('iam');
    expect(parseConfig({ api: { stageName: 'test' } }).api.authorization).toBe('iam');
    expect(parseConfig({ api: { authorization: 'none' } }).api.authorization).toBe('none');
  });

  it('keeps the API defaults for every API key an override leaves out', () => {
    expect(parseConfig({ api: { throttle: { burstLimit: 50 } } }).api).toEqual({
      ...DEFAULTS.api,
      throttle: { rateLimit: 10, burstLimit: 50 },
    });
  });

  it('reports every bad API setting together', () => {
    expect(
      problemsOf({
        api: { authorization: 'cognito', stageName: 'v1/beta', throttle: { rateLimit: 0, burstLimit: 2.5 } },
        speechUrlTtlSeconds: 30,
        uploadUrlTtlSeconds: 86_400,
      }),
    ).toEqual([
      'voicedrop.api.authorization must be "iam" or "none" (none: for test deployments only) (got "cognito")',
      'voicedrop.api.stageName must be 1 to 128 letters, digits, hyphens or underscores (got "v1/beta")',
      expect.stringMatching(
        /^voicedrop\.api\.throttle\.rateLimit must be a whole number from 1 to 10000 .*\(got 0\)$/,
      ),
      expect.stringMatching(
        /^voicedrop\.api\.throttle\.burstLimit must be a whole number from 1 to 5000 .*\(got 2\.5\)$/,
      ),
      'voicedrop.speechUrlTtlSeconds must be a whole number from 60 to 3600 (got 30)',
      'voicedrop.uploadUrlTtlSeconds must be a whole number from 60 to 3600 (got 86400)',
    ]);
  });

  it('reports a misspelt API setting', () => {
    expect(problemsOf({ api: { auth: 'none', throttle: { rate: 5 } } })).toEqual([
      'voicedrop.api.throttle has unknown key "rate"',
      'voicedrop.api has unknown key "auth"',
    ]);
  });

  it('takes the backlog alarm threshold in whole minutes, from 5 minutes to a day', () => {
    expect(parseConfig({ alarms: { oldestMessageAgeMinutes: 90 } }).alarms).toEqual({
      oldestMessageAgeMinutes: 90,
    });
    expect(parseConfig({ alarms: {} }).alarms).toEqual(DEFAULTS.alarms);
    expect(problemsOf({ alarms: { oldestMessageAgeMinutes: 4 }, alarmEmail: 'nobody' })).toEqual([
      expect.stringMatching(/^voicedrop\.alarmEmail must be an e-mail address or null/),
      'voicedrop.alarms.oldestMessageAgeMinutes must be a whole number from 5 to 1440 ' +
        '(the clone queue keeps messages 4 days) (got 4)',
    ]);
    expect(problemsOf({ alarms: { oldestMessageAge: 30, oldestMessageAgeMinutes: 1.5 } })).toEqual([
      expect.stringMatching(
        /^voicedrop\.alarms\.oldestMessageAgeMinutes must be a whole number .*\(got 1\.5\)$/,
      ),
      'voicedrop.alarms has unknown key "oldestMessageAge"',
    ]);
  });

  it('refuses to keep logs forever', () => {
    expect(problemsOf({ logRetentionDays: 9999 })).toHaveLength(1);
  });

  it('throws a readable error when the -c value is not JSON', () => {
    expect(problemsOf('{removalPolicy: destroy}')).toEqual([
      expect.stringMatching(/^voicedrop is not valid JSON/),
    ]);
  });
});

describe('Function: readConfig', () => {
  it('reads the voicedrop object from the app context', () => {
    const app = new App({ context: { voicedrop: { defaultProvider: 'typecast' } } });

    expect(readConfig(app).defaultProvider).toBe('typecast');
  });

  it('returns the defaults for an app without voicedrop context', () => {
    expect(readConfig(new App())).toEqual(DEFAULTS);
  });
});
