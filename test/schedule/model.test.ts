// The schedule model: every form becomes one checked cron expression; its systemd calendar is
// checked by a real `systemd-analyze calendar`, which must find the same next runs as croner.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serviceUnit } from '../../src/schedule/backends/systemd-units';
import { onCalendar } from '../../src/schedule/calendar';
import { configHome } from '../../src/util/xdg';
import { backupRunArgv, selfInvocation, shLine, systemdLine } from '../../src/schedule/command-line';
import { describeCron, nextRuns, scheduleFrom } from '../../src/schedule/model';
import { UsageError } from '../../src/errors';
import { VIAS } from '../../src/schedule';
import { VIA_OPTIONS } from '../../src/cli/schedule-flags';
import { requireTool } from '../helpers/tools';

beforeAll(() => requireTool('systemd-analyze', 'systemd'));

test.each([
  [{ daily: '02:30' }, '30 2 * * *', 'daily 02:30'],
  [{ daily: '0:05' }, '5 0 * * *', 'daily 00:05'],
  [{ hourly: true }, '0 * * * *', 'hourly'],
  [{ weekly: ['sun', '03:30'] }, '30 3 * * 0', 'weekly Sun 03:30'],
  [{ weekly: 'Friday 23:59' }, '59 23 * * 5', 'weekly Fri 23:59'],
  [{ cron: '*/15  8-18 * jan-mar MON-FRI' }, '*/15 8-18 * 1-3 1-5', 'cron */15 8-18 * 1-3 1-5'],
  [{ cron: '0 4 1,15 * 7' }, '0 4 1,15 * 7', 'cron 0 4 1,15 * 7'],
])('%j is %s', (input, cron, description) => {
  const s = scheduleFrom(input);
  expect(s.cron.text).toBe(cron);
  expect(describeCron(s.cron.text)).toBe(description);
});

test.each([
  [{}, 'no schedule given'],
  [{ daily: '1:00', hourly: true }, 'more than one schedule given'],
  [{ daily: '25:00' }, "bad time '25:00' for --daily"],
  [{ daily: '12:60' }, "bad time '12:60' for --daily"],
  [{ daily: 'noon' }, "bad time 'noon' for --daily"],
  [{ weekly: ['someday', '01:00'] }, "bad day 'someday' for --weekly"],
  [{ weekly: ['mon'] }, "bad --weekly 'mon'"],
  [{ cron: '0 3 * *' }, "bad cron expression '0 3 * *': 4 fields, expected 5"],
  [{ cron: '0 24 * * *' }, "bad cron expression '0 24 * * *': hour 24 is outside 0-23"],
  [{ cron: '0 3 0 * *' }, "bad cron expression '0 3 0 * *': dom 0 is outside 1-31"],
  [{ cron: '5/15 * * * *' }, "bad cron expression '5/15 * * * *': a step needs * or a range before it ('5/15')"],
  [{ cron: '0 3 L * *' }, "bad cron expression '0 3 L * *': 'L' in the dom field is not a number"],
  [{ cron: '0 3 * * 5-1' }, "bad cron expression '0 3 * * 5-1': the dow range 5-1 runs backwards"],
  [
    { cron: '0 3 */2 * 1' },
    "bad cron expression '0 3 */2 * 1': a step on * in day-of-month or day-of-week together with the other one " +
      'is read differently by each cron',
  ],
  [{ cron: '0 3 31 2 *' }, "bad cron expression '0 3 31 2 *': it never runs"],
  [{ hourly: true, randomDelay: '10' }, "bad --random-delay '10'"],
  [{ hourly: true, randomDelay: '25h' }, "bad --random-delay '25h'"],
])('%j is refused: %s', (input, message) => {
  let err: unknown;
  try {
    scheduleFrom(input);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message.startsWith(message)).toBe(true);
  expect((err as UsageError).hint).toBeTruthy();
});

test('random delays', () => {
  expect(scheduleFrom({ hourly: true, randomDelay: '10m' }).randomDelaySec).toBe(600);
  expect(scheduleFrom({ hourly: true, randomDelay: '1h' }).randomDelaySec).toBe(3600);
  expect(scheduleFrom({ hourly: true, randomDelay: '0' }).randomDelaySec).toBe(0);
});

