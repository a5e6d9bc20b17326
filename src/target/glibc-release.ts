// The release glibc embeds in libc.so.6, e.g.
//   "GNU C Library (Debian GLIBC 2.31-13+deb11u11) stable release version 2.31."
//   "GNU C Library (GNU libc) stable release version 2.17, by Roland McGrath et al."
// The release, not the highest symbol version, is what compatibility is judged by.

export interface GlibcRelease {
  release: string;
  /** The vendor build in the parentheses; null for upstream's plain "GNU libc". */
  build: string | null;
}

const MARKER = 'GNU C Library';
const PATTERN = /^GNU C Library(?: \(([^)\n]{1,120})\))? (?:[a-z]+ )?release version (\d+\.\d+(?:\.\d+)*)/;

/** Searches the bytes already in memory; returns null when libc embeds no release string. */
export function findGlibcRelease(buf: Buffer): GlibcRelease | null {
  for (let at = buf.indexOf(MARKER); at >= 0; at = buf.indexOf(MARKER, at + 1)) {
    const end = buf.indexOf(0, at);
    const text = buf.toString('latin1', at, Math.min(end < 0 ? buf.length : end, at + 256));
    const m = PATTERN.exec(text);
    if (!m) continue;
    const build = m[1] && m[1] !== 'GNU libc' ? m[1] : null;
    return { release: m[2], build };
  }
  return null;
}
