// Reading a job's file from one descriptor: opened without following a symlink and without
// blocking (a FIFO put in its place would otherwise hang the command, or feed it whatever its
// writer likes), checked with fstat of that very descriptor, then read from it. What is checked is
// what is read: nothing can be swapped in between.
import { constants, promises as fs, type Stats } from 'node:fs';
import { InsecureJobError } from '../errors';
import { shQuoteForDisplay as q } from '../util/text';

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** What a file that is not a regular one is, for a message. */
export function fileKind(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The refusal of a job file that is a link or no regular file; the hint never acts through a link. */
export function notRegularError(file: string, kind: string, what = ''): InsecureJobError {
  return new InsecureJobError(`${what}${file} is ${kind}, not a regular file of the job's own`, {
    // chmod or chown of a link would change what it points to (/etc/shadow, say): remove it instead.
    hint:
      kind === 'a symbolic link'
        ? `rm ${q(file)} (the link, not what it points to), then put the file itself there, mode 0600`
        : `move ${q(file)} away and put a regular file there, mode 0600`,
  });
}

/**
 * The text of `file`, read from the descriptor `inspect` has seen the fstat of. ENOENT and other
 * errors of open are the caller's to word; a symlink or anything but a regular file is refused.
 */
export async function readRegularFile(file: string, inspect: (st: Stats) => void = () => undefined): Promise<string> {
  const handle = await fs.open(file, FLAGS).catch((err: NodeJS.ErrnoException) => {
    // O_NOFOLLOW on a symlink: ELOOP on Linux, EMLINK on some BSDs.
    if (err.code === 'ELOOP' || err.code === 'EMLINK') throw notRegularError(file, 'a symbolic link');
    throw err;
  });
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegularError(file, fileKind(st));
    inspect(st);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}
