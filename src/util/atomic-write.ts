// Writing a small file so that readers see the old content or the new, never a mix or a torn
// file: write a temporary file beside it, fsync, rename over. A crash leaves at most a
// `.<name>.<pid>.<random>.tmp` beside the target, never a half-written target.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface AtomicWriteOptions {
  mode?: number;
}

export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  o: AtomicWriteOptions = {},
): Promise<void> {
  const mode = o.mode ?? 0o644;
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await fs.open(tmp, 'wx', mode);
    try {
      await handle.writeFile(content);
      // The umask may have narrowed the mode at creation; set exactly what was asked for.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Copies a (large) file into place the same way: nothing appears under `to` until it is whole. */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const tmp = path.join(path.dirname(to), `.${path.basename(to)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.copyFile(from, tmp);
    await fs.rename(tmp, to);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}
