// Store, wrapper, lock, smoke test and activation with rollback, on real files and real processes.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ChecksumError, LockedError, SmokeTestError, UsageError } from '../../src/errors';
import { activate, switchTo } from '../../src/install/activate';
import { acquireLock, takeOverStale } from '../../src/install/lock';
import { versionMatches } from '../../src/install/smoke';
import { listInstalled, readCurrent, writeCurrent, writeManifest, type InstallManifest } from '../../src/install/store';
import { onPath, wrapperScript } from '../../src/install/wrapper';
import { shQuote } from '../../src/util/text';
import { BorgFixtures, snapshotTree } from '../helpers/borg-fixture';
import { requireTool } from '../helpers/tools';

/** A lock names its owner's pid, this boot and the owner's start time (util/pid-lock). */
const BOOT = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const SELF_STAT = fs.readFileSync('/proc/self/stat', 'utf8');
const MINE = `${process.pid} ${BOOT} ${SELF_STAT.slice(SELF_STAT.lastIndexOf(')') + 2).split(' ')[19]}\n`;

function sha256Of(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

let fx: BorgFixtures;
let tmp: string;
let prefix: string;
let binDir: string;
beforeAll(() => {
  fx = new BorgFixtures();
});
afterAll(() => fx.cleanup());
beforeEach(() => {
  // Spaces on purpose: the wrapper must quote every path.
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'activate test '));
  prefix = path.join(tmp, "pre fix's");
  binDir = path.join(tmp, 'bin dir');
  fs.mkdirSync(prefix);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function manifest(version: string): InstallManifest {
  return {
    version,
    asset: 'borg-linux-glibc231-x86_64.tgz',
    kind: 'onedir',
    glibc: '2.31',
    glibcNeeded: '2.34',
    arch: 'x86_64',
    signer: { fingerprint: 'AB', primaryFingerprint: 'CD', verdict: 'good', keySource: 'custom' },
    size: 1,
    sha256: 'x',
    installedAt: new Date().toISOString(),
    source: 'file',
    from: '/x',
  };
}

function stage(version: string, behaviour: 'ok' | 'wrong-version' | 'fail' = 'ok'): string {
  const parent = fs.mkdtempSync(path.join(prefix, '.staging-test-'));
  const dir = fx.borgDir(parent, version, behaviour);
  fs.writeFileSync(path.join(dir, 'borg-provision.json'), JSON.stringify(manifest(version)));
  return dir;
}

describe('wrapper script', () => {
  test('passes sh -n and shellcheck, quotes awkward prefixes', () => {
    const f = path.join(tmp, 'w.sh');
    fs.writeFileSync(f, wrapperScript('/data/borg provision/prefix'));
    const text = wrapperScript("/a b/it's $HOME `x`");
    fs.writeFileSync(path.join(tmp, 'odd.sh'), text);
    expect(spawnSync('sh', ['-n', path.join(tmp, 'odd.sh')]).status).toBe(0);
    expect(spawnSync('sh', ['-n', f]).status).toBe(0);
    const sc = spawnSync(requireTool('shellcheck', 'shellcheck'), ['-s', 'sh', f], { encoding: 'utf8' });
    expect(sc.stdout + sc.stderr).toBe('');
    expect(sc.status).toBe(0);
    expect(text).toContain(`prefix=${shQuote("/a b/it's $HOME `x`")}`);
    expect(text).toContain('exec "$dir/borg.exe" "$@"');
  });

  test('onPath compares resolved directories', () => {
    expect(onPath('/x/bin/', '/usr/bin:/x/bin')).toBe(true);
    expect(onPath('/x/bin', '/usr/bin')).toBe(false);
  });

  test('versionMatches wants the version as the last token', () => {
    expect(versionMatches('borg.exe 1.4.2\n', '1.4.2')).toBe(true);
    expect(versionMatches('borg 1.4.20', '1.4.2')).toBe(false);
  });
});

describe('activate', () => {
  test('installs, passes args through the wrapper, and lists the version as current', async () => {
    const r = await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    expect(r.smoke.output).toBe('borg.exe 1.4.2');
    expect(r.previous).toBeNull();
    expect(fs.lstatSync(r.wrapper).isSymbolicLink()).toBe(false);
    expect(fs.statSync(r.wrapper).mode & 0o777).toBe(0o755);
    const out = execFileSync(r.wrapper, ['a b', "c'd"], { encoding: 'utf8' });
    expect(out).toBe("arg[1]=a b\narg[2]=c'd\n");
    expect(await readCurrent(prefix)).toBe('1.4.2');
    const list = await listInstalled(prefix);
    expect(list.map((v) => [v.version, v.current])).toEqual([['1.4.2', true]]);
  });

  test('a failing smoke test rolls back to the previous current and wrapper', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const before = snapshotTree(prefix, binDir).filter((l) => !l.includes('.staging-test-'));
    const staged = stage('1.4.3', 'fail');
    await expect(activate({ prefix, binDir, version: '1.4.3', staged, replace: false })).rejects.toThrow(
      /did not run .*failed to map segment.*; not activated: borg 1\.4\.2 stays current$/,
    );
    expect(await readCurrent(prefix)).toBe('1.4.2');
    expect(fs.existsSync(path.join(prefix, 'borg-dir-1.4.3'))).toBe(false);
    const after = snapshotTree(prefix, binDir).filter((l) => !l.includes('.staging-test-'));
    expect(after).toEqual(before);
  });

  test('a wrong version with no previous install leaves no current and no wrapper', async () => {
    const err = await activate({
      prefix,
      binDir,
      version: '1.4.3',
      staged: stage('1.4.3', 'wrong-version'),
      replace: false,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(SmokeTestError);
    expect(err.message).toMatch(/printed "borg.exe 0.0.1", not version 1.4.3; not activated: no borg is current/);
    expect(await readCurrent(prefix)).toBeNull();
    expect(fs.existsSync(binDir)).toBe(false); // created for the wrapper, removed with it
  });

  test('replace swaps a version atomically and a failed replace restores the old copy', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const exe = path.join(prefix, 'borg-dir-1.4.2', 'borg.exe');
    const ino = fs.statSync(exe).ino;
    await expect(
      activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2', 'fail'), replace: true }),
    ).rejects.toThrow(SmokeTestError);
    expect(fs.statSync(exe).ino).toBe(ino);
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: true });
    expect(fs.statSync(exe).ino).not.toBe(ino);
    expect(fs.readdirSync(prefix).filter((n) => n.startsWith('.old-'))).toEqual([]);
  });

  /** A staged borg.exe that logs what `current` said and where it ran from, each time it runs. */
  function loggingStage(version: string, printed: string): { staged: string; log: string } {
    const staged = stage(version);
    const log = path.join(tmp, `runs-${version}.log`);
    const script = [
      '#!/bin/sh',
      `cur=$(cat ${shQuote(path.join(prefix, 'current'))} 2>/dev/null || echo none)`,
      `echo "$cur $0" >> ${shQuote(log)}`,
      `echo ${shQuote(printed)}`,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(staged, 'borg.exe'), script, { mode: 0o755 });
    return { staged, log };
  }

  test('the staged build runs -V where it lies before current or the wrapper change', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const { staged, log } = loggingStage('1.4.3', 'borg.exe 1.4.3');
    await activate({ prefix, binDir, version: '1.4.3', staged, replace: false });
    const runs = fs.readFileSync(log, 'utf8').trim().split('\n');
    expect(runs).toEqual([
      `borg-dir-1.4.2 ${path.join(staged, 'borg.exe')}`,
      `borg-dir-1.4.3 ${path.join(prefix, 'borg-dir-1.4.3', 'borg.exe')}`,
    ]);
  });

  test('a build failing -V never becomes current or the wrapper target, not even for a moment', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const wrapperBefore = fs.readFileSync(path.join(binDir, 'borg'), 'utf8');
    const { staged, log } = loggingStage('1.4.3', 'borg.exe 9.9.9');
    await expect(activate({ prefix, binDir, version: '1.4.3', staged, replace: false })).rejects.toThrow(
      /not version 1\.4\.3; not activated: borg 1\.4\.2 stays current/,
    );
    expect(fs.readFileSync(log, 'utf8')).toBe(`borg-dir-1.4.2 ${path.join(staged, 'borg.exe')}\n`);
    expect(fs.readFileSync(path.join(binDir, 'borg'), 'utf8')).toBe(wrapperBefore);
  });

  test('a build that passes where it lies but fails through the wrapper is rolled back after the switch', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const before = snapshotTree(prefix, binDir).filter((l) => !l.includes('.staging-test-'));
    const { staged, log } = loggingStage('1.4.3', 'borg.exe 1.4.3');
    // Prints the version only when run from the staging directory.
    const exe = path.join(staged, 'borg.exe');
    fs.writeFileSync(
      exe,
      fs
        .readFileSync(exe, 'utf8')
        .replace(
          /echo '([^']*)'\n$/,
          'case "$0" in *.staging-test-*) echo \'$1\' ;; *) echo "segfault" >&2; exit 139 ;; esac\n',
        ),
    );
    await expect(activate({ prefix, binDir, version: '1.4.3', staged, replace: false })).rejects.toThrow(
      /exited with 139: segfault\); rolled back: borg 1\.4\.2 is current again$/,
    );
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
    expect(await readCurrent(prefix)).toBe('1.4.2');
    expect(snapshotTree(prefix, binDir).filter((l) => !l.includes('.staging-test-'))).toEqual(before);
  });

  test('--force with a failing build never moves the installed copy', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const dir = path.join(prefix, 'borg-dir-1.4.2');
    const before = fs.statSync(dir);
    await new Promise((r) => setTimeout(r, 20));
    await expect(
      activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2', 'wrong-version'), replace: true }),
    ).rejects.toThrow(SmokeTestError);
    const after = fs.statSync(dir);
    // A rename aside and back would change the directory's ctime.
    expect(after.ctimeMs).toBe(before.ctimeMs);
    expect(after.ino).toBe(before.ino);
  });

  test('switchTo (use) changes current and smoke-tests it', async () => {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    await activate({ prefix, binDir, version: '1.4.3', staged: stage('1.4.3'), replace: false });
    await switchTo(prefix, binDir, '1.4.2', '1.4.3', wrapperScript(prefix));
    expect(await readCurrent(prefix)).toBe('1.4.2');
    expect(execFileSync(path.join(binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.2\n');
  });

  test('a one-file build gets TMPDIR under the prefix', async () => {
    const parent = fs.mkdtempSync(path.join(prefix, '.staging-test-'));
    const { stageOneFile } = await import('../../src/install/layout');
    const bin = fx.oneFile('borg-linux-glibc231-x86_64', '1.4.2');
    const dir = await stageOneFile(bin, parent, sha256Of(bin));
    await writeManifest(dir, { ...manifest('1.4.2'), kind: 'onefile' });
    const r = await activate({ prefix, binDir, version: '1.4.2', staged: dir, replace: false });
    expect(r.smoke.output).toBe('borg.exe 1.4.2');
    expect(fs.statSync(path.join(prefix, 'tmp')).mode & 0o777).toBe(0o700);
    // Without the wrapper (no TMPDIR) the one-file fixture refuses to start, like PyInstaller on noexec /tmp.
    const direct = spawnSync(path.join(prefix, 'borg-dir-1.4.2', 'borg.exe'), ['-V'], {
      env: { PATH: '/usr/bin:/bin' },
      encoding: 'utf8',
    });
    expect(direct.status).toBe(1);
  });

  test('a one-file binary whose bytes are not the verified ones is refused (exit 5)', async () => {
    const parent = fs.mkdtempSync(path.join(prefix, '.staging-test-'));
    const { stageOneFile } = await import('../../src/install/layout');
    const bin = fx.oneFile('borg-linux-glibc231-x86_64', '1.4.2');
    const err = await stageOneFile(bin, parent, '0'.repeat(64)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as ChecksumError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/changed after it was verified/);
    fs.rmSync(parent, { recursive: true, force: true });
  });

  test('a foreign <bin-dir>/borg is never overwritten', async () => {
    fs.mkdirSync(binDir);
    fs.writeFileSync(path.join(binDir, 'borg'), '#!/bin/sh\necho mine\n');
    await expect(
      activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false }),
    ).rejects.toThrow(/was not installed by borg-provision; move it away or choose another --bin-dir/);
    expect(fs.readFileSync(path.join(binDir, 'borg'), 'utf8')).toBe('#!/bin/sh\necho mine\n');
  });
});

