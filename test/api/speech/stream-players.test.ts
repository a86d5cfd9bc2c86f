import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuffer } from 'music-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api/app';
import { wavDurationSec } from '../../../functions/api/speech/join-audio';
import { startPipelineFixture } from '../../support/pipeline-fixture';

// A streamed WAV (0xFFFFFFFF placeholder sizes) and a cached one (exact sizes), read by players. ffmpeg and
// sox are not needed by the suite: these checks run where they are installed and are skipped elsewhere.
const has = (tool: string, flag: string) => spawnSync(tool, [flag], { stdio: 'ignore' }).status === 0;
const FFPROBE = has('ffprobe', '-version');
const SOX = has('sox', '--version');

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let streamed: Uint8Array;
let cached: Uint8Array;
const directory = mkdtempSync(join(tmpdir(), 'voicedrop-players-'));

beforeAll(async () => {
  fixture = await startPipelineFixture();
  const app = createApiApp(fixture.apiDependencies());
  const voiceId = await fixture.cloneVoice('incoming/typecast/Player.wav');
  const text = 'The first sentence is short. The second one is a little longer than that. And a third.';
  const speak = async () =>
    new Uint8Array(
      await (
        await app.request(`/voices/${voiceId}/speech`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text }),
        })
      ).arrayBuffer(),
    );
  streamed = await speak();
  cached = await speak();
}, 60_000);

afterAll(async () => {
  await fixture?.stop();
});

function saved(name: string, bytes: Uint8Array): string {
  const path = join(directory, name);
  writeFileSync(path, bytes);
  return path;
}

describe('streamed WAV in players', () => {
  it('carries placeholder sizes while streaming and exact ones from the cache', () => {
    const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // The data chunk follows fmt and the AI-generated LIST/INFO chunk.
    const dataChunk = (bytes: Uint8Array) => {
      let offset = 12;
      while (String.fromCharCode(...bytes.subarray(offset, offset + 4)) !== 'data') {
        const size = view(bytes).getUint32(offset + 4, true);
        offset += 8 + size + (size % 2);
      }
      return offset;
    };
    expect(dataChunk(streamed)).toBeGreaterThan(36);
    expect(view(streamed).getUint32(4, true)).toBe(0xffffffff);
    expect(view(streamed).getUint32(dataChunk(streamed) + 4, true)).toBe(0xffffffff);
    expect(view(cached).getUint32(4, true)).toBe(cached.length - 8);
    expect(view(cached).getUint32(dataChunk(cached) + 4, true)).toBe(cached.length - dataChunk(cached) - 8);
    expect(wavDurationSec(streamed)).toBeCloseTo(wavDurationSec(cached), 3);
  });

  it('reads in a JavaScript decoder (music-metadata) with the same length', async () => {
    const metadata = await parseBuffer(cached, { mimeType: 'audio/wav' }, { duration: true });
    expect(metadata.format.duration).toBeCloseTo(wavDurationSec(streamed), 2);
  });

  it.skipIf(!FFPROBE)('reads in ffprobe with the right length, streamed and cached', () => {
    for (const [name, bytes] of [
      ['streamed.wav', streamed],
      ['cached.wav', cached],
    ] as const) {
      const probe = spawnSync(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', saved(name, bytes)],
        { encoding: 'utf8' },
      );
      expect(probe.status, probe.stderr).toBe(0);
      expect(Number(probe.stdout.trim())).toBeCloseTo(wavDurationSec(cached), 2);
    }
  });

  it.skipIf(!SOX)('reads in sox, every sample of the streamed file', () => {
    const stat = spawnSync('sox', [saved('streamed-sox.wav', streamed), '-n', 'stat'], { encoding: 'utf8' });
    expect(stat.status, stat.stderr).toBe(0);
    const seconds = Number(/Length \(seconds\):\s+([\d.]+)/.exec(stat.stderr)?.[1]);
    expect(seconds).toBeCloseTo(wavDurationSec(cached), 2);
  });
});
