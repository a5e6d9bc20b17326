// The command-line conventions every command follows: -h is help, every failure is one line in our
// format (oclif's own "command not found" and parse errors too), and arguments are named.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { nearestCommand, notFoundError } from '../../src/cli/not-found';

const COMMANDS = [
  'build',
  'detect',
  'install',
  'list',
  'releases',
  'uninstall',
  'use',
  'key show',
  'key refresh',
  'cache list',
  'cache clean',
];

function oneErrorLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^borg-provision: error: /);
  return lines[0];
}

describe('-h', () => {
  test.each(COMMANDS)('is help on %s', async (cmd) => {
    const r = await runCli([...cmd.split(' '), '-h']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`$ borg-provision ${cmd}`);
    expect(r.stdout).toMatch(/--quiet/);
    expect(r.stdout).toMatch(/--verbose/);
  });
});

describe('failures in our format', () => {
  test('words after a command that takes none', async () => {
    const r = await runCli(['detect', 'extra-arg']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toContain('unexpected "extra-arg"');
  });

  test('a typo suggests the nearest command', async () => {
    const r = await runCli(['instal', '1.4.2']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toBe(
      'borg-provision: error: "instal" is not a borg-provision command: did you mean "borg-provision install"?',
    );
  });

  test('a typo under a topic, and in `help`', async () => {
    const r = await runCli(['key', 'shw']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toContain('did you mean "borg-provision key show"?');
    const h = await runCli(['help', 'uninstal']);
    expect(h.code).toBe(2);
    expect(oneErrorLine(h.stderr)).toContain('did you mean "borg-provision uninstall"?');
  });

  test('nothing near: the list of commands is the advice', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toContain('see borg-provision --help');
  });

  test.each([['use'], ['uninstall']])('%s without an argument names it', async (cmd) => {
    const r = await runCli([cmd]);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toBe(`borg-provision: error: missing VERSION (see borg-provision ${cmd} --help)`);
  });

  test.each([['0'], ['abc'], ['301']])('releases --limit %s says the rule', async (v) => {
    const r = await runCli(['releases', '--limit', v, '--api-url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toContain(`--limit must be a whole number from 1 to 300 (got "${v}")`);
  });

  test('detect --verbose says what it read', async () => {
    const r = await runCli(['detect', '--verbose']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^ {2}libc: \/\S+libc\.so\.6: glibc \d+\.\d+, \w+$/m);
  });

  test('--quiet with --verbose', async () => {
    const r = await runCli(['list', '--quiet', '--verbose']);
    expect(r.code).toBe(2);
    expect(oneErrorLine(r.stderr)).toContain('--quiet=true cannot also be provided when using --verbose');
  });
});

test('shell completion: autocomplete bash sets up, and its cache is no download', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-complete-'));
  try {
    const env = { HOME: home, XDG_CACHE_HOME: path.join(home, 'cache') };
    const r = await runCli(['autocomplete', 'bash'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/borg-provision/);
    const bash = fs.readFileSync(
      path.join(home, 'cache', 'borg-provision', 'autocomplete', 'functions', 'bash', 'borg-provision.bash'),
      'utf8',
    );
    expect(bash).toMatch(/uninstall/);
    expect(bash).toMatch(/--keep-current/);
    const l = await runCli(['cache', 'list', '--json'], { env });
    expect(JSON.parse(l.stdout).releases).toEqual([]);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

describe('nearest command', () => {
  const ids = ['install', 'uninstall', 'use', 'list', 'key:show', 'key:refresh', 'cache:list', 'cache:clean'];
  test('by edit distance, none when far', () => {
    expect(nearestCommand(['lst'], ids)).toBe('list');
    expect(nearestCommand(['key', 'refesh'], ids)).toBe('key refresh');
    expect(nearestCommand(['ky'], ids)).toBe('key show|refresh');
    expect(nearestCommand(['zzzzzz'], ids)).toBeNull();
  });
  test('extra words after a known command', () => {
    expect(notFoundError(['key', 'show', 'x'], ids).message).toContain(
      'key show takes no argument here: unexpected "x"',
    );
  });
});
