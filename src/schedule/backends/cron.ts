// cron: for root a file /etc/cron.d/borg-provision-JOB (mode 0644, with SHELL, PATH and the user
// field); for anyone else a marked block in their crontab, read with `crontab -l` and written
// back whole with `crontab -`, replaced in place so the rest of the crontab is kept as it was.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { SchedulerUnavailableError, UsageError } from '../../errors';
import { userBinDir } from '../../util/xdg';
import { deleteIfExists, readIfExists, writeIfChanged, type Action } from '../actions';
import { cronCommand, shLine, splitRandomDelay, withRandomDelay } from '../command-line';
import type { Schedule } from '../model';
import type { Places } from '../places';
import { onPath, runTool, toolFailure } from '../tools';
import type { Backend, ScheduledEntry } from './types';

const fileName = (job: string): string => `borg-provision-${job}`;
const begin = (job: string): string =>
  `# BEGIN borg-provision ${job} (written by \`borg-provision schedule add\`; do not edit)`;
const end = (job: string): string => `# END borg-provision ${job}`;
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CRON_LINE = /^(\S+ \S+ \S+ \S+ \S+) (.*)$/;

function commandOf(schedule: Schedule, argv: string[]): string {
  return cronCommand(withRandomDelay(shLine(argv), schedule.randomDelaySec));
}

export function cronDFile(
  job: string,
  schedule: Schedule,
  argv: string[],
  user: string,
  env: NodeJS.ProcessEnv,
): string {
  return [
    `# Written by \`borg-provision schedule add ${job}\`; \`borg-provision schedule remove ${job}\` removes it.`,
    'SHELL=/bin/sh',
    // The wrapper `install` puts borg in (its default bin dir) comes first, as in a login shell.
    `PATH=${userBinDir(env)}:${SYSTEM_PATH}`,
    `${schedule.cron.text} ${user} ${commandOf(schedule, argv)}`,
    '',
  ].join('\n');
}

function entryFromLine(job: string, line: string, hasUser: boolean, where: string): ScheduledEntry | null {
  const m = CRON_LINE.exec(line);
  if (!m) return null;
  const rest = hasUser ? m[2].replace(/^\S+ /, '') : m[2];
  const split = splitRandomDelay(rest.replace(/\\%/g, '%'));
  return { job, via: 'cron', cron: m[1], randomDelaySec: split.seconds, enabled: true, command: rest, where };
}

/** The crontab with the job's block replaced (or appended, or taken out when `block` is null). */
export function replaceBlock(crontab: string, job: string, block: string[] | null): string {
  const lines = crontab === '' ? [] : crontab.replace(/\n$/, '').split('\n');
  const from = lines.indexOf(begin(job));
  const to = from < 0 ? -1 : lines.indexOf(end(job), from);
  const inner = block ? [begin(job), ...block, end(job)] : [];
  const kept = from < 0 || to < 0 ? [...lines, ...inner] : [...lines.slice(0, from), ...inner, ...lines.slice(to + 1)];
  return kept.length === 0 ? '' : `${kept.join('\n')}\n`;
}

export function blockLines(crontab: string, job: string): string[] | null {
  const lines = crontab.split('\n');
  const from = lines.indexOf(begin(job));
  const to = from < 0 ? -1 : lines.indexOf(end(job), from);
  return from < 0 || to < 0 ? null : lines.slice(from + 1, to);
}

export function cronBackend(places: Places): Backend {
  const asRoot = places.isRoot;

  async function readCrontab(): Promise<string> {
    const r = await runTool(['crontab', '-l'], { env: places.env });
    if (r.code === 0) return r.stdout;
    if (/no crontab for/i.test(r.stderr)) return '';
    throw toolFailure(['crontab', '-l'], r);
  }

  function userJobs(text: string): string[] {
    return text
      .split('\n')
      .map((l) => /^# BEGIN borg-provision (\S+) /.exec(l)?.[1])
      .filter((j): j is string => j !== undefined);
  }

  async function findOne(job: string, text?: string): Promise<ScheduledEntry | null> {
    if (asRoot) {
      const file = path.join(places.cronDir, fileName(job));
      const content = await readIfExists(file);
      const line = content?.split('\n').find((l) => CRON_LINE.test(l) && !l.startsWith('#') && !/^[A-Z_]+=/.test(l));
      return line ? entryFromLine(job, line, true, file) : null;
    }
    const block = blockLines(text ?? (await readCrontab()), job);
    return block && block[0] ? entryFromLine(job, block[0], false, 'crontab') : null;
  }

  return {
    via: 'cron',
    async assertAvailable() {
      if (asRoot && !existsSync(places.cronDir)) {
        throw new SchedulerUnavailableError(`${places.cronDir} does not exist: cron is not installed`, {
          hint: 'install cron (Debian: apt-get install cron), or use --via systemd',
        });
      }
      if (!asRoot && !(await onPath('crontab', places.env))) {
        throw new SchedulerUnavailableError('crontab is not on PATH: cron is not installed', {
          hint: 'install cron (Debian: apt-get install cron), or use --via systemd-user',
        });
      }
    },
    present: async () => (asRoot ? existsSync(places.cronDir) : onPath('crontab', places.env)),
    async find(job) {
      if (job !== undefined) return [await findOne(job)].filter((e): e is ScheduledEntry => e !== null);
      const text = asRoot ? undefined : await readCrontab();
      const names =
        text === undefined
          ? (await fs.readdir(places.cronDir).catch(() => [] as string[])).map(
              (n) => /^borg-provision-(.+)$/.exec(n)?.[1],
            )
          : userJobs(text);
      const jobs = names.filter((j): j is string => j !== undefined).sort();
      return (await Promise.all(jobs.map((j) => findOne(j, text)))).filter((e): e is ScheduledEntry => e !== null);
    },
    async planAdd(job, schedule, argv) {
      if (asRoot) {
        // cron reads only /etc/cron.d files named like run-parts wants: letters, digits, _ and -.
        if (job.includes('.')) {
          throw new UsageError(
            `cron ignores files in /etc/cron.d whose name has a dot: cannot schedule job '${job}' that way`,
            {
              hint: 'use --via systemd, or a job name without dots',
            },
          );
        }
        return writeIfChanged(
          path.join(places.cronDir, fileName(job)),
          cronDFile(job, schedule, argv, places.user, places.env),
          0o644,
        );
      }
      const before = await readCrontab();
      const after = replaceBlock(before, job, [`${schedule.cron.text} ${commandOf(schedule, argv)}`]);
      return after === before ? [] : [{ kind: 'run', argv: ['crontab', '-'], input: after }];
    },
    async planRemove(job) {
      if (asRoot) return deleteIfExists(path.join(places.cronDir, fileName(job)));
      const before = await readCrontab();
      if (blockLines(before, job) === null) return [];
      const after = replaceBlock(before, job, null);
      return [
        after.trim() === ''
          ? { kind: 'run', argv: ['crontab', '-r'] }
          : { kind: 'run', argv: ['crontab', '-'], input: after },
      ] as Action[];
    },
  };
}
