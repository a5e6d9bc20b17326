// Facts about the running machine and the person running us: the sudo context, the paths an
// install could use and whether they can hold executables, and any borg already on PATH.
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dataHome } from '../util/xdg';
import { pathReport, readMountInfo } from './mounts';
import type { BorgOnPath, PathReport, SudoReport } from './types';

const BORG_VERSION_TIMEOUT_MS = 3000;

export function homeDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || os.homedir();
}

/** The default install prefix: $XDG_DATA_HOME/borg-provision, else ~/.local/share/borg-provision. */
export const defaultPrefix = (env: NodeJS.ProcessEnv = process.env): string => dataHome(env);

/** /tmp (PyInstaller one-file builds unpack there), $HOME, /root and the default prefix. */
export async function installPathReports(env: NodeJS.ProcessEnv = process.env): Promise<PathReport[]> {
  const mounts = await readMountInfo();
  const paths = [...new Set(['/tmp', homeDir(env), '/root', defaultPrefix(env)])];
  return Promise.all(paths.map((p) => pathReport(p, mounts)));
}

export async function sudoReport(env: NodeJS.ProcessEnv = process.env): Promise<SudoReport> {
  const uid = process.getuid?.() ?? -1;
  const runUserDir = `/run/user/${uid}`;
  const runUserDirExists = await fs.stat(runUserDir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return { sudoUser: env.SUDO_USER || null, uid, runUserDir, runUserDirExists };
}

/**
 * Every `borg` on PATH (absolute entries only: never ./borg), once per real file: under usrmerge
 * /bin/borg and /usr/bin/borg are one program, listed (and run with -V) once, at the first PATH
 * entry that reaches it, with the others in `alsoAt`.
 */
export async function borgOnPath(env: NodeJS.ProcessEnv = process.env, signal?: AbortSignal): Promise<BorgOnPath[]> {
  const dirs = [...new Set((env.PATH ?? '').split(':').filter((d) => path.isAbsolute(d)))];
  const found = await Promise.all(dirs.map((dir) => executableRealPath(path.join(dir, 'borg'))));
  const byReal = new Map<string, { path: string; realPath: string; alsoAt: string[] }>();
  dirs.forEach((dir, i) => {
    const real = found[i];
    if (real === null) return;
    const file = path.join(dir, 'borg');
    const seen = byReal.get(real);
    if (seen) seen.alsoAt.push(file);
    else byReal.set(real, { path: file, realPath: real, alsoAt: [] });
  });
  return Promise.all([...byReal.values()].map(async (b) => ({ ...b, version: await borgVersion(b.path, signal) })));
}

/** The real path of an executable regular file, or null. */
async function executableRealPath(file: string): Promise<string | null> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return null;
    await fs.access(file, constants.X_OK);
    return await fs.realpath(file);
  } catch {
    return null;
  }
}

function borgVersion(file: string, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      file,
      ['-V'],
      { timeout: BORG_VERSION_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, encoding: 'utf8', signal },
      (err, stdout) => {
        // "borg 1.4.5" or "borg.exe 1.4.5": the version is the last word of the first line.
        const word = err ? undefined : stdout.split('\n')[0].trim().split(/\s+/).pop();
        resolve(word && /^\d+\.\d+/.test(word) ? word : null);
      },
    );
  });
}
