// A machine for the schedule tests: a temp root (BORG_PROVISION_SCHEDULE_ROOT) holding etc/cron.d
// and, on request, the TrueNAS markers or /run/systemd/system; a temp HOME and config dir with
// jobs; the stand-ins for midclt, systemctl and crontab first on PATH, each with its state file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliResult } from './cli';

export const STUBS = path.join(__dirname, 'schedule-stubs');

export interface Sandbox {
  dir: string;
  root: string;
  home: string;
  configDir: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** `schedule add <job> <when...> --config-dir <configDir>`: the job's schedule, with this config dir. */
  add(job: string, when: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  addJob(name: string): void;
  state<T = StubState>(stub: 'midclt' | 'systemctl' | 'crontab'): T;
  /** Forgets the calls a stand-in refused, after a test provoked them on purpose. */
  clearErrors(stub: 'midclt' | 'systemctl' | 'crontab'): void;
  cleanup(): void;
}

export interface StubState {
  calls: unknown[][];
  errors: string[];
  jobs?: Record<string, unknown>[];
  enabled?: Record<string, boolean>;
}

export function makeSandbox(o: { truenas?: boolean; systemd?: boolean } = {}): Sandbox {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bp-schedule-'));
  const root = path.join(dir, 'root');
  const home = path.join(dir, 'home');
  const configDir = path.join(dir, 'config');
  mkdirSync(path.join(root, 'etc', 'cron.d'), { recursive: true });
  mkdirSync(home);
  if (o.truenas) {
    writeFileSync(path.join(root, 'etc', 'version'), '25.04.2');
    mkdirSync(path.join(root, 'data'));
    writeFileSync(
      path.join(root, 'data', 'manifest.json'),
      JSON.stringify({ version: '25.04.2', codename: 'Fangtooth', train: 'TrueNAS-SCALE-Fangtooth' }),
    );
  }
  if (o.systemd) mkdirSync(path.join(root, 'run', 'systemd', 'system'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: `${STUBS}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: '',
    BORG_PROVISION_SCHEDULE_ROOT: root,
    BORG_PROVISION_SELF: '',
    MIDCLT_STATE: path.join(dir, 'midclt.json'),
    SYSTEMCTL_STATE: path.join(dir, 'systemctl.json'),
    SYSTEMCTL_UNIT_DIR: path.join(root, 'etc', 'systemd', 'system'),
    SYSTEMCTL_USER_UNIT_DIR: path.join(home, '.config', 'systemd', 'user'),
    CRONTAB_STATE: path.join(dir, 'crontab.json'),
    CRONTAB_FILE: path.join(dir, 'crontab.txt'),
  };
  const sb: Sandbox = {
    dir,
    root,
    home,
    configDir,
    env,
    run: (args, extra) => runCli(args, { env: { ...env, ...extra } }),
    add: (job, when, extra) => sb.run(['schedule', 'add', job, ...when, '--config-dir', configDir], extra),
    addJob(name) {
      mkdirSync(path.join(configDir, 'backups', name), { recursive: true });
      writeFileSync(path.join(configDir, 'backups', name, 'config.yaml'), 'repository: /srv/repo\nsources: [/etc]\n');
    },
    state<T>(stub: string): T {
      const file = env[`${stub.toUpperCase()}_STATE`] as string;
      return (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { calls: [], errors: [] }) as T;
    },
    clearErrors(stub) {
      writeFileSync(env[`${stub.toUpperCase()}_STATE`] as string, JSON.stringify({ ...sb.state(stub), errors: [] }));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return sb;
}

/** Every file under a directory, relative, sorted (to show that nothing is left behind). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const r = spawnSync('find', [dir, '-mindepth', '1', '-not', '-type', 'd', '-printf', '%P\\n'], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}
