// The schedule stage's operations: plan what `add` and `remove` would change (nothing is changed
// by planning), carry a plan out, and list what is scheduled. Commands print; this decides.
import { existsSync } from 'node:fs';
import { assertJobName, backupsDir, jobExists } from '../backup';
import { UsageError } from '../errors';
import { applyActions, type Action } from './actions';
import type { ScheduledEntry, Via } from './backends/types';
import { isTrueNas } from './backends/truenas';
import { assertRunnable, backupRunArgv, selfInvocation, shLine } from './command-line';
import { describeCron, describeDelay, nextRuns, scheduleFrom, type ScheduleInput } from './model';
import { inRoot, placesFrom, type Places } from './places';
import { backendFor, defaultVia, presentBackends } from './via';

export interface ScheduleOptions {
  configDir?: string;
  via?: Via;
  env?: NodeJS.ProcessEnv;
}

export interface When {
  cron: string;
  /** "daily 02:30", "weekly Sun 03:30", "hourly" or "cron M H DOM MON DOW". */
  description: string;
  /** "10m", or "" for none. */
  randomDelay: string;
  /** The next start (ISO 8601), before any random delay; null when there is none. */
  nextRun: string | null;
}

export interface Plan {
  job: string;
  via: Via;
  when?: When;
  /** The scheduled command line (add). */
  command?: string;
  actions: Action[];
  /** Things the user should know (a schedule TrueNAS would lose on its next upgrade). */
  warnings: string[];
}

function whenOf(cron: string, randomDelaySec: number): When {
  let nextRun: string | null = null;
  try {
    nextRun = nextRuns(cron, 1)[0]?.toISOString() ?? null;
  } catch {
    nextRun = null; // a cron job made by hand with syntax croner does not read
  }
  return { cron, description: describeCron(cron), randomDelay: describeDelay(randomDelaySec), nextRun };
}

/** Whether systemd keeps this user's manager running without a login (loginctl enable-linger). */
function lingers(places: Places): boolean {
  return existsSync(inRoot(places, `/var/lib/systemd/linger/${places.user}`));
}

function context(o: ScheduleOptions): Places {
  return placesFrom(o.env ?? process.env);
}

/**
 * What `schedule add` would change; throws for an unknown job, a bad schedule, a missing scheduler
 * or a command that could not start.
 */
export async function planAdd(job: string, input: ScheduleInput, o: ScheduleOptions = {}): Promise<Plan> {
  const places = context(o);
  if (!jobExists(job, o.configDir)) {
    throw new UsageError(`no backup job '${job}' in ${backupsDir(o.configDir)}`, {
      hint: `create it first (borg-provision backup init ${job} ...), or give the --config-dir it lives in`,
    });
  }
  const schedule = scheduleFrom(input);
  const via = o.via ?? (await defaultVia(places));
  const backend = backendFor(via, places);
  await backend.assertAvailable();
  const self = selfInvocation({ env: places.env });
  const argv = backupRunArgv(self, job, o.configDir);
  await assertRunnable(argv, self);
  // One job runs one way: a second scheduler would run every backup twice.
  for (const other of await presentBackends(places)) {
    if (other.via === via) continue;
    if ((await other.find(job)).length > 0) {
      throw new UsageError(`job '${job}' is already scheduled via ${other.via}`, {
        hint: `remove that first: borg-provision schedule remove ${job} --via ${other.via}`,
      });
    }
  }
  const actions = await backend.planAdd(job, schedule, argv);
  const warnings: string[] = [];
  if (via !== 'truenas' && (await isTrueNas(places))) {
    warnings.push(`on TrueNAS an upgrade rebuilds /etc and drops this ${via} schedule: --via truenas keeps it`);
  }
  if (via === 'systemd-user' && !lingers(places)) {
    warnings.push(
      `a user's timers run only while ${places.user} is logged in: \`loginctl enable-linger ${places.user}\` (as root) lets them run at any time`,
    );
  }
  const when = whenOf(schedule.cron.text, schedule.randomDelaySec);
  return { job, via, when, command: shLine(argv), actions, warnings };
}

/** What `schedule remove` would change: the job taken out of every scheduler that has it (or of --via only). */
export async function planRemove(job: string, o: ScheduleOptions = {}): Promise<Plan[]> {
  const places = context(o);
  assertJobName(job); // the job itself may be gone already
  const backends = o.via ? [backendFor(o.via, places)] : await presentBackends(places);
  if (o.via) await backends[0].assertAvailable();
  const plans: Plan[] = [];
  for (const b of backends) {
    const actions = await b.planRemove(job);
    if (actions.length > 0) plans.push({ job, via: b.via, actions, warnings: [] });
  }
  return plans;
}

export async function applyPlan(plan: Plan, o: ScheduleOptions = {}): Promise<void> {
  await applyActions(plan.actions, context(o).env);
}

export interface ListedSchedule extends Omit<ScheduledEntry, 'cron' | 'randomDelaySec'> {
  when: When;
}

export async function listSchedules(o: ScheduleOptions = {}): Promise<ListedSchedule[]> {
  const places = context(o);
  const backends = o.via ? [backendFor(o.via, places)] : await presentBackends(places);
  if (o.via) await backends[0].assertAvailable();
  const out: ListedSchedule[] = [];
  for (const b of backends) {
    for (const { cron, randomDelaySec, ...rest } of await b.find()) {
      out.push({ ...rest, when: whenOf(cron, randomDelaySec) });
    }
  }
  return out.sort((a, b) => a.job.localeCompare(b.job) || a.via.localeCompare(b.via));
}
