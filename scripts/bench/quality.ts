/**
 * The speech-quality gate's cost: decoding a 150 s sample (Typecast's longest) to mono PCM and measuring
 * its speech, in this process, for a WAV and an MP3 made in-process (test/support/audio.ts: voiced
 * syllables, 44.1 kHz mono; the MP3 at 64 kbit/s). `npm run bench` reports it as validation.quality.
 */
import { decodeAudio } from '../../functions/shared/audio/decode';
import { probeAudio } from '../../functions/shared/audio/probe';
import { bufferByteSource } from '../../functions/shared/audio/sources';
import { measureSpeech } from '../../functions/shared/audio/speech-quality';
import { makeMp3, makeWav } from '../../test/support/audio';
import type { QualityCase, QualityFigures } from './report';
import { median } from './stats';

export const QUALITY_SAMPLE_SEC = 150;

/** The 150 s samples, made once per process (lamejs takes a few seconds for the MP3). */
export function qualitySamples(): Record<QualityCase, Uint8Array> {
  return {
    wav: makeWav({ durationSec: QUALITY_SAMPLE_SEC, sampleRate: 44_100 }),
    mp3: makeMp3({ durationSec: QUALITY_SAMPLE_SEC, sampleRate: 44_100 }),
  };
}

/**
 * Median wall time of `runs` decode + measure passes over each sample, after one warm-up pass (which
 * loads and compiles the MP3 decoder when nothing before it in the process has). Figures in ms.
 */
export async function benchQuality(
  runs: number,
  samples: Record<QualityCase, Uint8Array> = qualitySamples(),
): Promise<Record<QualityCase, QualityFigures>> {
  const figures = {} as Record<QualityCase, QualityFigures>;
  for (const [name, bytes] of Object.entries(samples) as [QualityCase, Uint8Array][]) {
    const probe = await probeAudio(bufferByteSource(bytes));
    if (probe.kind !== 'audio') throw new Error(`the ${name} sample is not audio (${probe.kind})`);
    const totals: number[] = [];
    const decodes: number[] = [];
    const measures: number[] = [];
    let speechSec = 0;
    let firstMs = 0;
    for (let run = 0; run <= runs; run++) {
      const started = performance.now();
      const decoded = await decodeAudio(bytes, probe);
      const afterDecode = performance.now();
      if (!decoded.decoded) throw new Error(`the ${name} sample was not decoded: ${decoded.reason}`);
      speechSec = measureSpeech(decoded).quality.speechSec;
      const finished = performance.now();
      if (run === 0) {
        firstMs = finished - started;
        continue;
      }
      totals.push(finished - started);
      decodes.push(afterDecode - started);
      measures.push(finished - afterDecode);
    }
    figures[name] = {
      durationSec: probe.durationSec,
      sizeBytes: bytes.length,
      ms: median(totals),
      decodeMs: median(decodes),
      measureMs: median(measures),
      firstMs,
      speechSec,
      runs,
    };
  }
  return figures;
}
