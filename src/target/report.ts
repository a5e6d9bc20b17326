// detectTarget: the whole picture `borg-provision detect` shows. The libc is parsed while the
// system files, mounts and borg on PATH are read, all concurrently.
import { throwIfAborted } from '../errors';
import { borgOnPath, installPathReports, sudoReport } from './host';
import { readTargetLibc } from './resolve-target';
import { realRoot, targetView } from './root-path';
import { readSystem, systemFromLibc } from './system';
import type { ReportSource, TargetReport } from './types';

/**
 * `signal` stops the one slow part (`borg -V` of each borg on PATH) and throws InterruptedError.
 * `log` is told what was read and run (the CLI's --verbose).
 */
export async function detectTarget(o: {
  libc?: string;
  root?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}): Promise<TargetReport> {
  const root = o.root === undefined ? null : await realRoot(o.root);
  const running = !o.libc && !root;
  const [target, system, paths, sudo, borg] = await Promise.all([
    readTargetLibc({ libc: o.libc, root: root ?? undefined }),
    o.libc && !root ? null : readSystem(root ?? '/'),
    running ? installPathReports() : [],
    sudoReport(),
    running ? borgOnPath(process.env, o.signal) : [],
  ]);
  throwIfAborted(o.signal);
  o.log?.(`libc: ${target.libc.path}: ${target.libc.family} ${target.libc.release ?? '(no release)'}, ${target.arch}`);
  for (const b of borg) o.log?.(`borg on PATH: ${b.realPath} -V: ${b.version ?? '(no version)'}`);
  const source: ReportSource = {
    kind: running ? 'running' : root ? 'root' : 'libc',
    root,
    libcTargetPath: o.libc ? null : root ? targetView(root, target.libc.path) : target.libc.path,
    hostChecked: running,
  };
  return {
    ...target,
    system: system ?? systemFromLibc(target),
    paths,
    sudo,
    borg,
    source,
  };
}
