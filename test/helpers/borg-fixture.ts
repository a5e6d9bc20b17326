// Builds borg-like builds at test time with the machine's own tools: a real ELF `borg.exe`
// compiled with `cc` that prints `borg.exe <version>` for -V and links a bundled `.so` from
// `_internal/` (like PyInstaller 6's one-dir layout), packed with GNU tar. Also a one-file variant
// and malicious archives (made with GNU tar, or with headers crafted by node-tar's Header when GNU
// tar cannot produce the entry).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Header } from 'tar';
import { requireTool } from './tools';

/**
 * ok; prints a wrong version; fails to start; takes 3 s to answer -V (to hold the install lock); or
 * hangs on -V ignoring SIGTERM, with a child that holds stdout open (a process group to kill).
 */
export type Behaviour = 'ok' | 'wrong-version' | 'fail' | 'slow' | 'hang';

// Uses libc (getenv@GLIBC_2.2.5) so the .so has a version need of its own to check.
const LIB_C = `
#include <stdlib.h>
const char *fixture_banner(void) { const char *b = getenv("FIXTURE_BANNER"); return b ? b : "borg.exe"; }
`;

// The version comes from -DBORG_VERSION; the behaviour from -DBEHAVIOUR (0 ok, 1 wrong, 2 fail, 3 slow).
// With -DONEFILE it also insists on an existing, writable TMPDIR, as a PyInstaller one-file
// binary needs one to unpack itself into.
const MAIN_C = `
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <signal.h>
const char *fixture_banner(void);
int main(int argc, char **argv) {
#ifdef ONEFILE
  const char *t = getenv("TMPDIR");
  if (!t || access(t, W_OK | X_OK) != 0) { fprintf(stderr, "[PYI] cannot use TMPDIR %s\\n", t ? t : "(unset)"); return 1; }
#endif
  if (argc > 1 && strcmp(argv[1], "-V") == 0) {
#if BEHAVIOUR == 3
    sleep(3);
#endif
#if BEHAVIOUR == 4
    signal(SIGTERM, SIG_IGN);
    fork(); /* parent and child both go on, both holding stdout */
    if (getenv("FIXTURE_PIDS")) { FILE *f = fopen(getenv("FIXTURE_PIDS"), "a"); if (f) { fprintf(f, "%d\\n", getpid()); fclose(f); } }
    for (;;) pause();
#endif
#if BEHAVIOUR == 2
    fprintf(stderr, "error while loading shared libraries: libz.so.1: failed to map segment\\n");
    return 1;
#elif BEHAVIOUR == 1
    printf("%s 0.0.1\\n", fixture_banner());
#else
    printf("%s %s\\n", fixture_banner(), BORG_VERSION);
#endif
    return 0;
  }
  for (int i = 1; i < argc; i++) printf("arg[%d]=%s\\n", i, argv[i]);
  return 0;
}
`;

