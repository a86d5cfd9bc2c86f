/**
 * The speech-quality gate's cost: decoding and measuring a 150 s sample (the longest a provider takes),
 * as validateSource does it for an upload within the limit (functions/shared/validation/sound.ts).
 */

import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { judgeSound } from '../../functions/shared/validation/sound';
import { makeMp3, makeWav } from '../../test/support/audio';
import type { QualityFigures } from './report';
import { median } from './stats';

const DURATION_SEC = 150;

/** Median ms of decode + measure for a 150 s WAV (44.1 kHz mono) and MP3 (64 kbit/s), and the figures. */
export async function benchQuality(runs: number): Promise<Record<'wav' | 'mp3', QualityFigures>> {
  const samples = {
    wav: makeWav({ durationSec: DURATION_SEC, sampleRate: 44_100 }),
    mp3: makeMp3({ durationSec: DURATION_SEC, sampleRate: 44_100 }),
  };
  const figures = {} as Record<'wav' | 'mp3', QualityFigures>;
  for (const [name, bytes] of Object.entries(samples) as ['wav' | 'mp3', Uint8Array][]) {
    const probe = await probeAudio(bufferByteSource(bytes));
    if (probe.kind !== 'audio') throw new Error(`the ${name} bench sample does not probe as audio`);
    const times: number[] = [];
    let speechSec = 0;
    const heapBefore = process.memoryUsage().rss;
    let rssGrowth = 0;
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const judgement = await judgeSound(bytes, probe, PROVIDER_LIMITS.typecast, false);
      times.push(performance.now() - started);
      rssGrowth = Math.max(rssGrowth, process.memoryUsage().rss - heapBefore);
      speechSec = judgement.quality.measured ? judgement.quality.speechSec : 0;
    }
    figures[name] = {
      durationSec: DURATION_SEC,
      sizeBytes: bytes.length,
      ms: median(times),
      speechSec,
      rssGrowthBytes: rssGrowth,
      runs,
    };
  }
  return figures;
}
