import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBuffer } from 'music-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../../functions/api/app';
import { collectAfterResponse } from '../../support/after-response';
import { startPipelineFixture } from '../../support/pipeline-fixture';
import { wavSeconds } from './audio-parts';

// A streamed WAV (0xFFFFFFFF placeholder sizes) and a cached one (exact sizes), read by players. ffmpeg,
// sox and Chromium are not needed by the suite: these checks run where they are installed and are skipped
// elsewhere (CI installs none of them).
const has = (tool: string, flag: string) => spawnSync(tool, [flag], { stdio: 'ignore' }).status === 0;
const FFPROBE = has('ffprobe', '-version');
const SOX = has('sox', '--version');
const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find((browser) =>
  has(browser, '--version'),
);

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;
let streamed: Uint8Array;
let cached: Uint8Array;
let streamedMp3: Uint8Array;
const directory = mkdtempSync(join(tmpdir(), 'voicedrop-players-'));

/** The usage each answer leaves for afterwards, awaited before the servers stop. */
const after = collectAfterResponse();

beforeAll(async () => {
  fixture = await startPipelineFixture();
  const app = createApiApp(fixture.apiDependencies());
  const voiceId = await fixture.cloneVoice('incoming/typecast/Player.wav');
  const text = 'The first sentence is short. The second one is a little longer than that. And a third.';
  const speak = async (format = 'wav') =>
    new Uint8Array(
      await (
        await app.request(
          `/voices/${voiceId}/speech`,
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ text, format }),
          },
          undefined,
          after.executionContext,
        )
      ).arrayBuffer(),
    );
  streamed = await speak();
  cached = await speak();
  streamedMp3 = await speak('mp3');
}, 60_000);

afterAll(async () => {
  await after.settled();
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
    expect(wavSeconds(streamed)).toBeCloseTo(wavSeconds(cached), 3);
  });

  it('reads in a JavaScript decoder (music-metadata) with the same length', async () => {
    const metadata = await parseBuffer(cached, { mimeType: 'audio/wav' }, { duration: true });
    expect(metadata.format.duration).toBeCloseTo(wavSeconds(streamed), 2);
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
      expect(Number(probe.stdout.trim())).toBeCloseTo(wavSeconds(cached), 2);
    }
  });

  it.skipIf(!SOX)('reads in sox, every sample of the streamed file', () => {
    const stat = spawnSync('sox', [saved('streamed-sox.wav', streamed), '-n', 'stat'], { encoding: 'utf8' });
    expect(stat.status, stat.stderr).toBe(0);
    const seconds = Number(/Length \(seconds\):\s+([\d.]+)/.exec(stat.stderr)?.[1]);
    expect(seconds).toBeCloseTo(wavSeconds(cached), 2);
  });

  it.skipIf(!CHROMIUM)(
    "decodes in a browser (Chromium's decodeAudioData), streamed and cached, WAV and MP3",
    async () => {
      const files = { 'streamed.wav': streamed, 'cached.wav': cached, 'streamed.mp3': streamedMp3 };
      for (const [name, bytes] of Object.entries(files)) saved(name, bytes);
      const page = `<!doctype html><script type="module">
        const results = {};
        for (const name of ${JSON.stringify(Object.keys(files))}) {
          try {
            const audio = await new OfflineAudioContext(1, 1, 44100)
              .decodeAudioData(await (await fetch(name)).arrayBuffer());
            results[name] = { duration: audio.duration };
          } catch (error) {
            results[name] = { error: String(error) };
          }
        }
        await fetch('result', { method: 'POST', body: JSON.stringify(results) });
      </script>`;
      let reported: (results: Record<string, { duration?: number; error?: string }>) => void = () =>
        undefined;
      const results = new Promise<Record<string, { duration?: number; error?: string }>>((resolve) => {
        reported = resolve;
      });
      const server = createServer((request, response) => {
        const name = (request.url ?? '/').slice(1);
        if (name === 'result') {
          let body = '';
          request.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          request.on('end', () => {
            reported(JSON.parse(body));
            response.writeHead(204).end();
          });
          return;
        }
        if (name === '') return response.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
        const bytes = files[name as keyof typeof files];
        if (!bytes) return response.writeHead(404).end();
        response.writeHead(200, { 'Content-Type': name.endsWith('.mp3') ? 'audio/mpeg' : 'audio/wav' });
        response.end(bytes);
      });
      await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      // The page reports what the browser decoded (POST /result); the browser runs until then.
      const browser = spawn(CHROMIUM as string, ['--headless', '--no-sandbox', '--disable-gpu', url], {
        stdio: 'ignore',
      });
      try {
        const decoded = await results;
        expect(decoded['streamed.wav']?.duration, decoded['streamed.wav']?.error).toBeCloseTo(
          wavSeconds(cached),
          2,
        );
        expect(decoded['cached.wav']?.duration).toBeCloseTo(wavSeconds(cached), 2);
        // MP3 frames of 1,152 samples: within a frame or two of the WAV's length.
        expect(Math.abs((decoded['streamed.mp3']?.duration ?? 0) - wavSeconds(cached))).toBeLessThan(0.2);
      } finally {
        browser.kill('SIGKILL');
        server.closeAllConnections();
        await new Promise((closed) => server.close(closed));
      }
    },
    60_000,
  );
});
