// The libc a command should judge: an explicit --libc file wins, else the one found in --root
// (or on the running machine).
import { findLibc } from './find-libc';
import { inspectLibc } from './libc';
import type { LibcFile } from './types';

export async function readTargetLibc(o: { libc?: string; root?: string }): Promise<LibcFile> {
  return inspectLibc(o.libc ?? (await findLibc(o.root)));
}