export class BorgFixtures {
  readonly dir: string;
  constructor(dir?: string) {
    // Every fixture is a tarball made by tar around programs built by cc.
    requireTool('tar', 'tar');
    requireTool('cc', 'gcc');
    this.dir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'borg-fixture-'));
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private work(name: string): string {
    const d = path.join(this.dir, 'work', `${name}-${Math.random().toString(16).slice(2, 10)}`);
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  /** Creates `<parent>/borg-dir/` with borg.exe and `_internal/libfixture.so`; returns the borg-dir path. */
  borgDir(parent: string, version: string, behaviour: Behaviour = 'ok'): string {
    const dir = path.join(parent, 'borg-dir');
    const internal = path.join(dir, '_internal');
    fs.mkdirSync(internal, { recursive: true });
    const src = this.work('src');
    fs.writeFileSync(path.join(src, 'lib.c'), LIB_C);
    fs.writeFileSync(path.join(src, 'main.c'), MAIN_C);
    execFileSync('cc', [
      '-shared',
      '-fPIC',
      '-O1',
      '-o',
      path.join(internal, 'libfixture.so'),
      path.join(src, 'lib.c'),
    ]);
    execFileSync('cc', [
      '-O1',
      `-DBORG_VERSION="${version}"`,
      `-DBEHAVIOUR=${{ ok: 0, 'wrong-version': 1, fail: 2, slow: 3, hang: 4 }[behaviour]}`,
      '-o',
      path.join(dir, 'borg.exe'),
      path.join(src, 'main.c'),
      `-L${internal}`,
      '-lfixture',
      '-Wl,-rpath,$ORIGIN/_internal',
    ]);
    fs.writeFileSync(path.join(internal, 'base_library.zip'), 'not really python\n');
    return dir;
  }

  /** A borg-dir `.tgz` packed with GNU tar, as borg's release does (`tar -czf borg.tgz borg-dir`). */
  oneDirTgz(name: string, version: string, behaviour: Behaviour = 'ok', mutate?: (borgDir: string) => void): string {
    const parent = this.work('tree');
    const dir = this.borgDir(parent, version, behaviour);
    mutate?.(dir);
    const out = path.join(this.work('out'), name);
    execFileSync('tar', ['-czf', out, '-C', parent, 'borg-dir']);
    return out;
  }

  /** A one-file build: one ELF binary that needs TMPDIR (see MAIN_C). */
  oneFile(name: string, version: string): string {
    const src = this.work('src');
    fs.writeFileSync(path.join(src, 'main.c'), `${MAIN_C}\nconst char *fixture_banner(void) { return "borg.exe"; }\n`);
    const out = path.join(this.work('out'), name);
    execFileSync('cc', [
      '-O1',
      '-DONEFILE',
      `-DBORG_VERSION="${version}"`,
      '-DBEHAVIOUR=0',
      '-o',
      out,
      path.join(src, 'main.c'),
    ]);
    return out;
  }

  /** A `build --vagrant` artifact: borg-dir-<version>.tgz + its manifest (sha256 optionally wrong). */
  buildArtifact(version: string, o: { wrongSha?: boolean } = {}): string {
    const tgz = this.oneDirTgz(`borg-dir-${version}.tgz`, version);
    const sha = createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
    const manifest = {
      kind: 'borg-provision-build',
      borgVersion: version,
      artifact: path.basename(tgz),
      sha256: o.wrongSha ? sha.replace(/^./, (c) => (c === '0' ? '1' : '0')) : sha,
      debian: 'bookworm',
      arch: 'x86_64',
      glibc: '2.36',
      python: '3.11.9',
      pyinstaller: '6.7.0',
      builtAt: new Date().toISOString(),
    };
    fs.writeFileSync(tgz.replace(/\.tgz$/, '.manifest.json'), JSON.stringify(manifest, null, 2));
    return tgz;
  }

  /** One-dir tgz whose bundled .so needs GLIBC_2.99 (a version string patched in place). */
  needsGlibc299(name: string, version: string): string {
    return this.oneDirTgz(name, version, 'ok', (dir) => {
      const so = path.join(dir, '_internal', 'libfixture.so');
      patchVersionNeed(so);
    });
  }

  // ---- malicious archives -------------------------------------------------------------------

  /**
   * A good one-dir build plus one member `borg-dir/extra` stored under the name `as` (GNU tar's
   * --transform, with a long-name header when needed): names no filesystem here could hold.
   */
  extraMemberTgz(name: string, version: string, as: string): string {
    const parent = this.work('extra');
    const dir = this.borgDir(parent, version);
    fs.writeFileSync(path.join(dir, 'extra'), 'extra\n');
    const out = path.join(this.work('out'), name);
    const escaped = as.replace(/[\\|&]/g, (c) => `\\${c}`);
    execFileSync('tar', ['-czf', out, '-C', parent, '--transform', `s|^borg-dir/extra$|${escaped}|`, 'borg-dir']);
    return out;
  }

  /** GNU tar with -P keeps `../` in member names. */
  dotDotTgz(name: string): string {
    const root = this.work('dotdot');
    const inner = path.join(root, 'a', 'b');
    fs.mkdirSync(inner, { recursive: true });
    this.borgDir(inner, '1.0.0');
    fs.writeFileSync(path.join(root, 'a', 'evil'), 'pwned\n');
    const out = path.join(this.work('out'), name);
    execFileSync('tar', ['-P', '-czf', out, 'borg-dir', '../evil'], { cwd: inner });
    return out;
  }

  /** GNU tar with -P keeps absolute member names. */
  absoluteTgz(name: string, absTarget: string): string {
    const parent = this.work('abs');
    this.borgDir(parent, '1.0.0');
    fs.mkdirSync(path.dirname(absTarget), { recursive: true });
    fs.writeFileSync(absTarget, 'pwned\n');
    const out = path.join(this.work('out'), name);
    execFileSync('tar', ['-P', '-czf', out, '-C', parent, 'borg-dir', absTarget]);
    fs.rmSync(absTarget);
    return out;
  }

  /** A symlink pointing out of the archive (to `outside`), then a file written through it. */
  symlinkOutTgz(name: string, outside: string): string {
    const parent = this.work('symlink');
    const dir = this.borgDir(parent, '1.0.0');
    fs.symlinkSync(outside, path.join(dir, 'lnk'));
    const tarFile = path.join(this.work('out'), 'plain.tar');
    execFileSync('tar', ['-cf', tarFile, '-C', parent, 'borg-dir']);
    // Second member `borg-dir/lnk/pwned` comes from another tree, appended with GNU tar.
    const other = this.work('other');
    fs.mkdirSync(path.join(other, 'borg-dir', 'lnk'), { recursive: true });
    fs.writeFileSync(path.join(other, 'borg-dir', 'lnk', 'pwned'), 'pwned\n');
    execFileSync('tar', ['-rf', tarFile, '-C', other, 'borg-dir/lnk/pwned']);
    return this.gzipTo(tarFile, name);
  }

  /** An in-archive symlink `borg-dir/here -> .` then a member that writes through it. */
  symlinkThroughTgz(name: string): string {
    const parent = this.work('through');
    const dir = this.borgDir(parent, '1.0.0');
    fs.symlinkSync('.', path.join(dir, 'here'));
    const tarFile = path.join(this.work('out'), 'plain.tar');
    execFileSync('tar', ['-cf', tarFile, '-C', parent, 'borg-dir']);
    const other = this.work('other');
    fs.mkdirSync(path.join(other, 'borg-dir', 'here'), { recursive: true });
    fs.writeFileSync(path.join(other, 'borg-dir', 'here', 'x'), 'x\n');
    execFileSync('tar', ['-rf', tarFile, '-C', other, 'borg-dir/here/x']);
    return this.gzipTo(tarFile, name);
  }

  /** A device node made with mknod (we run as root) and packed with GNU tar. */
  deviceTgz(name: string): string {
    const parent = this.work('dev');
    const dir = this.borgDir(parent, '1.0.0');
    execFileSync('mknod', [path.join(dir, 'null'), 'c', '1', '3']);
    const out = path.join(this.work('out'), name);
    execFileSync('tar', ['-czf', out, '-C', parent, 'borg-dir']);
    return out;
  }

  /** A FIFO packed with GNU tar. */
  fifoTgz(name: string): string {
    const parent = this.work('fifo');
    const dir = this.borgDir(parent, '1.0.0');
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const out = path.join(this.work('out'), name);
    execFileSync('tar', ['-czf', out, '-C', parent, 'borg-dir']);
    return out;
  }

  /** Hard link whose target is outside the archive: crafted headers (GNU tar stores only real links). */
  hardlinkOutTgz(name: string, target: string): string {
    return this.crafted(name, [
      { path: 'borg-dir/', type: 'Directory' },
      { path: 'borg-dir/borg.exe', type: 'File', body: Buffer.from('#!/bin/sh\n') },
      { path: 'borg-dir/h', type: 'Link', linkpath: target },
    ]);
  }

  /** Writes a gzip'd tar from raw entries whose headers are encoded by node-tar's Header. */
  crafted(
    name: string,
    entries: { path: string; type: string; linkpath?: string; body?: Buffer; mode?: number }[],
  ): string {
    const blocks: Buffer[] = [];
    for (const e of entries) {
      const body = e.body ?? Buffer.alloc(0);
      const h = new Header({
        path: e.path,
        type: e.type as never,
        linkpath: e.linkpath,
        size: body.length,
        mode: e.mode ?? (e.type === 'Directory' ? 0o755 : 0o644),
        mtime: new Date(),
        uid: 0,
        gid: 0,
      });
      const block = Buffer.alloc(512);
      h.encode(block, 0);
      blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
    blocks.push(Buffer.alloc(1024));
    const out = path.join(this.work('out'), name);
    fs.writeFileSync(out, zlib.gzipSync(Buffer.concat(blocks)));
    return out;
  }

  private gzipTo(tarFile: string, name: string): string {
    const out = path.join(path.dirname(tarFile), name);
    fs.writeFileSync(out, zlib.gzipSync(fs.readFileSync(tarFile)));
    fs.rmSync(tarFile);
    return out;
  }
}

/** Rewrites every "GLIBC_2.2.5" in a file to "GLIBC_2.99" + NUL (same length), so it needs 2.99. */
export function patchVersionNeed(file: string): void {
  const buf = fs.readFileSync(file);
  const from = Buffer.from('GLIBC_2.2.5\0');
  const to = Buffer.from('GLIBC_2.99\0\0');
  let n = 0;
  for (let i = buf.indexOf(from); i >= 0; i = buf.indexOf(from, i + 1)) {
    to.copy(buf, i);
    n++;
  }
  if (n === 0) throw new Error(`${file} has no GLIBC_2.2.5 need to patch`);
  fs.writeFileSync(file, buf);
}

/** Every path under the roots with type, content hash and mode: a before/after snapshot for "nothing changed". */
export function snapshotTree(...roots: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    const kind = st.isDirectory()
      ? 'd'
      : st.isSymbolicLink()
        ? `l:${fs.readlinkSync(p)}`
        : st.isFile()
          ? `f:${createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 16)}`
          : 'o';
    out.push(`${p} ${kind} ${(st.mode & 0o7777).toString(8)}`);
    if (st.isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n));
  };
  roots.forEach(walk);
  return out;
}
