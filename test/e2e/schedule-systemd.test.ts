// schedule via systemd (root) and systemd --user: the units pass a real `systemd-analyze verify`,
// their OnCalendar a real `systemd-analyze calendar`; systemctl is a stand-in that records calls
// (no systemd runs as PID 1 here) and the exact sequence is asserted.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import * as path from 'node:path';
import { binRun, jsonOf } from '../helpers/cli';
import { filesUnder, makeSandbox, type Sandbox } from '../helpers/schedule-sandbox';
import { requireTool } from '../helpers/tools';

jest.setTimeout(60000);

let sb: Sandbox;
beforeAll(() => requireTool('systemd-analyze', 'systemd'));
beforeEach(() => {
  sb = makeSandbox({ systemd: true });
  sb.addJob('nas');
});
afterEach(() => {
  expect(sb.state('systemctl').errors).toEqual([]);
  sb.cleanup();
});

function verify(dir: string, user: boolean): void {
  const files = ['borg-provision-nas.service', 'borg-provision-nas.timer'].map((f) => path.join(dir, f));
  const runtime = path.join(sb.dir, 'runtime');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const r = spawnSync('systemd-analyze', [...(user ? ['--user'] : []), 'verify', ...files], {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: runtime, SYSTEMD_LOG_LEVEL: 'notice' },
  });
  // verify exits 0 on unknown keys and bad values too: it only warns, so stderr must be empty.
  expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
}

function calendar(spec: string): string {
  const r = spawnSync('systemd-analyze', ['calendar', spec], { encoding: 'utf8' });
  expect({ spec, code: r.status, stderr: r.stderr }).toEqual({ spec, code: 0, stderr: '' });
  return r.stdout;
}