function systemdElapses(spec: string, n: number): number[] {
  const r = spawnSync('systemd-analyze', ['calendar', `--iterations=${n}`, spec], {
    encoding: 'utf8',
    env: { ...process.env, TZ: process.env.TZ ?? '' },
  });
  expect({ spec, code: r.status, stderr: r.stderr }).toEqual({ spec, code: 0, stderr: '' });
  return [...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/g)].map((m) =>
    new Date(`${m[1].replace(' ', 'T')}`).getTime(),
  );
}

test.each([
  '30 2 * * *',
  '0 * * * *',
  '30 3 * * 0',
  '*/15 8-18 * 1-3 1-5',
  '0 4 1,15 * 7',
  '5,35 */6 * * *',
  '0 0 1-7 * *',
  '10-40/10 1 * 6-8 sat,sun',
  '0 12 29 2 *',
])('%s: systemd-analyze calendar accepts the OnCalendar and finds the same next runs as croner', (cron) => {
  const expr = scheduleFrom({ cron }).cron;
  const specs = onCalendar(expr);
  const before = new Date();
  const bySystemd = specs.flatMap((s) => systemdElapses(s, 6));
  const after = new Date();
  // Both lines of a two-line timer together: the first six runs of their union.
  const union = [...new Set(bySystemd)].sort((a, b) => a - b).slice(0, 6);
  const croner = (from: Date) => nextRuns(expr.text, 6, from).map((d) => d.getTime());
  // The clock may pass a run between the two programs: either start time must then agree.
  expect([croner(before), croner(after)]).toContainEqual(union);
});

test('sh quoting: every word comes back as it went in', () => {
  const words = ['/opt/borg provision/bin', "it's", '50%', '$HOME', '`x`', 'a"b', 'plain-word_1.2', ''];
  const r = spawnSync('sh', ['-c', `printf '%s\\n' ${shLine(words)}`], { encoding: 'utf8' });
  expect(r.stdout).toBe(words.map((w) => `${w}\n`).join(''));
});

test('systemd quoting: an ExecStart with spaces, % and $ points at the real file (systemd-analyze verify)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-unit-'));
  try {
    const odd = path.join(dir, 'we ird %n $HOME');
    mkdirSync(odd);
    const exe = path.join(odd, 'borg-provision');
    writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
    const argv = [exe, 'backup', 'run', 'nas', '--config-dir', `${dir}/c "1" 5% $HOME`];
    expect(systemdLine(argv)).toBe(
      `"${dir}/we ird %%n $HOME/borg-provision" backup run nas --config-dir "${dir}/c \\"1\\" 5%% $$HOME"`,
    );
    const unit = path.join(dir, 'borg-provision-nas.service');
    writeFileSync(unit, serviceUnit('nas', argv, false));
    const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    // And a wrong path is caught, so the check above means something.
    writeFileSync(unit, serviceUnit('nas', [path.join(dir, 'missing'), 'backup'], false));
    const bad = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the scheduled executable: a single executable alone, else node with bin/run.js, or BORG_PROVISION_SELF', () => {
  expect(selfInvocation({ env: {}, execPath: '/root/bin/borg-provision', isSea: true })).toEqual({
    executable: '/root/bin/borg-provision',
    script: null,
  });
  const node = selfInvocation({ env: {}, execPath: '/usr/bin/node', isSea: false });
  expect(node).toEqual({ executable: '/usr/bin/node', script: path.resolve(__dirname, '..', '..', 'bin', 'run.js') });
  expect(selfInvocation({ env: { BORG_PROVISION_SELF: '/root/bin/bp' }, isSea: false })).toEqual({
    executable: '/root/bin/bp',
    script: null,
  });
  expect(backupRunArgv(node, 'nas', 'rel/conf')).toEqual([
    '/usr/bin/node',
    node.script,
    'backup',
    'run',
    'nas',
    '--config-dir',
    path.resolve('rel/conf'),
  ]);
  // The default base is named too: the scheduler's environment may point elsewhere.
  expect(backupRunArgv(node, 'nas')).toEqual([
    '/usr/bin/node',
    node.script,
    'backup',
    'run',
    'nas',
    '--config-dir',
    configHome(),
  ]);
});

test("the schedulers offered as --via are the stage's own", () => {
  expect([...VIA_OPTIONS].sort()).toEqual([...VIAS].sort());
});
