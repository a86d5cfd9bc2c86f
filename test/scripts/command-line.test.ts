import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommand } from '../../scripts/command-line';

const USAGE = 'Usage: npm run thing -- [--stack NAME] [--local [--data-dir DIR]] [--dry-run]';
const parse = (...argv: string[]) => parseCommand(USAGE, { 'dry-run': { type: 'boolean' } }, argv);

afterEach(() => vi.restoreAllMocks());

describe('parseCommand (npm run redrive, npm run retention)', () => {
  it('says where the command works: a stack in AWS by default, or the local data folder', () => {
    expect(parse()).toMatchObject({ ok: true, where: { local: false } });
    expect(parse('--stack', 'Other', '--region', 'eu-west-1', '--dry-run')).toMatchObject({
      ok: true,
      values: { 'dry-run': true },
      where: { local: false, stack: 'Other', region: 'eu-west-1' },
    });
    expect(parse('--local')).toMatchObject({ ok: true, where: { local: true, dataDir: '.voicedrop' } });
    expect(parse('--local', '--data-dir', '/tmp/x')).toMatchObject({
      where: { local: true, dataDir: '/tmp/x' },
    });
  });

  it('answers --help with the usage (exit 0) and a mistake with what is wrong and the usage (exit 2)', () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(parse('--help')).toEqual({ ok: false, exitCode: 0 });
    expect(stdout).toHaveBeenCalledWith(`${USAGE}\n`);
    for (const [argv, problem] of [
      [
        ['--local', '--stack', 'x'],
        '--stack and --region are for AWS; --local works on the local data folder',
      ],
      [['--data-dir', 'x'], '--data-dir needs --local'],
      [['--nope'], "Unknown option '--nope'"],
      [['positional'], 'positional'],
    ] as const) {
      stderr.mockClear();
      expect(parse(...argv)).toEqual({ ok: false, exitCode: 2 });
      expect(String(stderr.mock.calls[0]?.[0])).toContain(problem);
      expect(String(stderr.mock.calls[0]?.[0])).toContain(USAGE);
    }
  });
});
