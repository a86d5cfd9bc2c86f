import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { PROVIDER_NAMES, type ProviderName } from '../../functions/shared/providers/types';
import { validateSource } from '../../functions/shared/validation/validate';

// Recordings made by scripts/make-quality-corpus.sh (test/fixtures/quality/README.md): ordinary ones that
// must pass, unusable ones that must fail with their code, over-long ones that need trimming for Smallest.
const CORPUS = join(import.meta.dirname, '../fixtures/quality');

interface CorpusEntry {
  readonly file: string;
  readonly expect: string;
  readonly providers?: Partial<Record<ProviderName, string>>;
  readonly description: string;
}

const entries: readonly CorpusEntry[] = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8'));
const cases = entries.flatMap((entry) =>
  PROVIDER_NAMES.map((provider) => ({
    ...entry,
    provider,
    wanted: entry.providers?.[provider] ?? entry.expect,
  })),
);

async function judge(file: string, provider: ProviderName, trim: 'auto' | 'off') {
  const bytes = new Uint8Array(readFileSync(join(CORPUS, file)));
  return validateSource(bufferByteSource(bytes), { provider, displayName: 'Corpus', options: { trim } });
}

describe('the speech-quality gate on a corpus of recordings', () => {
  it('holds ordinary, unusable and over-long recordings', () => {
    expect(entries.filter((entry) => entry.expect === 'pass').length).toBeGreaterThanOrEqual(8);
    expect(new Set(entries.map((entry) => entry.expect))).toEqual(
      new Set(['pass', 'silent_audio', 'too_quiet', 'clipped_audio', 'too_little_speech']),
    );
  });

  it.each(cases)('$file for $provider: $wanted', async ({ file, provider, wanted }) => {
    const { report } = await validateSource(
      bufferByteSource(new Uint8Array(readFileSync(join(CORPUS, file)))),
      { provider, displayName: 'Corpus', options: {} },
    );
    const codes = report.errors.map((issue) => issue.code);
    if (wanted === 'pass') expect(codes).toEqual([]);
    else expect(codes).toContain(wanted);
    // Every verdict on audio the provider takes carries the figures (or says why the codec was not measured).
    if (!codes.includes('unsupported_format')) expect(report.quality).not.toBeNull();
    if (report.quality?.measured) {
      expect(report.quality).toMatchObject({
        speechSec: expect.any(Number),
        clippedRatio: expect.any(Number),
        analyzedSec: expect.any(Number),
      });
    }
  });

  it.each(entries.filter((entry) => entry.providers?.smallest === 'audio_too_long'))(
    '$file passes for Smallest with trim=auto, cut to 5–15 s in pauses',
    async ({ file }) => {
      const { report, audio } = await judge(file, 'smallest', 'auto');
      expect(report.errors).toEqual([]);
      expect(report.trimmed).toBeDefined();
      const { startSec, endSec } = report.trimmed ?? { startSec: 0, endSec: 0 };
      expect(endSec - startSec).toBeGreaterThanOrEqual(5);
      expect(endSec - startSec).toBeLessThanOrEqual(15);
      // What is sent is a file of its own, judged again: the cut's length is the kept span.
      const cut = await validateSource(bufferByteSource(audio ?? new Uint8Array()), {
        provider: 'smallest',
        displayName: 'Cut',
        options: {},
      });
      expect(cut.report.errors).toEqual([]);
      expect(cut.report.durationSec).toBeCloseTo(endSec - startSec, 1);
    },
  );

  it('removes the lead and tail silence of a sample that fits', async () => {
    const { report } = await judge('long-leading-silence.wav', 'typecast', 'auto');
    expect(report.errors).toEqual([]);
    expect(report.trimmed?.startSec).toBeGreaterThan(3);
    expect(report.trimmed?.endSec).toBeLessThan(17);
  });

  it('never pads: a sample too short stays too short with trim', async () => {
    const { report } = await judge('mostly-silent.wav', 'smallest', 'auto');
    expect(report.errors.map((issue) => issue.code)).toContain('too_little_speech');
  });
});
