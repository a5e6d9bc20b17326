// What a schedule change does, as data: files to write or delete and commands to run, in order.
// Planning reads (files, `cronjob.query`, `crontab -l`) but changes nothing, so --dry-run prints
// exactly the plan that would be carried out. Carrying it out stops at the first failure and puts
// back the files it had already changed, so a failed change leaves what was there before.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { filesystemError } from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { runToolOk } from './tools';
import { makeDirs } from '../util/make-dirs';

export type Action =
  | { kind: 'write'; path: string; mode: number; content: string; previous: string | null }
  | { kind: 'delete'; path: string; previous: string }
  | { kind: 'run'; argv: string[]; input?: string };

/** A file's text, or null when it does not exist. */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw filesystemError(err, 'read', file, 'choose another place');
  }
}

/** A write when the content (or mode) differs from what is there; nothing when it is the same. */
export async function writeIfChanged(file: string, content: string, mode: number): Promise<Action[]> {
  const previous = await readIfExists(file);
  const st = previous === null ? null : await fs.stat(file);
  if (previous === content && st && (st.mode & 0o7777) === mode) return [];
  return [{ kind: 'write', path: file, mode, content, previous }];
}

export async function deleteIfExists(file: string): Promise<Action[]> {
  const previous = await readIfExists(file);
  return previous === null ? [] : [{ kind: 'delete', path: file, previous }];
}

async function undo(done: Action[]): Promise<void> {
  for (const a of [...done].reverse()) {
    if (a.kind === 'run') continue;
    if (a.kind === 'write' && a.previous === null) await fs.rm(a.path, { force: true }).catch(() => undefined);
    else await writeFileAtomic(a.path, a.previous ?? '', { mode: 0o644 }).catch(() => undefined);
  }
}

async function perform(a: Action, env: NodeJS.ProcessEnv): Promise<void> {
  if (a.kind === 'run') {
    await runToolOk(a.argv, { input: a.input, env });
    return;
  }
  try {
    if (a.kind === 'write') {
      await makeDirs(path.dirname(a.path));
      await writeFileAtomic(a.path, a.content, { mode: a.mode });
    } else {
      await fs.rm(a.path, { force: true });
    }
  } catch (err) {
    throw filesystemError(err, a.kind === 'write' ? 'write' : 'remove', a.path, 'choose another place');
  }
}

/** Carries out the actions in order; on a failure, restores the files already changed and rethrows. */
export async function applyActions(actions: Action[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const done: Action[] = [];
  for (const a of actions) {
    try {
      await perform(a, env);
    } catch (err) {
      await undo(done);
      throw err;
    }
    done.push(a);
  }
}
