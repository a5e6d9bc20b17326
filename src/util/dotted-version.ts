// Numeric comparison of dotted versions such as glibc's "2.2.5" < "2.17" < "2.36".
// String comparison gets these wrong ("2.2.5" > "2.17"), which is the classic glibc-check bug.

export function parseDotted(version: string): number[] | null {
  if (!/^\d+(\.\d+)*$/.test(version)) return null;
  return version.split('.').map(Number);
}

export function compareDotted(a: string, b: string): number {
  const pa = parseDotted(a);
  const pb = parseDotted(b);
  if (!pa || !pb) throw new TypeError(`not a dotted version: ${pa ? b : a}`);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function maxDotted(versions: readonly string[]): string | null {
  return versions.reduce<string | null>((m, v) => (m === null || compareDotted(v, m) > 0 ? v : m), null);
}

export function sortDotted(versions: readonly string[]): string[] {
  return [...versions].sort(compareDotted);
}
