import { describe, expect, it } from 'vitest';
import { BUDGETS, evaluateBudgets, figureAt } from '../../scripts/bench/budgets';
import {
  type BenchResult,
  FUNCTION_NAMES,
  formatBytes,
  formatJsonLine,
  formatReport,
} from '../../scripts/bench/report';
import { median, percentile } from '../../scripts/bench/stats';

describe('Function: percentile', () => {
  it('interpolates between the two nearest ranks', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48);
    expect(percentile([10, 20, 30, 40, 50], 25)).toBe(20);
  });

  it('returns the extremes at 0 and 100 whatever the input order', () => {
    expect(percentile([5, 1, 9, 3], 0)).toBe(1);
    expect(percentile([5, 1, 9, 3], 100)).toBe(9);
  });

  it('returns the only sample of a list of one', () => {
    expect(percentile([7], 95)).toBe(7);
    expect(median([7])).toBe(7);
  });

  it('does not reorder the caller’s array', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it('throws on no samples or a percentile outside 0–100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });
});

function sampleResult(overrides: Partial<BenchResult> = {}): BenchResult {
  // clone sits exactly at its bundle budgets, api just over them; the plain SDK figures are far over the
  // same limits, which must not matter: they are not budgeted.
  const bundle = {
    bytes: 600_000,
    mapBytes: 900_000,
    importMs: 80.5,
    importOverheadMs: 80,
    plainSdkBytes: 713_000,
    plainSdkImportOverheadMs: 95.25,
    importMsWithoutSourceMaps: 75,
    processWallMs: 120,
    processWallOverheadMs: 70,
    runs: 15,
  };
  const partial: Omit<BenchResult, 'budgets'> = {
    timestamp: '2026-01-01T00:00:00.000Z',
    machine: {
      cpuModel: 'Test CPU',
      cores: 2,
      totalMemoryBytes: 8 * 1024 ** 3,
      nodeVersion: 'v24.0.0',
      platform: 'linux-x64',
    },
    durationSec: 30,
    bundles: {
      clone: bundle,
      api: { ...bundle, bytes: 600_001, importOverheadMs: 80.01 },
      // The stream, sweep and webhook bundles have a size budget only: an import overhead far over 80 ms
      // fails nothing. events sits at its limit, retention just over, webhooks under.
      events: { ...bundle, bytes: 250_000, importOverheadMs: 200 },
      retention: { ...bundle, bytes: 550_001, importOverheadMs: 200 },
      webhooks: { ...bundle, bytes: 299_999, importOverheadMs: 200 },
    },
    validation: {
      oversize: {
        sizeBytes: 31_457_280,
        bytesRead: 65_536,
        requests: 1,
        ms: 0.01,
        verdict: 'file_too_large',
        runs: 7,
      },
      garbage: {
        sizeBytes: 20_971_520,
        bytesRead: 65_536,
        requests: 1,
        ms: 4,
        verdict: 'unreadable_audio',
        runs: 7,
      },
      wav: { sizeBytes: 20_815_244, bytesRead: 65_536, requests: 1, ms: 3, verdict: 'ok', runs: 7 },
      mp3: { sizeBytes: 80_000, bytesRead: 80_000, requests: 3, ms: 5, verdict: 'ok', runs: 7 },
      quality: {
        wav: {
          durationSec: 150,
          sizeBytes: 13_230_044,
          ms: 144,
          speechSec: 150,
          rssGrowthBytes: 66e6,
          runs: 5,
        },
        mp3: {
          durationSec: 150,
          sizeBytes: 1_200_378,
          ms: 1_000.5,
          speechSec: 150,
          rssGrowthBytes: 52e6,
          runs: 5,
        },
      },
    },
    speech: {
      overheadMsP50: 12,
      overheadMsP95: 20,
      requests: 300,
      characters: 35,
      handlerMsP50: 20,
      providerMsP50: 8,
    },
    methods: { speech: 'app.request' },
    errors: { clonePipeline: 'simulator refused' },
    ...overrides,
  };
  return { ...partial, budgets: evaluateBudgets(partial) };
}

describe('Function: figureAt', () => {
  it('reads a number at a dotted path and nothing else', () => {
    const result = sampleResult();
    expect(figureAt(result, 'bundles.api.bytes')).toBe(600_001);
    expect(figureAt(result, 'bundles.clone.plainSdkImportOverheadMs')).toBe(95.25);
    expect(figureAt(result, 'clonePipeline.overheadMsP50')).toBeUndefined();
    expect(figureAt(result, 'validation.wav.verdict')).toBeUndefined();
    expect(figureAt(result, 'bundles')).toBeUndefined();
  });
});

