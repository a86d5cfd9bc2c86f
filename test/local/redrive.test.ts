import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLog } from '../../functions/shared/logger';
import type { VoiceStatus } from '../../functions/shared/voices/status';
import type { LocalPipeline } from '../../local/pipeline';
import {
  type DeadLetterLine,
  redriveFolder,
  redriveLocalDeadLetters,
  watchRedrive,
} from '../../local/redrive';
import { dataPaths } from '../../local/servers';
import { makeWav } from '../support/audio';
import { dropSample, waitForVoice } from '../support/drop';
import { startTestPipeline } from '../support/local-pipeline';
import { runScript } from '../support/processes';
import { waitFor } from '../support/wait';

const MAX_RECEIVE_COUNT = 2;

const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-redrive-'));
let local: LocalPipeline | undefined;

afterAll(async () => {
  await local?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Local mode on free ports with the simulators, giving up on a message after two quick deliveries. */
const start = () =>
  startTestPipeline(dataDir, {
    queue: { maxReceiveCount: MAX_RECEIVE_COUNT, retryBackoff: { baseSeconds: 0.05, maxSeconds: 0.2 } },
  });

/** Every clone request answers 503 until the faults are cleared (the simulator's admin route). */
async function breakClones(pipeline: LocalPipeline): Promise<void> {
  const response = await fetch(`${pipeline.simulatorUrls.smallest}/__sim/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ route: 'clone', type: 'status', status: 503, times: 1_000 }),
  });
  expect(response.status).toBe(201);
}

async function fixClones(pipeline: LocalPipeline): Promise<void> {
  const response = await fetch(`${pipeline.simulatorUrls.smallest}/__sim/faults`, { method: 'DELETE' });
  expect(response.ok).toBe(true);
}

async function upload(pipeline: LocalPipeline, key: string, seed: number): Promise<string> {
  return dropSample(pipeline.info, key, makeWav({ durationSec: 6, sampleRate: 16_000, seed }));
}

const waitForStatus = (pipeline: LocalPipeline, voiceId: string, status: VoiceStatus) =>
  waitForVoice(pipeline.voices, voiceId, { until: (record) => record.status === status });

const deadLetterLines = (): DeadLetterLine[] => {
  const file = dataPaths(dataDir).deadLetters;
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as DeadLetterLine);
};

const redriveFiles = () => readdirSync(redriveFolder(dataDir)).filter((name) => name.endsWith('.jsonl'));

describe('local dead letters and npm run redrive -- --local', () => {
  it('keeps a dead letter’s context, and a redrive while local mode runs clones the voice once the fault is gone', async () => {
    local = await start();
    await breakClones(local);
    const key = 'incoming/smallest/Ada Lovelace – 東京.wav';
    const voiceId = await upload(local, key, 1);

    const failed = await waitForStatus(local, voiceId, 'failed');
    expect(failed.error).toMatchObject({ retryable: true });
    expect(failed.error?.message).toContain('dead-letter queue and can be redriven');
    const [line] = await waitFor('the dead letter line', () => {
      const lines = deadLetterLines();
      return lines.length > 0 ? lines : undefined;
    });
    expect(line).toMatchObject({
      receiveCount: MAX_RECEIVE_COUNT,
      uploads: [{ bucket: local.info.bucket, key, voiceId }],
    });
    expect(line?.messageId).toEqual(expect.any(String));
    expect(Date.parse(line?.sentAt ?? '')).toBeLessThanOrEqual(Date.parse(line?.at ?? ''));
    // The body is the S3 notification as sent, key URL-encoded: what a redrive sends again.
    expect(JSON.parse(line?.body ?? '{}').Records[0].s3.object.key).toBe(
      'incoming/smallest/Ada+Lovelace+%E2%80%93+%E6%9D%B1%E4%BA%AC.wav',
    );
    expect(local.queue.deadLetters).toEqual([line]);

    await fixClones(local);
    const moved = await redriveLocalDeadLetters({ dataDir });
    expect(moved).toMatchObject({ moved: 1, unreadable: 0, letters: [line] });
    expect(existsSync(dataPaths(dataDir).deadLetters)).toBe(false);

    const ready = await waitForStatus(local, voiceId, 'ready');
    expect(ready.error).toBeUndefined();
    await waitFor('the redrive file to be deleted', () => (redriveFiles().length === 0 ? true : undefined));
    expect(await redriveLocalDeadLetters({ dataDir })).toMatchObject({ moved: 0 });
  }, 60_000);

  it('redrives from the command line while local mode is stopped; the next start sends them again', async () => {
    if (!local) local = await start();
    await breakClones(local);
    const key = 'incoming/smallest/Grace Hopper.wav';
    const voiceId = await upload(local, key, 2);
    await waitForStatus(local, voiceId, 'failed');
    await waitFor('the dead letter line', () => (deadLetterLines().length > 0 ? true : undefined));
    await local.close();
    local = undefined;

    const dryRun = await runScript('scripts/redrive.ts', ['--local', '--data-dir', dataDir, '--dry-run']);
    expect(dryRun).toMatchObject({ code: 0, stderr: '' });
    expect(dryRun.stdout).toContain('Dry run: would move 1 dead letter');
    expect(existsSync(dataPaths(dataDir).deadLetters)).toBe(true);

    const cli = await runScript('scripts/redrive.ts', ['--local', '--data-dir', dataDir]);
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    expect(cli.stdout).toContain('Moved 1 dead letter to');
    expect(cli.stdout).toContain(`${voiceId}  ${key}`);
    expect(existsSync(dataPaths(dataDir).deadLetters)).toBe(false);
    expect(redriveFiles()).toHaveLength(1);

    const status = await runScript('scripts/redrive.ts', ['--local', '--data-dir', dataDir, '--status']);
    expect(status.stdout).toContain('0 dead letters in');
    expect(status.stdout).toContain('1 redriven message waiting');

    // A restart alone does not retry a failed record (only unfinished ones): the redrive does.
    local = await start();
    await waitForStatus(local, voiceId, 'ready');
    await waitFor('the redrive file to be deleted', () => (redriveFiles().length === 0 ? true : undefined));
    expect(deadLetterLines()).toEqual([]);
  }, 90_000);

  it('sends back the readable lines of a redrive file, keeps unreadable ones aside and deletes the file', async () => {
    const folderDir = mkdtempSync(join(tmpdir(), 'voicedrop-redrive-watch-'));
    try {
      const body = JSON.stringify({ Records: [] });
      mkdirSync(redriveFolder(folderDir), { recursive: true });
      const file = join(redriveFolder(folderDir), 'manual.jsonl');
      writeFileSync(file, `${JSON.stringify({ messageId: 'm1', receiveCount: 3, body })}\nnot json\n\n`);
      const sent: string[] = [];
      const watcher = watchRedrive({
        dataDir: folderDir,
        send: (sentBody) => {
          sent.push(sentBody);
        },
        log: silentLog,
      });
      await waitFor('the file to be sent', () => (existsSync(file) ? undefined : true));
      await watcher.close();

      expect(sent).toEqual([body]);
      expect(readFileSync(`${file}.unreadable`, 'utf8')).toBe('not json\n');
    } finally {
      rmSync(folderDir, { recursive: true, force: true });
    }
  });
});