describe('use and leftovers', () => {
  test('use of a version that no longer runs is rolled back', async () => {
    const { useVersion } = await import('../../src/install/manage');
    await activate({ prefix, binDir, version: '1.4.3', staged: stage('1.4.3'), replace: false });
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    fs.writeFileSync(path.join(prefix, 'borg-dir-1.4.3', 'borg.exe'), '#!/bin/sh\necho broken >&2\nexit 3\n');
    await expect(useVersion(prefix, binDir, '1.4.3')).rejects.toThrow(
      /^borg 1\.4\.3 did not run \(`borg -V` exited with 3: broken\); rolled back: borg 1\.4\.2 is current again$/,
    );
    expect(await readCurrent(prefix)).toBe('1.4.2');
    expect(fs.existsSync(path.join(prefix, '.lock'))).toBe(false);
  });

  test("temporary names of a killed run are removed; a live run's are kept", async () => {
    const { removeStaleTemps } = await import('../../src/install/store');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.mkdirSync(path.join(prefix, `.staging-${dead}-abcd1234`));
    fs.mkdirSync(path.join(prefix, `.old-${dead}-abcd1234`));
    fs.writeFileSync(path.join(prefix, `current.tmp-${dead}-abcd1234`), 'x');
    fs.writeFileSync(path.join(prefix, `.current.${dead}.abcd1234.tmp`), 'x');
    fs.writeFileSync(path.join(prefix, `.lock.stale-${dead}-abcd1234`), 'x');
    fs.mkdirSync(path.join(prefix, `.trash-${dead}-abcd1234`));
    fs.mkdirSync(path.join(prefix, `.staging-${process.ppid}-abcd1234`));
    await removeStaleTemps(prefix);
    expect(fs.readdirSync(prefix).sort()).toEqual([`.staging-${process.ppid}-abcd1234`]);
  });
});

