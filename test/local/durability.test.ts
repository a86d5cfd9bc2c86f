import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VoiceRepository } from '../../functions/shared/voices/repository';
import { localDynamoClient } from '../../local/servers';
import { type SmallestSimulator, startSmallestSimulator } from '../../simulators/smallest/simulator';
import { makeWav } from '../support/audio';
import { dropSample, waitForVoice } from '../support/drop';
import { onFreePorts, type RunningLocalMode, startLocalMode } from '../support/local-mode';

const KEY = 'sk_durability';

/** Local mode killed (SIGKILL, no clean-up at all) while a clone request is in flight, then started again. */
describe('local mode durability', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-durability-'));
  let smallest: SmallestSimulator;
  let running: RunningLocalMode | undefined;

  beforeAll(async () => {
    smallest = await startSmallestSimulator({ cloneSlots: 100, apiKeys: [KEY] });
  });
  afterAll(async () => {
    await running?.crash().catch(() => undefined);
    await smallest?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = () =>
    startLocalMode(onFreePorts(dataDir), {
      SMALLEST_API_KEY: KEY,
      SMALLEST_API_BASE_URL: smallest.url,
    });

  it('resumes an upload whose clone was in flight when it was killed, without a second clone', async () => {
    // The provider takes 4 s and finishes the clone whatever happens to the caller.
    smallest.injectFault({ route: 'clone', type: 'slow', delayMs: 4_000, completeClone: true });
    running = await start();
    const first = running.info;
    const key = 'incoming/smallest/Killed mid-clone.wav';
    const voiceId = await dropSample(first, key, makeWav({ durationSec: 7.3, seed: 42 }));
    await waitForVoice(new VoiceRepository(localDynamoClient(first.dynamodbEndpoint), first.table), voiceId, {
      until: (record) => record.status === 'cloning',
      timeoutMs: 45_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smallest.state.counts.clone).toBe(1);
    await running.crash();

    // Started again on the same folder: the dead process's lease and provider slot must not block it.
    running = await start();
    const voices = new VoiceRepository(localDynamoClient(running.info.dynamodbEndpoint), running.info.table);
    const settled = await waitForVoice(voices, voiceId, {
      until: (record) => record.status === 'ready',
      timeoutMs: 45_000,
    });

    expect(smallest.state.counts.clone).toBe(1);
    expect(smallest.state.clones.size).toBe(1);
    expect(settled?.providerVoiceId).toBe([...smallest.state.clones.keys()][0]);
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 90_000);
});
