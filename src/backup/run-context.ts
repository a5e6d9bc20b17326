// What every action of a run shares: the job, its borg and environment, the log, the signal.
import type { JobConfig } from './job-config';
import type { RunLog } from './run-log';

export interface RunContext {
  job: JobConfig;
  borg: string;
  env: NodeJS.ProcessEnv;
  log: RunLog;
  signal?: AbortSignal;
  /** A short progress line (shown on a TTY only, by the command). */
  progress: (line: string) => void;
}

export type StepStatus = 'ok' | 'warning' | 'skipped' | 'failed';

export interface StepOutcome {
  step: string;
  status: StepStatus;
  tries: number;
  /** Why a try was repeated, one entry per failed try. */
  retried: string[];
  warnings: string[];
  detail?: Record<string, unknown>;
}
