// When a job runs: one of --daily HH:MM, --hourly, --weekly DAY HH:MM or --cron "M H DOM MON DOW",
// plus an optional random delay. Every form becomes one checked cron expression; each backend
// converts that (to the middleware's schedule, a systemd calendar, a cron line).
import { Cron } from 'croner';
import { UsageError } from '../errors';
import { parseCronExpression, type CronExpression } from './cron-fields';

export interface ScheduleInput {
  daily?: string;
  hourly?: boolean;
  /** "DAY HH:MM" (one string, or the two words). */
  weekly?: string | string[];
  cron?: string;
  /** "10m", "1h", "90s", "0". */
  randomDelay?: string;
}

export interface Schedule {
  cron: CronExpression;
  /** Longest random delay before a run starts, in seconds (0: none). */
  randomDelaySec: number;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FORMS = '--daily HH:MM, --hourly, --weekly DAY HH:MM or --cron "M H DOM MON DOW"';
const MAX_DELAY_SEC = 24 * 3600;

function parseClock(flag: string, text: string): { hour: number; minute: number } {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const hour = m ? Number(m[1]) : NaN;
  const minute = m ? Number(m[2]) : NaN;
  if (!m || hour > 23 || minute > 59) {
    throw new UsageError(`bad time '${text}' for ${flag}`, { hint: 'give a 24-hour time HH:MM, from 00:00 to 23:59' });
  }
  return { hour, minute };
}

const DAY_FULL = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function parseDay(text: string): number {
  const lower = text.toLowerCase();
  const i = DAYS.includes(lower) ? DAYS.indexOf(lower) : DAY_FULL.indexOf(lower);
  if (i < 0) {
    throw new UsageError(`bad day '${text}' for --weekly`, {
      hint: 'give mon, tue, wed, thu, fri, sat or sun (or the full name)',
    });
  }
  return i;
}

export function parseRandomDelay(text: string | undefined): number {
  if (text === undefined) return 0;
  const m = /^(\d{1,6})([smh]?)$/.exec(text.trim());
  const sec = m ? Number(m[1]) * ({ s: 1, m: 60, h: 3600 }[m[2] || 's'] ?? 1) : NaN;
  if (!m || (m[1] !== '0' && m[2] === '') || sec > MAX_DELAY_SEC) {
    throw new UsageError(`bad --random-delay '${text}'`, {
      hint: 'give a duration up to 24h with its unit, e.g. 10m, 90s or 1h',
    });
  }
  return sec;
}

function weeklyWords(weekly: string | string[]): string[] {
  return (Array.isArray(weekly) ? weekly : [weekly]).flatMap((w) => w.trim().split(/\s+/)).filter((w) => w !== '');
}

function cronTextOf(input: ScheduleInput): string {
  const given = [
    input.daily !== undefined,
    input.hourly === true,
    input.weekly !== undefined,
    input.cron !== undefined,
  ];
  const count = given.filter(Boolean).length;
  if (count !== 1) {
    throw new UsageError(count === 0 ? 'no schedule given' : 'more than one schedule given', {
      hint: `give exactly one of ${FORMS}`,
    });
  }
  if (input.daily !== undefined) {
    const t = parseClock('--daily', input.daily);
    return `${t.minute} ${t.hour} * * *`;
  }
  if (input.hourly) return '0 * * * *';
  if (input.weekly !== undefined) {
    const words = weeklyWords(input.weekly);
    if (words.length !== 2) {
      throw new UsageError(`bad --weekly '${words.join(' ')}'`, {
        hint: 'give a day and a time, e.g. --weekly sun 03:30',
      });
    }
    const day = parseDay(words[0]);
    const t = parseClock('--weekly', words[1]);
    return `${t.minute} ${t.hour} * * ${day}`;
  }
  return input.cron as string;
}

/** The schedule the flags describe; UsageError (exit 2) when they describe none or a bad one. */
export function scheduleFrom(input: ScheduleInput): Schedule {
  return { cron: parseCronExpression(cronTextOf(input)), randomDelaySec: parseRandomDelay(input.randomDelay) };
}

/** The next start times of a cron expression (local time), from croner; random delays not included. */
export function nextRuns(cronText: string, count = 1, from: Date = new Date()): Date[] {
  const job = new Cron(cronText, { mode: '5-part', paused: true });
  try {
    return job.nextRuns(count, from);
  } finally {
    job.stop();
  }
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const pad2 = (n: string): string => n.padStart(2, '0');

/** How a schedule reads to people: "daily 02:30", "hourly", "weekly Sun 03:30", else the cron text. */
export function describeCron(text: string): string {
  const [minute, hour, dom, month, dow] = text.split(' ');
  const single = (s: string): boolean => /^\d+$/.test(s);
  if (minute === '0' && hour === '*' && dom === '*' && month === '*' && dow === '*') return 'hourly';
  if (!single(minute) || !single(hour) || dom !== '*' || month !== '*') return `cron ${text}`;
  const clock = `${pad2(hour)}:${pad2(minute)}`;
  if (dow === '*') return `daily ${clock}`;
  if (single(dow)) return `weekly ${DAY_NAMES[Number(dow) % 7]} ${clock}`;
  return `cron ${text}`;
}

export function describeDelay(sec: number): string {
  if (sec === 0) return '';
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}m`;
  return `${sec}s`;
}