describe('Function: evaluateBudgets', () => {
  it('passes figures at or under their limit and fails those over it', () => {
    const verdicts = sampleResult().budgets;
    const verdict = (figure: string) => verdicts.find((entry) => entry.figure === figure);
    expect(verdict('bundles.clone.bytes')).toMatchObject({ value: 600_000, limit: 900_000, pass: true });
    expect(verdict('bundles.api.bytes')).toMatchObject({ value: 600_001, limit: 600_000, pass: false });
    expect(verdict('bundles.clone.importOverheadMs')).toMatchObject({ value: 80, limit: 80, pass: true });
    expect(verdict('bundles.api.importOverheadMs')).toMatchObject({ value: 80.01, limit: 80, pass: false });
    expect(verdict('bundles.events.bytes')).toMatchObject({ value: 250_000, limit: 250_000, pass: true });
    expect(verdict('bundles.retention.bytes')).toMatchObject({ value: 550_001, limit: 550_000, pass: false });
    expect(verdict('bundles.webhooks.bytes')).toMatchObject({ value: 299_999, limit: 300_000, pass: true });
    expect(verdict('validation.oversize.bytesRead')).toMatchObject({
      value: 65_536,
      limit: 65_536,
      pass: true,
    });
    expect(verdict('validation.oversize.requests')).toMatchObject({ value: 1, limit: 1, pass: true });
    expect(verdict('validation.quality.wav.ms')).toMatchObject({ value: 144, pass: true });
    expect(verdict('validation.quality.mp3.ms')).toMatchObject({ value: 1_000.5, pass: false });
    expect(verdict('validation.garbage.bytesRead')).toMatchObject({ value: 65_536, pass: true });
    expect(verdict('speech.overheadMsP50')).toMatchObject({ value: 12, pass: false });
  });

  it('fails a figure that was not measured', () => {
    const verdicts = sampleResult().budgets;
    expect(verdicts.find((entry) => entry.figure === 'clonePipeline.overheadMsP50')).toMatchObject({
      value: undefined,
      pass: false,
    });
  });

  it('holds the figures to the agreed budgets', () => {
    expect(BUDGETS.map(({ figure, limit, unit }) => `${figure} ≤ ${limit} ${unit}`)).toEqual([
      'bundles.clone.bytes ≤ 900000 bytes',
      'bundles.api.bytes ≤ 600000 bytes',
      'bundles.events.bytes ≤ 250000 bytes',
      'bundles.retention.bytes ≤ 550000 bytes',
      'bundles.webhooks.bytes ≤ 300000 bytes',
      'bundles.clone.importOverheadMs ≤ 80 ms',
      'bundles.api.importOverheadMs ≤ 80 ms',
      'validation.oversize.bytesRead ≤ 65536 bytes',
      'validation.oversize.requests ≤ 1 count',
      'validation.quality.mp3.ms ≤ 1000 ms',
      'validation.quality.wav.ms ≤ 1000 ms',
      'validation.garbage.bytesRead ≤ 65536 bytes',
      'clonePipeline.overheadMsP50 ≤ 50 ms',
      'speech.overheadMsP50 ≤ 10 ms',
      'speech.ttfbOverFirstByteMs.smallest.5000 ≤ 50 ms',
      'speech.ttfbOverFirstByteMs.typecast.5000 ≤ 50 ms',
      'speech.totalOverSchedule.smallest.5000 ≤ 1.1 ratio',
      'speech.totalOverSchedule.typecast.5000 ≤ 1.1 ratio',
      'speech.cacheHitMsP50 ≤ 15 ms',
      'memory.peakRssGrowthPerUploadByte ≤ 2.5 ratio',
    ]);
  });

  it('budgets the import overhead of clone and api only, and the bytes of every function', () => {
    const budgeted = (figure: string) => BUDGETS.filter((budget) => budget.figure.endsWith(`.${figure}`));
    expect(budgeted('importOverheadMs').map((budget) => budget.figure)).toEqual([
      'bundles.clone.importOverheadMs',
      'bundles.api.importOverheadMs',
    ]);
    expect(budgeted('bytes').map((budget) => budget.figure.split('.')[1])).toEqual([...FUNCTION_NAMES]);
  });

  it('does not budget the plain SDK baseline, however large it is', () => {
    expect(BUDGETS.filter((budget) => budget.figure.includes('plainSdk'))).toEqual([]);
    const verdicts = sampleResult().budgets;
    expect(verdicts.some((entry) => entry.figure.includes('plainSdk'))).toBe(false);
    expect(verdicts.find((entry) => entry.figure === 'bundles.clone.importOverheadMs')?.pass).toBe(true);
  });

  it('reports every budget, in order', () => {
    expect(sampleResult().budgets.map((entry) => entry.figure)).toEqual(BUDGETS.map((entry) => entry.figure));
  });
});

