// TrueNAS: a Cron Job in the middleware's configuration database (survives upgrades, unlike
// anything written to /etc), through `midclt call cronjob.*`. The description
// "borg-provision: JOB" is how ours are found again. The payload follows the middleware's model
// (api/v25_04_0/cronjob.py): strict types, no unknown fields; stdout true and stderr false mean
// "hide stdout", so only errors reach the admin's mail.
import { SchedulerError, SchedulerUnavailableError } from '../../errors';
import type { Action } from '../actions';
import { shLine, splitRandomDelay, withRandomDelay } from '../command-line';
import type { Schedule } from '../model';
import { readSystem } from '../../target';
import type { Places } from '../places';
import { onPath, runToolOk } from '../tools';
import type { Backend, ScheduledEntry } from './types';

const PREFIX = 'borg-provision: ';

interface CronJobRecord {
  id: number;
  enabled: boolean;
  stderr: boolean;
  stdout: boolean;
  schedule: { minute: string; hour: string; dom: string; month: string; dow: string };
  command: string;
  description: string;
  user: string;
}

type CronJobPayload = Omit<CronJobRecord, 'id'>;

const trueNasOf = new WeakMap<Places, Promise<boolean>>();

/**
 * TrueNAS exactly as `detect` tells it (the target stage reads its version file and manifest), so
 * that the two never disagree: a box `detect` calls TrueNAS is never given a schedule in /etc
 * silently, which its next upgrade would drop.
 */
export function isTrueNas(places: Places): Promise<boolean> {
  // Read once per command: the default --via, the backend's checks and the upgrade warning all ask.
  let known = trueNasOf.get(places);
  if (!known) {
    known = readSystem(places.root).then((s) => s.truenas !== null);
    trueNasOf.set(places, known);
  }
  return known;
}

export function payloadFor(job: string, schedule: Schedule, argv: string[], user: string): CronJobPayload {
  const f = schedule.cron.fields;
  return {
    command: withRandomDelay(shLine(argv), schedule.randomDelaySec),
    user,
    schedule: { minute: f.minute, hour: f.hour, dom: f.dom, month: f.month, dow: f.dow },
    description: `${PREFIX}${job}`,
    enabled: true,
    stdout: true,
    stderr: false,
  };
}

function sameJob(r: CronJobRecord, p: CronJobPayload): boolean {
  const keys: (keyof CronJobPayload)[] = ['command', 'user', 'description', 'enabled', 'stdout', 'stderr'];
  return keys.every((k) => r[k] === p[k]) && JSON.stringify(r.schedule) === JSON.stringify(p.schedule);
}

const midclt = (method: string, ...args: string[]): string[] => ['midclt', 'call', method, ...args];

export function trueNasBackend(places: Places): Backend {
  async function query(filter: [string, string, string]): Promise<CronJobRecord[]> {
    const r = await runToolOk(midclt('cronjob.query', JSON.stringify([filter])), { env: places.env });
    try {
      const parsed = JSON.parse(r.stdout) as CronJobRecord[];
      if (!Array.isArray(parsed)) throw new Error('not a list');
      return parsed;
    } catch {
      throw new SchedulerError(
        `midclt call cronjob.query answered something that is not a list of cron jobs: ${r.stdout.slice(0, 80)}`,
      );
    }
  }

  const entry = (r: CronJobRecord): ScheduledEntry => {
    const s = r.schedule;
    const split = splitRandomDelay(r.command);
    return {
      job: r.description.slice(PREFIX.length),
      via: 'truenas',
      cron: [s.minute, s.hour, s.dom, s.month, s.dow].join(' '),
      randomDelaySec: split.seconds,
      enabled: r.enabled,
      command: r.command,
      where: `cronjob id ${r.id}`,
    };
  };

  return {
    via: 'truenas',
    async assertAvailable() {
      if (!(await isTrueNas(places))) {
        throw new SchedulerUnavailableError(
          'this machine is not TrueNAS (no version in /etc/version or /data/manifest.json)',
          {
            hint: 'run on the TrueNAS box itself, or choose --via systemd, systemd-user or cron',
          },
        );
      }
      if (!(await onPath('midclt', places.env))) {
        throw new SchedulerUnavailableError('this is TrueNAS but midclt is not on PATH', {
          hint: 'run as root in a shell of the TrueNAS box, where PATH includes /usr/bin',
        });
      }
    },
    // On TrueNAS the middleware is always looked at (list, remove, the one-scheduler rule): without
    // midclt that fails with exit 3 rather than report a Cron Job it cannot see as absent.
    present: () => isTrueNas(places),
    async find(job) {
      const records =
        job === undefined
          ? await query(['description', '^', PREFIX])
          : await query(['description', '=', `${PREFIX}${job}`]);
      return records.filter((r) => r.description.startsWith(PREFIX)).map(entry);
    },
    async planAdd(job, schedule, argv) {
      const payload = payloadFor(job, schedule, argv, places.user);
      const [first, ...extra] = await query(['description', '=', payload.description]);
      const actions: Action[] = [];
      if (!first) {
        actions.push({ kind: 'run', argv: midclt('cronjob.create', JSON.stringify(payload)) });
      } else if (!sameJob(first, payload)) {
        actions.push({ kind: 'run', argv: midclt('cronjob.update', String(first.id), JSON.stringify(payload)) });
      }
      // Duplicates (made by hand in the UI): one job, one cron job.
      for (const r of extra) actions.push({ kind: 'run', argv: midclt('cronjob.delete', String(r.id)) });
      return actions;
    },
    async planRemove(job) {
      const records = await query(['description', '=', `${PREFIX}${job}`]);
      return records.map((r) => ({ kind: 'run', argv: midclt('cronjob.delete', String(r.id)) }) as Action);
    },
  };
}
