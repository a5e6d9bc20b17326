// A job's failure as plain data for its run result (and --json), remembering the typed error it
// came from, so the run's exit can reuse that error's class without rebuilding it from its kind.
import type { ProvisionError } from '../errors';

export interface JobError {
  kind: string;
  exitCode: number;
  message: string;
  hint?: string;
}

const typed = new WeakMap<JobError, ProvisionError>();

export function jobError(err: ProvisionError): JobError {
  const e: JobError = {
    kind: err.kind,
    exitCode: err.exitCode,
    message: err.message,
    ...(err.hint ? { hint: err.hint } : {}),
  };
  typed.set(e, err);
  return e;
}

/** The typed error a JobError was made from (undefined for one read back from a state file). */
export function typedError(e: JobError): ProvisionError | undefined {
  return typed.get(e);
}
