// Finding a root's libc the way its own loader would: the PT_INTERP of <root>/bin/sh names the
// dynamic loader; libc.so.6 sits beside it. If /bin/sh cannot tell (a script, missing, stripped),
// the usual multiarch and lib directories are searched, glibc before musl.
import { promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { BadInputError, ElfFormatError } from '../errors';
import { ALL_TRIPLETS, archOf } from './arch';
import { parseElf } from './elf-file';
import { isElfFileSync, readInputFile } from './read-file';
import { realRoot, resolveInRoot, targetView } from './root-path';

const MUSL_LOADER = /^ld-musl-[^/]+\.so\.1$/;
const NO_SHELL = { interpreter: null, triplets: ALL_TRIPLETS };

interface ShellFacts {
  interpreter: string | null;
  triplets: string[];
}

/** The host path of the target's libc (symlinks resolved inside root); BadInputError when none. */
export async function findLibc(root?: string): Promise<string> {
  const base = root === undefined ? '/' : await realRoot(root);
  const sh = await shellFacts(base);
  // A musl loader as /bin/sh's interpreter is the one answer; else the musl loaders in /lib come
  // last, listed only if no glibc was found (a glibc system need not list /lib).
  const interp = sh.interpreter;
  const found =
    interp !== null && MUSL_LOADER.test(path.posix.basename(interp))
      ? await firstPresent(base, [interp])
      : ((await firstPresent(base, await candidates(base, sh))) ?? (await firstPresent(base, await muslLoaders(base))));
  if (found) return found;
  const where = root === undefined ? 'on this machine' : `under --root ${root}`;
  throw new BadInputError(
    `no libc found ${where} (looked beside the loader of /bin/sh and in the usual lib directories); pass --libc with the target's libc.so.6`,
  );
}

/** The host path of the first of `targets` that is a regular file inside `base`, or null. */
async function firstPresent(base: string, targets: string[]): Promise<string | null> {
  for (const target of new Set(targets)) {
    const host = await resolveInRoot(base, target).catch(() => null); // a link loop is "not here"
    if (host && isRegularFile(host)) return host;
  }
  return null;
}

async function shellFacts(base: string): Promise<ShellFacts> {
  try {
    const sh = await resolveInRoot(base, '/bin/sh');
    if (!sh || !isElfFileSync(sh)) return NO_SHELL;
    const image = parseElf(await readInputFile(sh), sh);
    return { interpreter: image.interpreter, triplets: archOf(image.identity, image.header.flags).triplets };
  } catch (err) {
    // A broken /bin/sh (link loop, unreadable, corrupt ELF) is no reason to give up: the
    // directory search may still find libc.
    if (err instanceof ElfFormatError || err instanceof BadInputError) return NO_SHELL;
    throw err;
  }
}

/** glibc's paths to try, in order. */
async function candidates(base: string, sh: ShellFacts): Promise<string[]> {
  const list: string[] = [];
  const interp = sh.interpreter;
  if (interp) {
    const loader = await resolveInRoot(base, interp).catch(() => null);
    if (loader) list.push(path.posix.join(path.posix.dirname(targetView(base, loader)), 'libc.so.6'));
    list.push(path.posix.join(path.posix.dirname(interp), 'libc.so.6'));
  }
  for (const t of sh.triplets) list.push(`/lib/${t}/libc.so.6`, `/usr/lib/${t}/libc.so.6`);
  list.push('/lib64/libc.so.6', '/usr/lib64/libc.so.6', '/lib/libc.so.6', '/usr/lib/libc.so.6');
  return list;
}

async function muslLoaders(base: string): Promise<string[]> {
  const lib = await resolveInRoot(base, '/lib').catch(() => null);
  if (!lib) return [];
  try {
    return (await fs.readdir(lib))
      .filter((n) => MUSL_LOADER.test(n))
      .sort()
      .map((n) => `/lib/${n}`);
  } catch {
    return [];
  }
}

function isRegularFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
