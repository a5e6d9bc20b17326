// schedule via cron: root's /etc/cron.d file through real files, a user's crontab block through a
// stand-in crontab (run as the user nobody), and the refusals that must leave nothing behind: an
// executable on a noexec mount, one that is missing or not executable, a job cron would ignore.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { binRun, runCli, type CliResult } from '../helpers/cli';
import { filesUnder, makeSandbox, type Sandbox } from '../helpers/schedule-sandbox';
import { requireTool } from '../helpers/tools';

jest.setTimeout(60000);

let sb: Sandbox;
beforeEach(() => {
  sb = makeSandbox();
  sb.addJob('nas');
});
afterEach(() => {
  expect(sb.state('crontab').errors).toEqual([]);
  sb.cleanup();
});

const cronD = (): string => path.join(sb.root, 'etc', 'cron.d');
const scheduled = (): string => `${process.execPath} ${binRun} backup run nas --config-dir ${sb.configDir}`;

beforeAll(() => {
  requireTool('mount', 'mount');
  requireTool('umount', 'mount');
});

test('root: /etc/cron.d/borg-provision-JOB, mode 0644, SHELL, PATH, user field; remove leaves nothing', async () => {
  const r = await sb.add('nas', ['--cron', '15 3 * * 6', '--random-delay', '90s']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const file = path.join(cronD(), 'borg-provision-nas');
  expect(statSync(file).mode & 0o7777).toBe(0o644);
  expect(readFileSync(file, 'utf8')).toBe(
    [
      '# Written by `borg-provision schedule add nas`; `borg-provision schedule remove nas` removes it.',
      'SHELL=/bin/sh',
      `PATH=${sb.home}/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      `15 3 * * 6 root sleep "$(shuf -i 0-90 -n 1)" && ${scheduled()}`,
      '',
    ].join('\n'),
  );
  const list = await sb.run(['schedule', 'list']);
  expect(list.stdout).toMatch(/\nnas +cron +weekly Sat 03:15 \(\+ up to 90s at random\) +\S+ +yes\n$/);
  // Added again with another schedule: the same file, rewritten.
  expect((await sb.add('nas', ['--daily', '00:00'])).code).toBe(0);
  expect(filesUnder(cronD())).toEqual(['borg-provision-nas']);
  expect(readFileSync(file, 'utf8')).toContain(`\n0 0 * * * root ${scheduled()}\n`);
  const rm = await sb.run(['schedule', 'remove', 'nas']);
  expect(rm.code).toBe(0);
  expect(filesUnder(cronD())).toEqual([]);
});

test('a % in a path is escaped for cron, and odd paths are quoted for sh', async () => {
  const odd = path.join(sb.dir, "conf 50% it's");
  const oddSb = { ...sb, configDir: odd };
  mkdirSync(path.join(odd, 'backups', 'nas'), { recursive: true });
  writeFileSync(path.join(odd, 'backups', 'nas', 'config.yaml'), 'x: 1\n');
  expect((await sb.run(['schedule', 'add', 'nas', '--hourly', '--config-dir', oddSb.configDir])).code).toBe(0);
  const line = readFileSync(path.join(cronD(), 'borg-provision-nas'), 'utf8').split('\n')[3];
  expect(line).toBe(
    `0 * * * * root ${process.execPath} ${binRun} backup run nas --config-dir '${sb.dir}/conf 50\\% it'\\''s'`,
  );
  // What cron hands to sh (\% back to %) splits into the words we scheduled.
  const command = line.replace(/^(\S+ ){6}/, '').replace(/\\%/g, '%');
  const words = spawnSync('sh', ['-c', `printf '%s\\n' ${command.replace(/^\S+/, '')}`], {
    encoding: 'utf8',
  }).stdout.split('\n');
  expect(words.slice(0, 5)).toEqual([binRun, 'backup', 'run', 'nas', '--config-dir']);
  expect(words[5]).toBe(odd);
});

test('--dry-run prints the file whole and writes nothing', async () => {
  const r = await sb.run(['schedule', 'add', 'nas', '--daily', '06:45', '--config-dir', sb.configDir, '--dry-run']);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe(
    `would write ${cronD()}/borg-provision-nas (mode 0644):\n` +
      '# Written by `borg-provision schedule add nas`; `borg-provision schedule remove nas` removes it.\n' +
      `SHELL=/bin/sh\nPATH=${sb.home}/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n` +
      `45 6 * * * root ${scheduled()}\n`,
  );
  expect(filesUnder(cronD())).toEqual([]);
});

test('one job, one scheduler: adding it via cron while systemd has it is refused', async () => {
  const withSystemd = makeSandbox({ systemd: true });
  try {
    withSystemd.addJob('nas');
    expect((await withSystemd.add('nas', ['--daily', '01:00'])).code).toBe(0);
    const r = await withSystemd.add('nas', ['--daily', '01:00', '--via', 'cron']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe("borg-provision: error: job 'nas' is already scheduled via systemd");
    expect(filesUnder(path.join(withSystemd.root, 'etc', 'cron.d'))).toEqual([]);
  } finally {
    withSystemd.cleanup();
  }
});

describe('the executable a schedule would run', () => {
  const noexec = (): string => path.join(sb.dir, 'noexec');
  let mounted: string | null = null;
  afterEach(() => {
    if (mounted) spawnSync('umount', [mounted]);
    mounted = null;
  });

  async function refused(self: string): Promise<CliResult> {
    const r = await sb.add('nas', ['--daily', '02:30'], {
      BORG_PROVISION_SELF: self,
    });
    expect(filesUnder(cronD())).toEqual([]);
    return r;
  }

  test('on a noexec mount: refused, exit 6, nothing written', async () => {
    mkdirSync(noexec());
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'noexec,size=200m', 'tmpfs', noexec()], { encoding: 'utf8' });
    if (m.status !== 0) throw new Error(`this test mounts a noexec tmpfs and needs root (CAP_SYS_ADMIN): ${m.stderr}`);
    mounted = noexec();
    const copy = path.join(noexec(), 'borg-provision');
    copyFileSync(process.execPath, copy);
    chmodSync(copy, 0o755);
    const r = await refused(copy);
    expect(r.code).toBe(6);
    expect(r.stderr.split('\n')[0]).toBe(
      `borg-provision: error: cannot schedule ${copy}: it is on ${noexec()}, mounted noexec`,
    );
  });

  test('missing or not executable: refused, exit 6, nothing written', async () => {
    const missing = await refused(path.join(sb.dir, 'nothing-here'));
    expect(missing.code).toBe(6);
    expect(missing.stderr.split('\n')[0]).toBe(
      `borg-provision: error: cannot schedule ${sb.dir}/nothing-here: it does not exist`,
    );
    const plain = path.join(sb.dir, 'plain-file');
    writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    const notExec = await refused(plain);
    expect(notExec.code).toBe(6);
    expect(notExec.stderr.split('\n')[0]).toBe(`borg-provision: error: cannot schedule ${plain}: it is not executable`);
  });

  test('a runnable one named by BORG_PROVISION_SELF is scheduled alone (as a single executable is)', async () => {
    const r = await sb.run(['schedule', 'add', 'nas', '--daily', '02:30'], {
      BORG_PROVISION_SELF: process.execPath,
      XDG_CONFIG_HOME: sb.configDir.replace(/\/config$/, '/xdg'),
    });
    // The job lives under --config-dir only; without it the default config dir has no such job.
    expect(r.code).toBe(2);
    const ok = await sb.add('nas', ['--daily', '02:30'], {
      BORG_PROVISION_SELF: process.execPath,
    });
    expect(ok.code).toBe(0);
    expect(readFileSync(path.join(cronD(), 'borg-provision-nas'), 'utf8')).toContain(
      `\n30 2 * * * root ${process.execPath} backup run nas --config-dir ${sb.configDir}\n`,
    );
  });
});

test('a job name with a dot is refused for /etc/cron.d (cron would ignore the file)', async () => {
  sb.addJob('home.daily');
  const r = await sb.run(['schedule', 'add', 'home.daily', '--daily', '02:30', '--config-dir', sb.configDir]);
  expect(r.code).toBe(2);
  expect(r.stderr.split('\n')[0]).toMatch(
    /^borg-provision: error: cron ignores files in \/etc\/cron\.d whose name has a dot/,
  );
  expect(filesUnder(cronD())).toEqual([]);
});

describe('a user (nobody): a marked block in their crontab', () => {
  const NOBODY = 65534;

  const runAsNobody = (args: string[]): Promise<CliResult> => runCli(args, { env: sb.env, uid: NOBODY, gid: NOBODY });

  beforeAll(() => {
    const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(binRun)})`], {
      uid: NOBODY,
      gid: NOBODY,
    });
    if (probe.status !== 0) {
      throw new Error(
        `these tests run the CLI as the user nobody, who cannot read ${binRun}: ` +
          'check the repository out where others may read it',
      );
    }
  });
  beforeEach(() => {
    spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, sb.dir]);
  });

  test('add puts the block in place and keeps the rest; add again replaces it; remove takes it out', async () => {
    writeFileSync(sb.env.CRONTAB_FILE as string, 'MAILTO=admin\n5 5 * * * /usr/bin/true\n');
    spawnSync('chown', [`${NOBODY}:${NOBODY}`, sb.env.CRONTAB_FILE as string]);
    const r = await runAsNobody(['schedule', 'add', 'nas', '--daily', '02:30', '--config-dir', sb.configDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('scheduled nas via cron: daily 02:30');
    const block = (cron: string): string =>
      '# BEGIN borg-provision nas (written by `borg-provision schedule add`; do not edit)\n' +
      `${cron} ${scheduled()}\n# END borg-provision nas\n`;
    expect(readFileSync(sb.env.CRONTAB_FILE as string, 'utf8')).toBe(
      `MAILTO=admin\n5 5 * * * /usr/bin/true\n${block('30 2 * * *')}`,
    );
    // A line after our block stays after it when the block is replaced.
    writeFileSync(
      sb.env.CRONTAB_FILE as string,
      `${readFileSync(sb.env.CRONTAB_FILE as string, 'utf8')}1 1 * * * /usr/bin/false\n`,
    );
    expect((await runAsNobody(['schedule', 'add', 'nas', '--hourly', '--config-dir', sb.configDir])).code).toBe(0);
    expect(readFileSync(sb.env.CRONTAB_FILE as string, 'utf8')).toBe(
      `MAILTO=admin\n5 5 * * * /usr/bin/true\n${block('0 * * * *')}1 1 * * * /usr/bin/false\n`,
    );
    const list = await runAsNobody(['schedule', 'list', '--json']);
    expect(JSON.parse(list.stdout).schedules).toEqual([
      expect.objectContaining({ job: 'nas', via: 'cron', where: 'crontab' }),
    ]);
    expect((await runAsNobody(['schedule', 'remove', 'nas'])).code).toBe(0);
    expect(readFileSync(sb.env.CRONTAB_FILE as string, 'utf8')).toBe(
      'MAILTO=admin\n5 5 * * * /usr/bin/true\n1 1 * * * /usr/bin/false\n',
    );
    expect(sb.state('crontab').calls).toEqual([
      ['-l'],
      ['-'], // add: read, write
      ['-l'],
      ['-'], // add again
      ['-l'], // list
      ['-l'],
      ['-'], // remove
    ]);
  });

  test('with nothing else in the crontab, remove deletes the crontab (crontab -r)', async () => {
    expect((await runAsNobody(['schedule', 'add', 'nas', '--daily', '02:30', '--config-dir', sb.configDir])).code).toBe(
      0,
    );
    expect((await runAsNobody(['schedule', 'remove', 'nas'])).code).toBe(0);
    expect(filesUnder(sb.dir).filter((f) => f.startsWith('crontab.txt'))).toEqual([]);
    expect(sb.state('crontab').calls.at(-1)).toEqual(['-r']);
  });

  test('--via systemd needs root: refused with exit 2 before anything is written', async () => {
    const r = await runAsNobody([
      'schedule',
      'add',
      'nas',
      '--daily',
      '02:30',
      '--via',
      'systemd',
      '--config-dir',
      sb.configDir,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('borg-provision: error: --via systemd writes system units and needs root');
    expect(filesUnder(sb.root)).toEqual([]);
  });
});

test('the stand-in crontab refuses a table the real one would', () => {
  const call = (input: string) =>
    spawnSync('crontab', ['-'], { env: { ...process.env, ...sb.env }, input, encoding: 'utf8' });
  expect(call('30 2 * * * /bin/true\n').status).toBe(0);
  for (const bad of ['30 2 * * /bin/true\n', '61 2 * * * /bin/true\n', '30 2 * * *\n', '30 2 * * * /bin/true']) {
    const r = call(bad);
    expect({ bad, status: r.status, said: r.stderr.includes("errors in crontab file, can't install.") }).toEqual({
      bad,
      status: 1,
      said: true,
    });
  }
  expect(readFileSync(sb.env.CRONTAB_FILE as string, 'utf8')).toBe('30 2 * * * /bin/true\n');
  sb.clearErrors('crontab');
});
