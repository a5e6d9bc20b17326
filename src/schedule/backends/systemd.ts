// systemd, for root (/etc/systemd/system, `systemctl`) or for a user (~/.config/systemd/user,
// `systemctl --user`): the units are written atomically, then daemon-reload and enable --now.
// Removing disables the timer first, then deletes both units and reloads.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { NotRunnableError, UsageError } from '../../errors';
import { deleteIfExists, readIfExists, writeIfChanged, type Action } from '../actions';
import { systemdCanStart } from '../command-line';
import { inRoot, type Places } from '../places';
import { runTool } from '../tools';
import { readExecStart, readTimer, serviceUnit, timerUnit, unitBase } from './systemd-units';
import type { Backend, ScheduledEntry } from './types';

/** systemd runs as PID 1 here (what sd_booted() checks). */
export function systemdBooted(places: Places): boolean {
  return existsSync(inRoot(places, '/run/systemd/system'));
}

export function systemdBackend(places: Places, user: boolean): Backend {
  const dir = user ? places.userUnitDir : places.systemUnitDir;
  const systemctl = (...args: string[]): string[] => ['systemctl', ...(user ? ['--user'] : []), ...args];
  const via = user ? 'systemd-user' : 'systemd';

  async function enabled(timer: string): Promise<boolean | null> {
    try {
      const r = await runTool(systemctl('is-enabled', timer), { env: places.env });
      return r.stdout.trim() === 'enabled';
    } catch {
      return null;
    }
  }

  async function entryOf(job: string): Promise<ScheduledEntry | null> {
    const timerFile = path.join(dir, `${unitBase(job)}.timer`);
    const timer = await readIfExists(timerFile);
    const read = timer === null ? null : readTimer(timer);
    if (!read) return null;
    const service = (await readIfExists(path.join(dir, `${unitBase(job)}.service`))) ?? '';
    return { job, via, ...read, enabled: null, command: readExecStart(service), where: timerFile };
  }

  async function ourJobs(): Promise<string[]> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    return names
      .map((n) => /^borg-provision-(.+)\.timer$/.exec(n)?.[1])
      .filter((j): j is string => j !== undefined)
      .sort();
  }

  return {
    via,
    async assertAvailable() {
      if (!user && !places.isRoot) {
        throw new UsageError('--via systemd writes system units and needs root', {
          hint: 'run as root, or use --via systemd-user',
        });
      }
    },
    present: async () => existsSync(dir),
    async find(job) {
      const jobs = job === undefined ? await ourJobs() : [job];
      const found = (await Promise.all(jobs.map(entryOf))).filter((e): e is ScheduledEntry => e !== null);
      if (job !== undefined) return found;
      // `list` says whether each is on; systemctl answers from the enable links even without a running manager.
      for (const e of found) e.enabled = await enabled(`${unitBase(e.job)}.timer`);
      return found;
    },
    async planAdd(job, schedule, argv) {
      if (!systemdCanStart(argv[0])) {
        throw new NotRunnableError(`systemd cannot start ${argv[0]}: its path holds a quote or a backslash`, {
          hint: 'move borg-provision to a plainer path, or use --via cron',
        });
      }
      const base = path.join(dir, unitBase(job));
      const writes = [
        ...(await writeIfChanged(`${base}.service`, serviceUnit(job, argv, user), 0o644)),
        ...(await writeIfChanged(`${base}.timer`, timerUnit(job, schedule), 0o644)),
      ];
      // enable --now is harmless when already on, and turns a timer back on that was disabled by hand.
      return [
        ...writes,
        ...(writes.length > 0 ? [run(systemctl('daemon-reload'))] : []),
        run(systemctl('enable', '--now', `${unitBase(job)}.timer`)),
      ];
    },
    async planRemove(job) {
      const base = path.join(dir, unitBase(job));
      const deletes = [...(await deleteIfExists(`${base}.timer`)), ...(await deleteIfExists(`${base}.service`))];
      if (deletes.length === 0) return [];
      // Persistent=true left the timer's last run in a stamp file; a job added again later would
      // otherwise start at once, making up for a run of the job that was removed.
      const stamps = user ? places.userTimerStamps : places.systemTimerStamps;
      return [
        run(systemctl('disable', '--now', `${unitBase(job)}.timer`)),
        ...deletes,
        ...(await deleteIfExists(path.join(stamps, `stamp-${unitBase(job)}.timer`))),
        run(systemctl('daemon-reload')),
      ];
    },
  };
}

const run = (argv: string[]): Action => ({ kind: 'run', argv });
