import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../functions/shared/logger';
import type { VoiceRecord } from '../../functions/shared/voices/record';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline';
import { type SmallestSimulator, startSmallestSimulator } from '../../simulators/smallest/simulator';
import { dropSample, waitForVoice } from '../support/drop';

const KEY = 'sk_quality';
const CORPUS = join(import.meta.dirname, '../fixtures/quality');

/**
 * Local mode pointed (as a user would point it) at a Smallest implementation that checks what it gets
 * itself: a clone of less than 5 s or more than 15 s of audio is refused there (simulators/smallest).
 */
describe('local mode: the quality gate and trim before Smallest', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-quality-'));
  let smallest: SmallestSimulator;
  let local: LocalPipeline;

  beforeAll(async () => {
    smallest = await startSmallestSimulator({ cloneSlots: 100, apiKeys: [KEY] });
    local = await startLocalPipeline({
      dataDir,
      s3Port: 0,
      dynamodbPort: 0,
      apiPort: 0,
      environment: { SMALLEST_API_KEY: KEY, SMALLEST_API_BASE_URL: smallest.url },
      log: silentLog,
    });
  });

  afterAll(async () => {
    await local?.close();
    await smallest?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function upload(file: string, metadata: Record<string, string> = {}): Promise<VoiceRecord> {
    const key = `incoming/smallest/${file}`;
    const voiceId = await dropSample(local.info, key, readFileSync(join(CORPUS, file)), metadata);
    return waitForVoice(local.voices, voiceId);
  }

  it('clones an over-long MP3 uploaded with trim=auto from its best 5–15 s, keeping the original', async () => {
    const before = smallest.state.counts.clone;
    const record = await upload('long-40s.mp3', { trim: 'auto' });
    expect(record.status).toBe('ready');
    const trimmed = record.source.trimmed;
    expect(trimmed).toBeDefined();
    const kept = (trimmed?.endSec ?? 0) - (trimmed?.startSec ?? 0);
    expect(kept).toBeGreaterThanOrEqual(5);
    expect(kept).toBeLessThanOrEqual(15);
    expect(record.source).toMatchObject({
      format: 'mp3',
      bytes: readFileSync(join(CORPUS, 'long-40s.mp3')).length,
    });
    expect(record.source.durationSec).toBeGreaterThan(40);
    expect(record.source.quality).toMatchObject({ measured: true, speechSec: expect.any(Number) });
    expect(smallest.state.counts.clone - before).toBe(1);
  });

  it('rejects the same recording without trim as too long, before any provider call', async () => {
    const before = smallest.state.counts.clone;
    const record = await upload('long-40s.wav');
    expect(record).toMatchObject({ status: 'rejected', error: { code: 'audio_too_long' } });
    expect(smallest.state.counts.clone).toBe(before);
  });

  it.each([
    ['hard-clipped.wav', 'clipped_audio'],
    ['silent.wav', 'silent_audio'],
    ['whisper-level.wav', 'too_quiet'],
    ['hiss-only.wav', 'too_little_speech'],
  ])('rejects %s with %s and never reaches the provider', async (file, code) => {
    const before = smallest.state.counts.clone;
    const record = await upload(file);
    expect(record.status).toBe('rejected');
    expect(record.error?.issues?.map((issue) => issue.code)).toContain(code);
    expect(record.source.quality).toMatchObject({ measured: true });
    expect(smallest.state.counts.clone).toBe(before);
  });
});
