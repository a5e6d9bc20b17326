// What an unpacked build must look like before we go on: borg's one-dir archive holds
// `borg-dir/borg.exe` (+ `_internal/` with PyInstaller 6); a one-file build is a single ELF binary.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveError, InterruptedError, filesystemError, isProvisionError } from '../errors';
import { changedAfterVerification } from './unpack';
import { ONEFILE_MARKER } from './store';

/** Checks `<staging>/borg-dir/borg.exe` and returns the `borg-dir` path. */
export async function checkOneDirLayout(staging: string, archiveName: string): Promise<string> {
  const dir = path.join(staging, 'borg-dir');
  const exe = path.join(dir, 'borg.exe');
  const st = await fs.lstat(exe).catch(() => null);
  if (!st || !st.isFile()) {
    const top = (await fs.readdir(staging).catch(() => [])).slice(0, 5).join(', ') || 'nothing';
    throw new ArchiveError(
      `${archiveName} is not a borg one-dir build: borg-dir/borg.exe is missing (it holds ${top}); choose the borg-linux-*.tgz asset`,
    );
  }
  const dst = await fs.lstat(dir);
  if (!dst.isDirectory()) throw new ArchiveError(`${archiveName}: borg-dir is not a directory`);
  await fs.chmod(exe, (st.mode & 0o777) | 0o755);
  return dir;
}

/**
 * Copies a one-file binary into `<staging>/borg-dir/borg.exe` and marks it one-file for the wrapper.
 * The copy is hashed as it is written and must be exactly the verified bytes (`expectSha256`),
 * like an unpacked archive (see UnpackOptions.expectSha256).
 */
export async function stageOneFile(
  binary: string,
  staging: string,
  expectSha256: string,
  signal?: AbortSignal,
): Promise<string> {
  const dir = path.join(staging, 'borg-dir');
  const exe = path.join(dir, 'borg.exe');
  const hash = createHash('sha256');
  try {
    await fs.mkdir(dir, { mode: 0o755 });
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(createReadStream(binary), tap, createWriteStream(exe, { flags: 'wx', mode: 0o755 }), { signal });
  } catch (err) {
    if (signal?.aborted) throw new InterruptedError();
    throw isProvisionError(err) ? err : filesystemError(err, 'copy the build into', dir);
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== expectSha256) throw changedAfterVerification(binary, sha256, expectSha256);
  try {
    await fs.chmod(exe, 0o755);
    await fs.writeFile(path.join(dir, ONEFILE_MARKER), 'PyInstaller one-file build: the wrapper sets TMPDIR\n');
  } catch (err) {
    throw filesystemError(err, 'copy the build into', dir);
  }
  return dir;
}
