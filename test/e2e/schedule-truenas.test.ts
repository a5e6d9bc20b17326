// schedule via the TrueNAS middleware, against a stand-in midclt that validates every call as the
// middleware's cronjob model does (and fails the test on any it refuses).
import { mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { binRun, jsonOf, runCli } from '../helpers/cli';
import { makeSandbox, STUBS, type Sandbox, type StubState } from '../helpers/schedule-sandbox';

jest.setTimeout(60000);

interface CronJob {
  id: number;
  command: string;
  user: string;
  description: string;
  enabled: boolean;
  stdout: boolean;
  stderr: boolean;
  schedule: Record<string, string>;
}

let sb: Sandbox;
beforeEach(() => {
  sb = makeSandbox({ truenas: true });
  sb.addJob('nas');
});
afterEach(() => {
  expect(sb.state('midclt').errors).toEqual([]);
  sb.cleanup();
});

const jobs = (): CronJob[] => (sb.state<StubState>('midclt').jobs ?? []) as unknown as CronJob[];
const methods = (): string[] => sb.state('midclt').calls.map((c) => String(c[0]));

test('add registers one middleware cron job, found by its description; add again updates it in place', async () => {
  const add = await sb.add('nas', ['--daily', '02:30']);
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
  expect(add.stdout).toContain('scheduled nas via truenas: daily 02:30');
  expect(jobs()).toEqual([
    {
      id: 1,
      enabled: true,
      stderr: false,
      stdout: true,
      description: 'borg-provision: nas',
      user: 'root',
      command: `${process.execPath} ${binRun} backup run nas --config-dir ${sb.configDir}`,
      schedule: { minute: '30', hour: '2', dom: '*', month: '*', dow: '*' },
    },
  ]);
  expect(methods()).toEqual(['cronjob.query', 'cronjob.create']);
  expect(sb.state('midclt').calls[0]).toEqual(['cronjob.query', [['description', '=', 'borg-provision: nas']]]);

  const again = await sb.add('nas', ['--weekly', 'sun', '04:15', '--random-delay', '10m']);
  expect(again.code).toBe(0);
  expect(jobs()).toHaveLength(1);
  expect(jobs()[0].schedule).toEqual({ minute: '15', hour: '4', dom: '*', month: '*', dow: '0' });
  expect(jobs()[0].command).toBe(
    `sleep "$(shuf -i 0-600 -n 1)" && ${process.execPath} ${binRun} backup run nas --config-dir ${sb.configDir}`,
  );
  expect(
    sb
      .state('midclt')
      .calls.slice(2)
      .map((c) => [c[0], c[1]]),
  ).toEqual([
    ['cronjob.query', expect.anything()],
    ['cronjob.update', 1],
  ]);

  // The same schedule once more changes nothing: no update call.
  const same = await sb.add('nas', ['--weekly', 'sun', '04:15', '--random-delay', '10m']);
  expect(same.code).toBe(0);
  expect(methods().slice(4)).toEqual(['cronjob.query']);
});

test('list shows job, how, when, next run and enabled; remove deletes by id and leaves nothing', async () => {
  expect((await sb.add('nas', ['--cron', '0 */6 * * mon-fri'])).code).toBe(0);
  const list = await sb.run(['schedule', 'list', '--json']);
  expect(list.code).toBe(0);
  const { schedules } = jsonOf<{
    schedules: { job: string; via: string; enabled: boolean; when: { cron: string; nextRun: string } }[];
  }>(list);
  expect(schedules).toHaveLength(1);
  expect(schedules[0]).toMatchObject({
    job: 'nas',
    via: 'truenas',
    enabled: true,
    where: 'cronjob id 1',
    when: { cron: '0 */6 * * 1-5' },
  });
  const next = new Date(schedules[0].when.nextRun);
  expect(next.getTime()).toBeGreaterThan(Date.now());
  expect([1, 2, 3, 4, 5]).toContain(next.getDay());
  expect(next.getHours() % 6).toBe(0);
  expect(sb.state('midclt').calls.at(-1)).toEqual(['cronjob.query', [['description', '^', 'borg-provision: ']]]);

  const text = await sb.run(['schedule', 'list']);
  expect(text.stdout).toMatch(/^JOB +VIA +WHEN +NEXT RUN +ENABLED\nnas +truenas +cron 0 \*\/6 \* \* 1-5 +\S+ +yes\n$/);

  const rm = await sb.run(['schedule', 'remove', 'nas']);
  expect(rm.code).toBe(0);
  expect(rm.stdout).toBe('removed nas from truenas\n');
  expect(jobs()).toEqual([]);
  expect(sb.state('midclt').calls.at(-1)).toEqual(['cronjob.delete', 1]);
  const twice = await sb.run(['schedule', 'remove', 'nas']);
  expect(twice.code).toBe(0);
  expect(twice.stdout).toBe('job nas is not scheduled: nothing to remove\n');
});

test('a cron job made by hand for the same job is folded into ours, never duplicated', async () => {
  // Two records with our description, as a second click in the UI would leave.
  const seed = {
    nextId: 3,
    calls: [],
    errors: [],
    jobs: [1, 2].map((id) => ({
      id,
      enabled: false,
      stderr: false,
      stdout: true,
      command: 'true',
      description: 'borg-provision: nas',
      user: 'root',
      schedule: { minute: '0', hour: '1', dom: '*', month: '*', dow: '*' },
    })),
  };
  require('node:fs').writeFileSync(sb.env.MIDCLT_STATE as string, JSON.stringify(seed));
  expect((await sb.add('nas', ['--hourly'])).code).toBe(0);
  expect(jobs()).toHaveLength(1);
  expect(jobs()[0]).toMatchObject({ id: 1, enabled: true, schedule: { minute: '0', hour: '*' } });
});

test('--dry-run prints the exact midclt call and registers nothing', async () => {
  const r = await sb.run(['schedule', 'add', 'nas', '--daily', '23:05', '--config-dir', sb.configDir, '--dry-run']);
  expect(r.code).toBe(0);
  const payload = {
    command: `${process.execPath} ${binRun} backup run nas --config-dir ${sb.configDir}`,
    user: 'root',
    schedule: { minute: '5', hour: '23', dom: '*', month: '*', dow: '*' },
    description: 'borg-provision: nas',
    enabled: true,
    stdout: true,
    stderr: false,
  };
  expect(r.stdout).toBe(`would run: midclt call cronjob.create '${JSON.stringify(payload)}'\n`);
  expect(jobs()).toEqual([]);
  expect(methods()).toEqual(['cronjob.query']);
  const json = jsonOf<{ dryRun: boolean; actions: { argv: string[] }[] }>(
    await sb.run(['schedule', 'add', 'nas', '--daily', '23:05', '--config-dir', sb.configDir, '--dry-run', '--json']),
  );
  expect(json.dryRun).toBe(true);
  expect(JSON.parse(json.actions[0].argv[3])).toEqual(payload);
});

test('the stand-in refuses what the middleware refuses (so a wrong payload fails these tests)', () => {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const call = (...a: string[]) =>
    spawnSync('midclt', ['call', ...a], { env: { ...process.env, ...sb.env }, encoding: 'utf8' });
  const good = { command: 'true', user: 'root' };
  expect(call('cronjob.create', JSON.stringify(good)).status).toBe(0);
  const bad: [string, string][] = [
    [JSON.stringify({ ...good, extra: 1 }), 'Extra inputs are not permitted'],
    [JSON.stringify({ user: 'root' }), 'command: Field required'],
    [JSON.stringify({ ...good, enabled: 'yes' }), 'valid boolean'],
    [JSON.stringify({ ...good, schedule: { minute: 5 } }), 'valid string'],
    [JSON.stringify({ ...good, schedule: { minute: '60' } }), 'cron syntax'],
    [JSON.stringify({ ...good, schedule: { dow: '8' } }), 'cron syntax'],
    [JSON.stringify({ ...good, schedule: { hour: '5/2' } }), 'Only range or `*`'],
    [JSON.stringify({ ...good, schedule: { weekday: '1' } }), 'Extra inputs'],
    [JSON.stringify({ ...good, user: 'no-such-user-here' }), 'does not exist'],
  ];
  for (const [payload, message] of bad) {
    const r = call('cronjob.create', payload);
    expect({ payload, status: r.status, said: r.stderr.includes(message) }).toEqual({ payload, status: 1, said: true });
  }
  expect(call('cronjob.delete', '"1"').status).toBe(1);
  expect(call('cronjob.update', '99', '{}').status).toBe(1);
  expect(call('cronjob.query', '[["description","like","x"]]').status).toBe(1);
  // Those refusals were the point here; clear them so afterEach checks only what the CLI sent.
  expect(sb.state('midclt').errors).toHaveLength(bad.length + 3);
  sb.clearErrors('midclt');
});

test('bad input: unknown job, bad time, each one clear line, exit 2, nothing registered', async () => {
  const unknown = await sb.add('nope', ['--daily', '02:30']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr.split('\n')[0]).toBe(`borg-provision: error: no backup job 'nope' in ${sb.configDir}/backups`);
  const badTime = await sb.add('nas', ['--daily', '24:00']);
  expect(badTime.code).toBe(2);
  expect(badTime.stderr.split('\n')[0]).toBe("borg-provision: error: bad time '24:00' for --daily");
  const badName = await sb.run(['schedule', 'add', '../x', '--daily', '02:30']);
  expect(badName.code).toBe(2);
  expect(badName.stderr).toMatch(/^borg-provision: error: bad job name '\.\.\/x'\n/);
  const noSchedule = await sb.add('nas', []);
  expect(noSchedule.code).toBe(2);
  expect(noSchedule.stderr).toMatch(
    /^borg-provision: error: no schedule given\nborg-provision: hint: give exactly one of/,
  );
  const two = await sb.add('nas', ['--hourly', '--daily', '01:00']);
  expect(two.code).toBe(2);
  expect(jobs()).toEqual([]);
  expect(sb.state('midclt').calls).toEqual([]);
});

test('--via cron on TrueNAS works but warns that an upgrade drops it', async () => {
  const r = await sb.add('nas', ['--daily', '02:30', '--via', 'cron']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe(
    'borg-provision: warning: on TrueNAS an upgrade rebuilds /etc and drops this cron schedule: ' +
      '--via truenas keeps it\n',
  );
  expect(jobs()).toEqual([]);
  // And now that cron has it, the middleware may not get it too.
  const twice = await sb.add('nas', ['--daily', '02:30']);
  expect(twice.code).toBe(2);
  expect(twice.stderr.split('\n')[0]).toBe("borg-provision: error: job 'nas' is already scheduled via cron");
  expect(jobs()).toEqual([]);
});

test('--via truenas on a machine that is not TrueNAS: exit 3, nothing called', async () => {
  const plain = makeSandbox();
  try {
    plain.addJob('nas');
    const r = await plain.add('nas', ['--daily', '02:30', '--via', 'truenas']);
    expect(r.code).toBe(3);
    expect(r.stderr.split('\n')[0]).toBe(
      'borg-provision: error: this machine is not TrueNAS (no version in /etc/version or /data/manifest.json)',
    );
    expect(plain.state('midclt').calls).toEqual([]);
  } finally {
    plain.cleanup();
  }
});

test('TrueNAS as detect tells it: /etc/version alone is TrueNAS, and add defaults to the middleware', async () => {
  rmSync(path.join(sb.root, 'data', 'manifest.json'));
  const detect = jsonOf<{ system: { truenas: { version: string } | null } }>(
    await runCli(['detect', '--json', '--root', sb.root, '--libc', '/usr/lib/x86_64-linux-gnu/libc.so.6']),
  );
  expect(detect.system.truenas?.version).toBe('25.04.2');
  const r = await sb.add('nas', ['--daily', '02:30']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('scheduled nas via truenas');
  expect(jobs()).toHaveLength(1);
  expect(readdirSync(path.join(sb.root, 'etc', 'cron.d'))).toEqual([]);
});

test('TrueNAS without midclt on PATH: exit 3, and nothing put in /etc that an upgrade would drop', async () => {
  // PATH with the other stand-ins and the system's tools, but no midclt anywhere on it.
  const bin = path.join(sb.dir, 'no-midclt');
  mkdirSync(bin);
  for (const tool of ['systemctl', 'crontab']) symlinkSync(path.join(STUBS, tool), path.join(bin, tool));
  const PATH = [bin, ...(process.env.PATH ?? '').split(':')].join(':');
  const r = await sb.add('nas', ['--daily', '02:30'], { PATH });
  expect(r.code).toBe(3);
  expect(r.stderr.split('\n')[0]).toBe('borg-provision: error: this is TrueNAS but midclt is not on PATH');
  expect(readdirSync(path.join(sb.root, 'etc', 'cron.d'))).toEqual([]);
  // list and remove cannot see the middleware's Cron Jobs either: they say so instead of "none".
  const list = await sb.run(['schedule', 'list'], { PATH });
  expect(list.code).toBe(3);
  expect(list.stderr.split('\n')[0]).toBe('borg-provision: error: midclt is not on PATH');
  // Nor may cron take the job there: the middleware might have it already.
  const viaCron = await sb.add('nas', ['--daily', '02:30', '--via', 'cron'], { PATH });
  expect(viaCron.code).toBe(3);
  expect(viaCron.stderr.split('\n')[0]).toBe('borg-provision: error: midclt is not on PATH');
  expect(readdirSync(path.join(sb.root, 'etc', 'cron.d'))).toEqual([]);
  const remove = await sb.run(['schedule', 'remove', 'nas'], { PATH });
  expect(remove.code).toBe(3);
  expect(remove.stderr.split('\n')[0]).toBe('borg-provision: error: midclt is not on PATH');
  expect(sb.state('midclt').calls).toEqual([]);
});