describe('Function: formatJsonLine', () => {
  it('prints the whole result as exactly one line of JSON', () => {
    const result = sampleResult({ methods: { note: 'first line\nsecond line' } });
    const line = formatJsonLine(result);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(result)));
  });

  it('rounds fractions to three decimals and keeps integers', () => {
    const base = sampleResult();
    const bundles = base.bundles as NonNullable<BenchResult['bundles']>;
    const result = { ...base, bundles: { ...bundles, clone: { ...bundles.clone, importMs: 123.456789 } } };
    const parsed = JSON.parse(formatJsonLine(result));
    expect(parsed.bundles.clone.importMs).toBe(123.457);
    expect(parsed.bundles.clone.bytes).toBe(600_000);
  });

  it('carries the plain SDK baseline of each function', () => {
    const parsed = JSON.parse(formatJsonLine(sampleResult()));
    for (const name of FUNCTION_NAMES) {
      expect(parsed.bundles[name]).toMatchObject({ plainSdkBytes: 713_000, plainSdkImportOverheadMs: 95.25 });
    }
  });
});

describe('Function: formatReport', () => {
  it('shows the machine, the figures, PASS/FAIL per budget and what was not measured', () => {
    const report = formatReport(sampleResult());
    expect(report).toContain('Test CPU, 2 cores, 8192.00 MiB RAM, Node v24.0.0');
    expect(report).toMatch(/PASS {2}bundles\.clone\.bytes +600,000 B {2}≤ 900,000 B/);
    expect(report).toMatch(/PASS {2}validation\.oversize\.requests +1 {2}≤ 1/);
    expect(report).toMatch(/FAIL {2}validation\.quality\.mp3\.ms +1000\.50 ms {2}≤ 1000\.00 ms/);
    expect(report).toMatch(/mp3 +1\.14 MiB +1000\.50 ms +150\.0/);
    expect(report).toMatch(/FAIL {2}bundles\.api\.bytes +600,001 B {2}≤ 600,000 B/);
    expect(report).toMatch(/PASS {2}bundles\.clone\.importOverheadMs +80\.00 ms {2}≤ 80\.00 ms/);
    expect(report).toMatch(/FAIL {2}bundles\.api\.importOverheadMs +80\.01 ms {2}≤ 80\.00 ms/);
    expect(report).toMatch(/FAIL {2}clonePipeline\.overheadMsP50 +not measured/);
    expect(report).toContain('clonePipeline: simulator refused');
    expect(report).toMatch(/garbage +20\.00 MiB +65,536 +1 +4\.00 ms +unreadable_audio/);
  });

  it('shows the plain SDK bytes next to the bytes and its overhead next to the import overhead', () => {
    const lines = formatReport(sampleResult()).split('\n');
    const header = lines.find((line) => line.trimStart().startsWith('function'));
    expect(header).toMatch(
      /bytes +plain SDK bytes +map +import +overhead +plain SDK overhead +no source maps/,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^ {2}clone +600,000 +713,000 +878\.9 KiB +80\.50 ms +80\.00 ms +95\.25 ms +75\.00 ms/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^ {2}api +600,001 +713,000 +878\.9 KiB +80\.50 ms +80\.01 ms +95\.25 ms/),
    );
    for (const [name, bytes] of [
      ['events', '250,000'],
      ['retention', '550,001'],
      ['webhooks', '299,999'],
    ]) {
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^ {2}${name} +${bytes} +713,000 +878\\.9 KiB +80\\.50 ms +200\\.00 ms`),
        ),
      );
    }
    // Not a budget: the baseline appears in no budget line.
    expect(lines.filter((line) => /^ {2}(PASS|FAIL) /.test(line) && line.includes('plainSdk'))).toEqual([]);
  });

  it('says whether the metafile build has the size of the CDK bundle', () => {
    const contributors = { totalBytes: 400_000, topInputs: [], topPackages: [] };
    const report = formatReport(
      sampleResult({
        contributors: {
          bundleBytes: {
            clone: { ...contributors, matchesCdkBundle: true },
            api: { ...contributors, matchesCdkBundle: false },
            events: contributors,
            retention: contributors,
            webhooks: { ...contributors, matchesCdkBundle: true },
          },
        },
      }),
    );
    expect(report).toContain('Bundle size, clone (esbuild metafile: 400,000 B, the size of the CDK bundle)');
    expect(report).toContain('Bundle size, api (esbuild metafile: 400,000 B, NOT the size of the CDK bundle');
    expect(report).toContain('Bundle size, events (esbuild metafile: 400,000 B)\n');
    expect(report).toContain(
      'Bundle size, webhooks (esbuild metafile: 400,000 B, the size of the CDK bundle)',
    );
  });

  it('leaves out sections that have no figures', () => {
    const report = formatReport(sampleResult());
    expect(report).not.toContain('Memory (');
    expect(report).not.toContain('Clone pipeline (');
  });
});

describe('Function: formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.00 MiB');
  });
});
