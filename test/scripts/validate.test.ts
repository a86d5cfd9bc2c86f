import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixturePath, MANIFEST } from '../audio/helpers';
import { outputOf } from '../support/processes';

const ROOT = join(import.meta.dirname, '..', '..');
const JSON_KEYS = [
  'file',
  'provider',
  'ok',
  'format',
  'durationSec',
  'sampleRate',
  'channels',
  'sizeBytes',
  'quality',
  'errors',
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly lines: string[];
}

/** The real command a user types: `npm run --silent validate -- …`, from `cwd`. */
async function validate(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (!options.env?.DEFAULT_PROVIDER) delete env.DEFAULT_PROVIDER;
  const run = await outputOf(
    spawn('npm', ['run', '--silent', 'validate', '--', ...args], { cwd: options.cwd ?? ROOT, env }),
  );
  return { ...run, lines: run.stdout.split('\n').filter(Boolean) };
}

function parsed(run: Run): Record<string, unknown>[] {
  return run.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('validate CLI (npm run validate)', () => {
  it('exits 0 and prints one JSON line per file, keys in the documented order, when every file passes', async () => {
    const run = await validate([
      '--json',
      fixturePath('speech-16bit-mono.wav'),
      fixturePath('speech-vbr-no-xing.mp3'),
    ]);

    expect(run.code).toBe(0);
    expect(run.lines).toHaveLength(2);
    expect(parsed(run).map((line) => Object.keys(line))).toEqual([JSON_KEYS, JSON_KEYS]);
    expect(parsed(run)[0]).toEqual({
      file: fixturePath('speech-16bit-mono.wav'),
      provider: 'smallest',
      ok: true,
      format: 'wav',
      durationSec: 8,
      sampleRate: 16000,
      channels: 1,
      sizeBytes: MANIFEST['speech-16bit-mono.wav']?.sizeBytes,
      quality: expect.objectContaining({ measured: true, analyzedSec: 8, clippedRatio: 0 }),
      errors: [],
    });
    // Rounded to milliseconds: 8.071836… s.
    expect(parsed(run)[1]?.durationSec).toBe(8.072);
  });

  it('exits 1 when any file fails, with a failing line for a path that cannot be read', async () => {
    const run = await validate(
      ['--json', 'speech.m4a', 'speech-vorbis.ogg', 'picture.png', 'does-not-exist.wav'],
      { cwd: FIXTURES },
    );

    expect(run.code).toBe(1);
    expect(parsed(run).map((line) => [line.file, line.ok, line.format])).toEqual([
      ['speech.m4a', true, 'mp4'],
      ['speech-vorbis.ogg', false, 'ogg'],
      ['picture.png', false, null],
      ['does-not-exist.wav', false, null],
    ]);
    expect(parsed(run)[3]?.errors).toEqual([
      {
        code: 'unreadable_audio',
        message: expect.stringMatching(/^cannot read file: .*does-not-exist\.wav/),
      },
    ]);
  });

  it('applies the rules of --provider typecast (MP4 refused, 20 s accepted)', async () => {
    const run = await validate(['--provider', 'typecast', '--json', 'speech.m4a', 'too-long-20s.wav'], {
      cwd: FIXTURES,
    });

    expect(run.code).toBe(1);
    expect(parsed(run).map((line) => [line.provider, line.ok])).toEqual([
      ['typecast', false],
      ['typecast', true],
    ]);
    expect(parsed(run)[0]?.errors).toEqual([
      { code: 'unsupported_format', message: 'MP4 audio is not accepted by Typecast; use WAV or MP3.' },
    ]);
  });

  it('takes the default provider from DEFAULT_PROVIDER', async () => {
    const run = await validate(['--json', 'too-long-20s.wav'], {
      cwd: FIXTURES,
      env: { DEFAULT_PROVIDER: 'typecast' },
    });

    expect(run.code).toBe(0);
    expect(parsed(run)[0]?.provider).toBe('typecast');
  });

  it('names the voice after the file, so an over-long file name fails the name rule', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'voicedrop-cli-'));
    folders.push(folder);
    const longName = join(folder, 'A recording with a file name longer than thirty.wav');
    copyFileSync(fixturePath('speech-16bit-mono.wav'), longName);

    const run = await validate(['--provider', 'typecast', '--json', longName]);

    expect(run.code).toBe(1);
    expect(parsed(run)[0]?.errors).toEqual([
      { code: 'invalid_name', message: expect.stringMatching(/at most 30/) },
    ]);
  });

  it('prints an aligned table without --json, one row per file', async () => {
    const run = await validate(['speech-16bit-mono.wav', 'too-short-3s.wav', 'empty.wav'], { cwd: FIXTURES });

    const [header, ...rows] = run.lines;
    expect(run.code).toBe(1);
    expect(header).toMatch(/^FILE\s+FORMAT\s+DURATION\s+RATE\s+CHANNELS\s+SIZE\s+VERDICT$/);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^speech-16bit-mono\.wav\s+wav\s+8\.00 s\s+16000 Hz\s+mono\s+250\.0 KB\s+ok$/);
    expect(rows[1]).toMatch(/audio_too_short: The audio is 3\.0 s long; Smallest AI Waves needs 5–15 s/);
    expect(rows[2]).toMatch(/empty_file: The file is empty/);
    // Columns line up: every row's verdict starts where the header's does.
    const verdictColumn = header?.indexOf('VERDICT');
    expect(rows.map((row) => row.search(/(ok|audio_too_short|empty_file)/))).toEqual([
      verdictColumn,
      verdictColumn,
      verdictColumn,
    ]);
  });

  it.each([
    ['no files', []],
    ['an unknown flag', ['--verbose', 'a.wav']],
    ['a bad --provider value', ['--provider', 'elevenlabs', 'a.wav']],
    ['a --provider without a value', ['a.wav', '--provider']],
  ])('exits 2 with the usage on stderr for %s', async (_case, args) => {
    const run = await validate(args);

    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Usage: npm run --silent validate --/);
  });

  it('exits 2 when DEFAULT_PROVIDER names no provider', async () => {
    const run = await validate(['a.wav'], { env: { DEFAULT_PROVIDER: 'nope' } });

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/DEFAULT_PROVIDER is "nope"/);
  });
});