test('root: units in /etc/systemd/system pass systemd-analyze verify; daemon-reload, enable --now', async () => {
  const r = await sb.add('nas', ['--daily', '02:30', '--random-delay', '10m']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('scheduled nas via systemd: daily 02:30 (+ up to 10m at random)');
  const dir = path.join(sb.root, 'etc', 'systemd', 'system');
  expect(filesUnder(dir)).toEqual(['borg-provision-nas.service', 'borg-provision-nas.timer']);
  expect(statSync(path.join(dir, 'borg-provision-nas.timer')).mode & 0o777).toBe(0o644);
  verify(dir, false);
  const service = readFileSync(path.join(dir, 'borg-provision-nas.service'), 'utf8');
  expect(service).toContain(`\nExecStart=${process.execPath} ${binRun} backup run nas --config-dir ${sb.configDir}\n`);
  for (const line of [
    'Type=oneshot',
    'Nice=19',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    'CPUSchedulingPolicy=batch',
    'ProtectSystem=full',
    'PrivateTmp=true',
    'NoNewPrivileges=true',
    'ProtectKernelTunables=true',
    'RestrictNamespaces=true',
    'LockPersonality=true',
    'Wants=network-online.target',
    'After=network-online.target',
  ]) {
    expect(service.split('\n')).toContain(line);
  }
  const timer = readFileSync(path.join(dir, 'borg-provision-nas.timer'), 'utf8');
  for (const line of [
    'OnCalendar=*-*-* 02:30:00',
    'Persistent=true',
    'RandomizedDelaySec=600',
    'WantedBy=timers.target',
  ]) {
    expect(timer.split('\n')).toContain(line);
  }
  expect(calendar('*-*-* 02:30:00')).toContain('Normalized form: *-*-* 02:30:00');
  expect(sb.state('systemctl').calls).toEqual([['daemon-reload'], ['enable', '--now', 'borg-provision-nas.timer']]);

  // Again, unchanged: no reload, enable --now only (turns it back on if someone disabled it).
  expect((await sb.add('nas', ['--daily', '02:30', '--random-delay', '10m'])).code).toBe(0);
  // Changed: the timer rewritten in place, reloaded.
  expect((await sb.add('nas', ['--hourly'])).code).toBe(0);
  expect(readFileSync(path.join(dir, 'borg-provision-nas.timer'), 'utf8')).toContain('\nOnCalendar=*-*-* *:00:00\n');
  expect(sb.state('systemctl').calls.slice(2)).toEqual([
    ['enable', '--now', 'borg-provision-nas.timer'],
    ['daemon-reload'],
    ['enable', '--now', 'borg-provision-nas.timer'],
  ]);

  const list = jsonOf<{ schedules: unknown[] }>(await sb.run(['schedule', 'list', '--json']));
  expect(list.schedules).toEqual([
    expect.objectContaining({
      job: 'nas',
      via: 'systemd',
      enabled: true,
      when: expect.objectContaining({ cron: '0 * * * *', description: 'hourly' }),
    }),
  ]);

  // The timer has run once: Persistent=true keeps the time in a stamp file, which remove takes too.
  const stamps = path.join(sb.root, 'var', 'lib', 'systemd', 'timers');
  mkdirSync(stamps, { recursive: true });
  writeFileSync(path.join(stamps, 'stamp-borg-provision-nas.timer'), '');
  writeFileSync(path.join(stamps, 'stamp-other.timer'), '');
  const rm = await sb.run(['schedule', 'remove', 'nas']);
  expect(rm.code).toBe(0);
  expect(filesUnder(dir)).toEqual([]);
  expect(filesUnder(stamps)).toEqual(['stamp-other.timer']);
  const enable = ['enable', '--now', 'borg-provision-nas.timer'];
  expect(sb.state('systemctl').calls).toEqual([
    ['daemon-reload'],
    enable, // first add
    enable, // unchanged
    ['daemon-reload'],
    enable, // changed
    ['is-enabled', 'borg-provision-nas.timer'], // list
    ['disable', '--now', 'borg-provision-nas.timer'],
    ['daemon-reload'], // remove
  ]);
  expect(sb.state('systemctl').enabled).toEqual({});
});

test('user: units in ~/.config/systemd/user, verified with systemd-analyze --user, systemctl --user', async () => {
  const r = await sb.add('nas', ['--weekly', 'mon', '07:05', '--via', 'systemd-user']);
  // Without lingering, a user's manager (and its timers) stops when the user logs out.
  expect(r.stderr).toBe(
    `borg-provision: warning: a user's timers run only while ${userInfo().username} is logged in: ` +
      `\`loginctl enable-linger ${userInfo().username}\` (as root) lets them run at any time\n`,
  );
  expect(r.code).toBe(0);
  const dir = path.join(sb.home, '.config', 'systemd', 'user');
  expect(filesUnder(dir)).toEqual(['borg-provision-nas.service', 'borg-provision-nas.timer']);
  verify(dir, true);
  const service = readFileSync(path.join(dir, 'borg-provision-nas.service'), 'utf8');
  expect(service).not.toContain('network-online.target');
  expect(service).not.toContain('ProtectSystem');
  expect(readFileSync(path.join(dir, 'borg-provision-nas.timer'), 'utf8')).toContain(
    '\nOnCalendar=Mon *-*-* 07:05:00\n',
  );
  expect(sb.state('systemctl').calls).toEqual([
    ['--user', 'daemon-reload'],
    ['--user', 'enable', '--now', 'borg-provision-nas.timer'],
  ]);
  const linger = path.join(sb.root, 'var', 'lib', 'systemd', 'linger');
  mkdirSync(linger, { recursive: true });
  writeFileSync(path.join(linger, userInfo().username), '');
  const again = await sb.add('nas', ['--weekly', 'mon', '07:05', '--via', 'systemd-user']);
  expect(again.stderr).toBe('');
  expect(again.code).toBe(0);
  const stamps = path.join(sb.home, '.local', 'share', 'systemd', 'timers');
  mkdirSync(stamps, { recursive: true });
  writeFileSync(path.join(stamps, 'stamp-borg-provision-nas.timer'), '');
  const rm = await sb.run(['schedule', 'remove', 'nas', '--via', 'systemd-user']);
  expect(rm.code).toBe(0);
  expect(filesUnder(dir)).toEqual([]);
  expect(filesUnder(stamps)).toEqual([]);
  expect(sb.state('systemctl').calls.slice(2)).toEqual([
    ['--user', 'enable', '--now', 'borg-provision-nas.timer'], // added again, unchanged
    ['--user', 'disable', '--now', 'borg-provision-nas.timer'],
    ['--user', 'daemon-reload'],
  ]);
});

test('--dry-run prints both units whole and the systemctl calls, and writes nothing', async () => {
  const r = await sb.run([
    'schedule',
    'add',
    'nas',
    '--cron',
    '*/20 8-18 * * 1-5',
    '--config-dir',
    sb.configDir,
    '--dry-run',
  ]);
  expect(r.code).toBe(0);
  const dir = path.join(sb.root, 'etc', 'systemd', 'system');
  expect(r.stdout).toContain(`would write ${dir}/borg-provision-nas.service (mode 0644):\n# Written by`);
  expect(r.stdout).toContain('\nOnCalendar=Mon..Fri *-*-* 08..18:00,20,40:00\n');
  expect(
    r.stdout.endsWith(
      'would run: systemctl daemon-reload\nwould run: systemctl enable --now borg-provision-nas.timer\n',
    ),
  ).toBe(true);
  expect(filesUnder(sb.root).filter((f) => f.includes('borg-provision'))).toEqual([]);
  expect(sb.state('systemctl').calls).toEqual([]);
});

test('a failing systemctl puts the previous units back (exit 6)', async () => {
  const dir = path.join(sb.root, 'etc', 'systemd', 'system');
  expect((await sb.add('nas', ['--daily', '01:00'])).code).toBe(0);
  const before = filesUnder(dir).map((f) => readFileSync(path.join(dir, f), 'utf8'));
  // A systemctl that fails every call (its unit directory unset makes the stand-in refuse).
  const r = await sb.add('nas', ['--daily', '05:00'], {
    SYSTEMCTL_UNIT_DIR: '',
  });
  expect(r.code).toBe(6);
  expect(r.stderr.split('\n')[0]).toMatch(
    /^borg-provision: error: systemctl daemon-reload failed: stand-in systemctl: /,
  );
  expect(filesUnder(dir).map((f) => readFileSync(path.join(dir, f), 'utf8'))).toEqual(before);
  expect(filesUnder(dir)).toEqual(['borg-provision-nas.service', 'borg-provision-nas.timer']);
  // That refusal was provoked; clear it for afterEach.
  sb.clearErrors('systemctl');
});

test('cron semantics kept: day-of-month OR day-of-week becomes two OnCalendar lines', async () => {
  const r = await sb.add('nas', ['--cron', '30 4 1,15 * sun']);
  expect(r.code).toBe(0);
  const dir = path.join(sb.root, 'etc', 'systemd', 'system');
  const timer = readFileSync(path.join(dir, 'borg-provision-nas.timer'), 'utf8');
  const lines = timer.split('\n').filter((l) => l.startsWith('OnCalendar='));
  expect(lines).toEqual(['OnCalendar=Sun *-*-* 04:30:00', 'OnCalendar=*-*-01,15 04:30:00']);
  lines.forEach((l) => calendar(l.slice('OnCalendar='.length)));
  verify(dir, false);
});

test('the stand-in systemctl refuses what the real one would', () => {
  const call = (...a: string[]) => spawnSync('systemctl', a, { env: { ...process.env, ...sb.env }, encoding: 'utf8' });
  expect(call('enable', '--now', 'borg-provision-nope.timer').stderr).toContain('does not exist');
  expect(call('start', 'x.timer').status).not.toBe(0);
  expect(call('enable', '--force', 'x.timer').status).not.toBe(0);
  expect(call('daemon-reload', 'extra').status).not.toBe(0);
  expect(sb.state('systemctl').errors).toHaveLength(4);
  sb.clearErrors('systemctl');
});
