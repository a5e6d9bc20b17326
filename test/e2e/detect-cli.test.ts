// `borg-provision detect` as a user runs it: the built CLI in a real subprocess.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { inspectLibc } from '../../src/target';
import { jsonOf, runCli, type CliResult } from '../helpers/cli';
import { buildElf, patch, sectionHeaderField } from '../helpers/elf-writer';
import { libcElf, put, tempDir, truenasRoot } from '../helpers/root-tree';

let work: string;
let env: NodeJS.ProcessEnv;
beforeAll(() => {
  work = tempDir('bp-detect-');
  const home = path.join(work, 'home');
  env = {
    HOME: home,
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_CACHE_HOME: path.join(home, 'cache'),
    XDG_CONFIG_HOME: path.join(home, 'config'),
  };
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const detect = (...args: string[]) => runCli(['detect', ...args], { env });

/** One line on stderr, the given exit code, no stack trace, nothing on stdout. */
function expectFailure(r: CliResult, code: number, message: RegExp): void {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.stringMatching(message) });
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^borg-provision: error: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stdout).toBe('');
}

describe('bad input exits 2 with one line', () => {
  const good = buildElf({ verdefs: ['libc.so.6', 'GLIBC_2.2.5'] });
  const cases: [string, () => string, RegExp][] = [
    ['a file that is not ELF', () => put(work, 'text.so', 'hello\n'), /text\.so is not a valid ELF file: no ELF magic/],
    ['a truncated ELF header', () => put(work, 'trunc.so', good.buf.subarray(0, 30)), /truncated ELF header/],
    [
      'a truncated copy',
      () => put(work, 'short.so', good.buf.subarray(0, good.buf.length - 40)),
      /section table runs past the end/,
    ],
    [
      'a corrupt string offset',
      () =>
        put(work, 'corrupt.so', patch(good, sectionHeaderField(good, good.sections['.gnu.version_d'], 'link'), 4, 77)),
      /links to section 77, which is not a string table/,
    ],
    ['a directory', () => work, /is a directory, not a file/],
    ['a missing path', () => path.join(work, 'missing.so'), /missing\.so does not exist/],
    [
      'a symbolic link loop',
      () => {
        const loop = path.join(work, 'loop.so');
        symlinkSync(loop, loop);
        return loop;
      },
      /symbolic link loop/,
    ],
  ];
  test.each(cases)('--libc: %s', async (_, make, message) => {
    expectFailure(await detect('--libc', make()), 2, message);
  });

  test('--root with no libc', async () => {
    const root = tempDir('bp-empty-root-');
    try {
      put(root, 'etc/os-release', 'ID=debian\n');
      expectFailure(await detect('--root', root), 2, /no libc found under --root .*pass --libc/);
      expect(readdirSync(root)).toEqual(['etc']); // nothing written into the root
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('--root that does not exist; an unknown flag', async () => {
    expectFailure(await detect('--root', path.join(work, 'nope')), 2, /--root .*nope does not exist/);
    expectFailure(await detect('--bogus'), 2, /Nonexistent flag: --bogus \(see --help\)/);
  });

  test('--libc naming a real ELF program that is no C library (/bin/ls)', async () => {
    expectFailure(
      await detect('--libc', '/bin/ls'),
      2,
      /^borg-provision: error: \/bin\/ls is an ELF file but not a C library \(no GNU C Library release string and no GLIBC_ version definitions\): pass the target's libc\.so\.6\n$/,
    );
    const r = await detect('--libc', '/bin/ls', '--json');
    expect(r.code).toBe(2);
    expect(jsonOf<{ error: { kind: string } }>(r).error.kind).toBe('bad-input');
  });

  test('--json prints the error object on stdout', async () => {
    const r = await detect('--libc', put(work, 'text2.so', 'x'), '--json');
    expect(r.code).toBe(2);
    expect(jsonOf(r)).toEqual({
      error: { kind: 'elf-format', exitCode: 2, message: expect.stringMatching(/no ELF magic/) },
    });
  });
});

test('a musl target exits 3 saying borg needs glibc, with --json too', async () => {
  const root = tempDir('bp-musl-');
  try {
    put(root, 'bin/sh', buildElf({ interp: '/lib/ld-musl-aarch64.so.1', machine: 183 }).buf);
    put(root, 'lib/ld-musl-aarch64.so.1', buildElf({ machine: 183, rodata: '/etc/ld-musl-aarch64.path' }).buf);
    expectFailure(await detect('--root', root), 3, /is musl libc; borg's Linux builds need glibc/);
    const r = await detect('--root', root, '--json');
    expect(r.code).toBe(3);
    expect(jsonOf<{ error: { kind: string } }>(r).error.kind).toBe('unsupported-target');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the running machine: verdict first, and --json has the documented shape', async () => {
  const human = await detect();
  expect(human.code).toBe(0);
  expect(human.stdout.split('\n')[0]).toMatch(/^glibc \d+\.\d+ on \w+: /);
  expect(human.stdout).toMatch(/^paths {4}\/tmp: /m);
  const r = await detect('--json');
  expect(r.code).toBe(0);
  const report = jsonOf<Record<string, any>>(r);
  expect(Object.keys(report)).toEqual(
    expect.arrayContaining([
      'libc',
      'arch',
      'kernelArch',
      'elf',
      'system',
      'paths',
      'sudo',
      'borg',
      'source',
      'wouldInstall',
    ]),
  );
  expect(Object.keys(report.libc).sort()).toEqual([
    'build',
    'family',
    'maxSymbolVersion',
    'path',
    'release',
    'versions',
  ]);
  const ldd = execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  expect(ldd.endsWith(` ${report.libc.release}`)).toBe(true);
  // The same list real-libc.test.ts proves equal to readelf -V's.
  expect(report.libc.versions).toEqual((await inspectLibc(report.libc.path)).libc.versions);
  expect(report.paths.map((p: { path: string }) => p.path)).toEqual([
    '/tmp',
    env.HOME,
    '/root',
    `${env.XDG_DATA_HOME}/borg-provision`,
  ]);
  expect(report.source).toMatchObject({ kind: 'running', hostChecked: true });
});

test('--root on a TrueNAS tree, human output', async () => {
  const root = truenasRoot(tempDir('bp-truenas-'), { release: '2.31', build: 'Debian GLIBC 2.31-13+deb11u11' });
  try {
    const r = await detect('--root', root);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      "glibc 2.31 on x86_64: borg's signed borg-linux-glibc231 builds fit (published for every borg 1.4 release); borg-linux-glibc228 also run here",
    );
    expect(lines[1]).toBe('libc     /usr/lib/x86_64-linux-gnu/libc.so.6  (Debian GLIBC 2.31-13+deb11u11)');
    expect(lines[2]).toMatch(/release 2\.31, highest symbol version GLIBC_2\.30/);
    expect(r.stdout).toContain('TrueNAS 25.04.2 Fangtooth');
    expect(r.stdout).toMatch(/paths {4}not checked/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--libc with a copy of a NAS libc, --json', async () => {
  const libc = put(work, 'nas-libc.so.6', libcElf('2.36', 'Debian GLIBC 2.36-9+deb12u10'));
  const r = await detect('--libc', libc, '--json');
  expect(r.code).toBe(0);
  expect(jsonOf(r)).toMatchObject({
    libc: {
      path: libc,
      family: 'glibc',
      release: '2.36',
      maxSymbolVersion: '2.35',
      build: 'Debian GLIBC 2.36-9+deb12u10',
    },
    arch: 'x86_64',
    elf: { class: 64, endianness: 'little', machine: 62 },
    system: { os: null, debian: 'bookworm', truenas: null },
    paths: [],
    borg: [],
    wouldInstall: { assetFamily: 'borg-linux-glibc236' },
  });
});

describe('interrupted while `borg -V` hangs', () => {
  test('exit 130, one line, the borg child is killed', async () => {
    const bin = path.join(work, 'hang');
    const pidFile = path.join(bin, 'pid');
    chmodSync(put(bin, 'borg', `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 30\n`), 0o755);
    const started = Date.now();
    const r = await runCli(['detect'], {
      env: { ...env, PATH: `${bin}:${process.env.PATH}` },
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    expect(Date.now() - started).toBeLessThan(2900); // before the 3 s `borg -V` timeout
    expectFailure(r, 130, /^borg-provision: error: interrupted; nothing was left half-written\n$/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});

test('one borg reached through two PATH entries (usrmerge: /bin -> usr/bin) is listed and run once', async () => {
  const usr = path.join(work, 'merged', 'usr', 'bin');
  const runs = path.join(work, 'merged', 'runs.log');
  put(work, 'merged/usr/bin/borg', `#!/bin/sh\necho run >> '${runs}'\necho "borg 1.2.7"\n`);
  chmodSync(path.join(usr, 'borg'), 0o755);
  symlinkSync('usr/bin', path.join(work, 'merged', 'bin'));
  const bin = path.join(work, 'merged', 'bin');
  const pathEnv = `${usr}:${bin}:/usr/bin:/bin`;
  const r = await runCli(['detect', '--json'], { env: { ...env, PATH: pathEnv } });
  expect(r.code).toBe(0);
  const ours = jsonOf<{ borg: { path: string; realPath: string; alsoAt: string[]; version: string }[] }>(r).borg.filter(
    (b) => b.path.startsWith(work),
  );
  expect(ours).toEqual([
    {
      path: path.join(usr, 'borg'),
      realPath: path.join(usr, 'borg'),
      alsoAt: [path.join(bin, 'borg')],
      version: '1.2.7',
    },
  ]);
  expect(readFileSync(runs, 'utf8')).toBe('run\n');
  const human = await runCli(['detect'], { env: { ...env, PATH: pathEnv } });
  expect(human.stdout).toContain(`${path.join(usr, 'borg')} 1.2.7 (also ${path.join(bin, 'borg')})`);
});