describe('recovery from a killed --force replace', () => {
  // borg 1.4.2 installed and current, then "killed" between rename(dir -> .old-<deadpid>)
  // and rename(staged -> dir).
  async function killedMidReplace(): Promise<string> {
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const old = path.join(prefix, `.old-${dead}-abcd1234`);
    fs.renameSync(path.join(prefix, 'borg-dir-1.4.2'), old);
    fs.mkdirSync(path.join(prefix, `.staging-${dead}-abcd1234`));
    return old;
  }

  test('the .old copy whose version directory is missing is put back, other leftovers removed', async () => {
    const { recoverInterrupted } = await import('../../src/install/store');
    await killedMidReplace();
    expect(await recoverInterrupted(prefix)).toEqual({ restored: ['1.4.2'] });
    expect(
      fs
        .readdirSync(prefix)
        .filter((n) => !n.startsWith('.staging-test-'))
        .sort(),
    ).toEqual(['borg-dir-1.4.2', 'current']);
    expect(execFileSync(path.join(binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.2\n');
  });

  test('an .old copy whose version directory exists is removed; so is one without a manifest', async () => {
    const { recoverInterrupted } = await import('../../src/install/store');
    const old = await killedMidReplace();
    fs.cpSync(old, path.join(prefix, 'borg-dir-1.4.2'), { recursive: true });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.mkdirSync(path.join(prefix, `.old-${dead}-00000000`));
    expect(await recoverInterrupted(prefix)).toEqual({ restored: [] });
    expect(
      fs
        .readdirSync(prefix)
        .filter((n) => !n.startsWith('.staging-test-'))
        .sort(),
    ).toEqual(['borg-dir-1.4.2', 'current']);
  });

  test('use after the crash finds the version again (recovery runs under the lock)', async () => {
    const { useVersion } = await import('../../src/install/manage');
    await killedMidReplace();
    const r = await useVersion(prefix, binDir, '1.4.2');
    expect(r).toMatchObject({ version: '1.4.2', smoke: 'borg.exe 1.4.2' });
    expect(
      fs
        .readdirSync(prefix)
        .filter((n) => !n.startsWith('.staging-test-'))
        .sort(),
    ).toEqual(['borg-dir-1.4.2', 'current']);
  });
});

describe('uninstall refusals', () => {
  test('the current version without --force is a usage refusal (exit 2); nothing changes', async () => {
    const { uninstallVersion } = await import('../../src/install/manage');
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    const before = snapshotTree(prefix, binDir).filter((l) => !l.includes('.staging-test-'));
    const err = await uninstallVersion(prefix, binDir, '1.4.2', false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    expect((err as Error).message).toBe(
      'borg 1.4.2 is the current version: run borg-provision use OTHER-VERSION first, or pass --force to remove it and leave no current borg',
    );
    expect(snapshotTree(prefix, binDir).filter((l) => !l.includes('.staging-test-'))).toEqual(before);
  });
});

describe('stale lock takeover', () => {
  test('two takers that both judged a lock stale: only one removes it, the other leaves the new lock alone', async () => {
    const file = path.join(prefix, '.lock');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.writeFileSync(file, `${dead}\n`);
    // Taker A and taker B have both read pid `dead`. A moves it away first and takes the lock.
    expect(await takeOverStale(file, dead)).toBe(true);
    const a = await acquireLock(prefix);
    // B acts on its old judgement: it must not remove A's fresh lock.
    expect(await takeOverStale(file, dead)).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(MINE);
    expect(fs.readdirSync(prefix).filter((n) => n.startsWith('.lock'))).toEqual(['.lock']);
    await a.release();
    expect(fs.existsSync(file)).toBe(false);
  });

  test('a taker that finds the stale lock already moved by another gives up quietly', async () => {
    expect(await takeOverStale(path.join(prefix, '.lock'), 12345)).toBe(false);
    expect(fs.readdirSync(prefix)).toEqual([]);
  });

  test('release leaves a lock that is no longer ours', async () => {
    const lock = await acquireLock(prefix);
    fs.writeFileSync(lock.file, `${process.ppid}\n`);
    await lock.release();
    expect(fs.readFileSync(lock.file, 'utf8')).toBe(`${process.ppid}\n`);
  });
});

describe('wrapper temporaries in the bin dir', () => {
  test("a killed run's borg temp files are removed at the next activation; live and unrelated ones kept", async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    fs.mkdirSync(binDir);
    const stale = [`.borg.${dead}.abcd1234.tmp`, `borg.tmp-${dead}-abcd1234`];
    const kept = [`.borg.${process.ppid}.abcd1234.tmp`, 'borg.tmp-notes', `.other.${dead}.abcd1234.tmp`];
    for (const n of [...stale, ...kept]) fs.writeFileSync(path.join(binDir, n), 'x');
    fs.mkdirSync(path.join(binDir, `.borg.${dead}.deadbeef.tmp`)); // not a file: not ours
    await activate({ prefix, binDir, version: '1.4.2', staged: stage('1.4.2'), replace: false });
    expect(fs.readdirSync(binDir).sort()).toEqual(['borg', `.borg.${dead}.deadbeef.tmp`, ...kept].sort());
  });
});

describe('current pointer and lock', () => {
  test('current is a one-line file replaced by rename; garbage reads as none', async () => {
    await writeCurrent(prefix, '1.4.2');
    expect(fs.readFileSync(path.join(prefix, 'current'), 'utf8')).toBe('borg-dir-1.4.2\n');
    fs.writeFileSync(path.join(prefix, 'current'), '../../etc\n');
    expect(await readCurrent(prefix)).toBeNull();
  });

  test('a second lock holder gets LockedError naming the pid; a stale lock is taken over', async () => {
    const lock = await acquireLock(prefix);
    const child = spawnSync(process.execPath, ['-e', 'process.exit(0)']);
    expect(child.status).toBe(0);
    // Pretend a live other process (our parent, pid 1 here is alive) holds it.
    fs.writeFileSync(lock.file, `${process.ppid}\n`);
    const err = await acquireLock(prefix).catch((e) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(err.message).toContain(`pid ${process.ppid}`);
    // A pid that no longer exists: stale.
    fs.writeFileSync(lock.file, `${child.pid}\n`);
    const again = await acquireLock(prefix);
    expect(fs.readFileSync(again.file, 'utf8')).toBe(MINE);
    await again.release();
    expect(fs.existsSync(again.file)).toBe(false);
  });
});
