// What every scheduler backend offers the schedule stage.
import type { Action } from '../actions';
import type { Schedule } from '../model';

export const VIAS = ['truenas', 'systemd', 'systemd-user', 'cron'] as const;
export type Via = (typeof VIAS)[number];

/** One job as a backend has it scheduled. */
export interface ScheduledEntry {
  job: string;
  via: Via;
  /** The five cron fields, as the backend holds them. */
  cron: string;
  randomDelaySec: number;
  /** null when it cannot be told (systemctl missing). */
  enabled: boolean | null;
  /** The command line as the backend holds it. */
  command: string;
  /** Where it lives: a file, or the middleware's cron job id. */
  where: string;
}

export interface Backend {
  via: Via;
  /** Throws SchedulerUnavailableError (exit 3) when this machine has no such scheduler. */
  assertAvailable(): Promise<void>;
  /** Whether it is there to be looked at (list and remove look in every one that is). */
  present(): Promise<boolean>;
  /** What is scheduled, for one job or (no job) for all of ours. */
  find(job?: string): Promise<ScheduledEntry[]>;
  planAdd(job: string, schedule: Schedule, argv: string[]): Promise<Action[]>;
  planRemove(job: string): Promise<Action[]>;
}
