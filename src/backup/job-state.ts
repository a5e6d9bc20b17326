// A job's state under $XDG_STATE_HOME/borg-provision/state/<key>.json (key: job-paths' stateKey):
// the last run (result, times, archive), the last success, and when each check last passed (for
// `frequency`).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { filesystemError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { stateHome } from '../util/xdg';
import type { CheckName } from './job-config';
import { makeDirs } from '../util/make-dirs';

export type RunResultKind = 'success' | 'warning' | 'failed' | 'interrupted';

export interface LastRun {
  result: RunResultKind;
  startedAt: string;
  finishedAt: string;
  archive: string | null;
  error: string | null;
  log: string;
}

export interface JobState {
  lastRun: LastRun | null;
  lastSuccess: string | null;
  checks: Partial<Record<CheckName, string>>;
}

export function stateFile(key: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(stateHome(env), 'state', `${key}.json`);
}

export async function readState(key: string, env: NodeJS.ProcessEnv = process.env): Promise<JobState> {
  const file = stateFile(key, env);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw filesystemError(err, 'read', file);
  });
  if (text === null) return { lastRun: null, lastSuccess: null, checks: {} };
  try {
    const s = JSON.parse(text) as Partial<JobState>;
    return { lastRun: s.lastRun ?? null, lastSuccess: s.lastSuccess ?? null, checks: s.checks ?? {} };
  } catch {
    // A torn or hand-edited state only loses history; the next run writes a good one.
    return { lastRun: null, lastSuccess: null, checks: {} };
  }
}

export async function writeState(key: string, state: JobState, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const file = stateFile(key, env);
  try {
    await makeDirs(path.dirname(file), 0o700);
    await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  } catch (err) {
    throw filesystemError(err, 'write the job state', file, 'set XDG_STATE_HOME to a writable place');
  }
}
