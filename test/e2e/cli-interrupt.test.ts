// Interrupts and races on a large signed archive (--from, no network): SIGINT while the signature
// is checked and while the archive is unpacked, and a second install while the first holds the lock.
// Each leaves the previous version current and nothing else behind.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ASSET, useInstallEnv } from '../helpers/install-env';
import { errorLine, install, placeAs } from '../helpers/install-sandbox';

jest.setTimeout(180000);

const env = useInstallEnv({ github: false });
let big: string;
let small: string;
let slow: string;

beforeAll(async () => {
  // ~64 MB of incompressible files: verify and unpack each take long enough to be interrupted.
  const bigTgz = env.fx.oneDirTgz(ASSET, '2.0.0', 'ok', (d) => {
    for (let i = 0; i < 8; i++) fs.writeFileSync(path.join(d, '_internal', `blob${i}.bin`), randomBytes(8 << 20));
  });
  big = placeAs(bigTgz, path.join(env.sb.root, 'big'), ASSET);
  await env.keys.sign(big);
  small = placeAs(env.fx.oneDirTgz(ASSET, '1.4.1'), path.join(env.sb.root, 'small'), ASSET);
  await env.keys.sign(small);
  // Answers `borg -V` after 3 s: its install holds the lock at least that long.
  slow = placeAs(env.fx.oneDirTgz(ASSET, '2.1.0', 'slow'), path.join(env.sb.root, 'slow'), ASSET);
  await env.keys.sign(slow);
  expect((await install(env.sb, ['1.4.1', '--from', small, ...env.keys.keyFlags])).code).toBe(0);
});

function interruptAt(step: RegExp, signal: NodeJS.Signals = 'SIGINT') {
  return (child: import('node:child_process').ChildProcess): void => {
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (step.test(seen)) {
        step = /$^/; // once
        child.kill(signal);
      }
    });
  };
}

function assertUntouched(before: string[]): void {
  expect(env.sb.snapshot()).toEqual(before);
  expect(fs.readdirSync(env.sb.prefix).filter((n) => n.startsWith('.'))).toEqual([]);
  expect(execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.1\n');
}

test.each<[string, RegExp, NodeJS.Signals]>([
  ['verify', /verifying the signature/, 'SIGINT'],
  ['verify (SIGTERM)', /verifying the signature/, 'SIGTERM'],
  ['unpack', /unpacking /, 'SIGINT'],
  ['unpack (SIGTERM)', /unpacking /, 'SIGTERM'],
])('interrupted during %s: exit 130, previous version current, no leftovers', async (_n, step, sig) => {
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['2.0.0', '--from', big, ...env.keys.keyFlags], { onSpawn: interruptAt(step, sig) });
  expect([r.code, errorLine(r)]).toEqual([130, 'interrupted; nothing was left half-written']);
  assertUntouched(before);
});

test('interrupted during the smoke test: rolled back, exit 130', async () => {
  const before = env.sb.snapshot();
  const r = await install(env.sb, ['2.1.0', '--from', slow, ...env.keys.keyFlags], {
    onSpawn: interruptAt(/activating borg 2\.1\.0/),
  });
  expect([r.code, errorLine(r)]).toEqual([130, 'interrupted; nothing was left half-written']);
  assertUntouched(before);
});

test('a second install while the first holds the lock is refused with LockedError; the first completes', async () => {
  let second: Promise<import('../helpers/cli').CliResult> | null = null;
  // Start the second one as soon as the first holds the lock (held >= 3 s by the slow smoke test).
  const lockFile = path.join(env.sb.prefix, '.lock');
  const poll = setInterval(() => {
    if (!second && fs.existsSync(lockFile)) {
      clearInterval(poll);
      second = install(env.sb, ['1.4.1', '--from', small, '--force', ...env.keys.keyFlags]);
    }
  }, 5);
  const first = install(env.sb, ['2.1.0', '--from', slow, ...env.keys.keyFlags]);
  const r1 = await first;
  clearInterval(poll);
  const r2 = await second!;
  expect([r2.code, errorLine(r2)]).toEqual([
    6,
    expect.stringMatching(/^another borg-provision \(pid \d+\) is installing into .*; wait for it to finish/),
  ]);
  expect(r1.code).toBe(0);
  expect(fs.readFileSync(path.join(env.sb.prefix, 'current'), 'utf8')).toBe('borg-dir-2.1.0\n');
  expect(fs.readdirSync(env.sb.prefix).filter((n) => n.startsWith('.'))).toEqual([]);
});
