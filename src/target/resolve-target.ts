// The libc a command should judge: an explicit --libc file wins, else the one found in --root
// (or on the running machine).
import { findLibc } from './find-libc';
import { inspectLibc } from './libc';
import type { LibcTarget } from './types';

export async function resolveLibcTarget(o: { libc?: string; root?: string }): Promise<LibcTarget> {
  return inspectLibc(o.libc ?? (await findLibc(o.root)));
}
