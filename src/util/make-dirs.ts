// `mkdir -p` one level at a time. WHY not fs.mkdir's { recursive: true }: on Node 20 it never
// returns for a path under a parent that exists but refuses new entries with ENOENT (/proc/sys/x:
// a user's typo in --bin-dir hung the command, deaf to SIGTERM). Same result otherwise: the first
// directory created, or undefined when it existed already.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function makeDirs(dir: string, mode?: number): Promise<string | undefined> {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let cur = target; ; cur = path.dirname(cur)) {
    const st = await fs.stat(cur).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st) {
      if (!st.isDirectory())
        throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${cur}'`), { code: 'ENOTDIR', path: cur });
      break;
    }
    missing.unshift(cur);
    if (path.dirname(cur) === cur) break;
  }
  for (const d of missing) {
    await fs.mkdir(d, mode === undefined ? undefined : { mode }).catch((err: NodeJS.ErrnoException) => {
      // Made by someone else meanwhile is as good as made by us.
      if (err.code !== 'EEXIST') throw err;
    });
  }
  return missing[0];
}
