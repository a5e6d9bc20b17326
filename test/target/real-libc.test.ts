// The machine's own libc and binaries, checked against binutils' readelf and glibc's ldd.
import { execFileSync } from 'node:child_process';
import { findLibc, inspectLibc, readElfNeeds } from '../../src/target';
import { sortDotted } from '../../src/util/dotted-version';

function readelfV(file: string): string {
  return execFileSync('readelf', ['-V', '-W', file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, LC_ALL: 'C' },
  });
}

/** The block of readelf -V output for one section, e.g. '.gnu.version_d'. */
function block(out: string, section: string): string[] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.includes(`section '${section}'`));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && /^\S/.test(l) && l.includes('section'));
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

test("the versions detect reports equal readelf -V for the machine's libc", async () => {
  const libc = await findLibc();
  const expected = sortDotted([
    ...new Set(
      block(readelfV(libc), '.gnu.version_d')
        .filter((l) => /Rev: \d+/.test(l) && !/Flags: BASE/.test(l))
        .map((l) => /Name: (\S+)/.exec(l)?.[1] ?? '')
        .map((n) => /^GLIBC_(\d+(?:\.\d+)+)$/.exec(n)?.[1])
        .filter((v): v is string => v !== undefined),
    ),
  ]);
  const t = await inspectLibc(libc);
  expect(expected.length).toBeGreaterThan(20);
  expect(t.libc.versions).toEqual(expected);
  expect(t.libc.maxSymbolVersion).toBe(expected[expected.length - 1]);
});

test('the release and vendor build equal what ldd --version prints', async () => {
  // e.g. "ldd (Debian GLIBC 2.36-9+deb12u14) 2.36"
  const first = execFileSync('ldd', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  const m = /^ldd \((.*)\) (\d+\.\d+(?:\.\d+)?)$/.exec(first);
  expect(m).not.toBeNull();
  const t = await inspectLibc(await findLibc());
  expect(t.libc.release).toBe(m?.[2]);
  expect(t.libc.build).toBe(m?.[1] === 'GNU libc' ? null : m?.[1]);
  expect(t.libc.family).toBe('glibc');
});

test.each([
  ['ls', '/bin/ls'],
  ['readelf', '/usr/bin/readelf'],
])('readElfNeeds of %s equals readelf -V', async (_, file) => {
  const expected: { library: string; versions: string[] }[] = [];
  for (const l of block(readelfV(file), '.gnu.version_r')) {
    const lib = /File: (\S+)/.exec(l);
    const ver = /^\s+0x[0-9a-f]+:\s+Name: (\S+)/.exec(l);
    if (lib) expected.push({ library: lib[1], versions: [] });
    else if (ver) expected[expected.length - 1].versions.push(ver[1]);
  }
  expect(expected.length).toBeGreaterThan(0);
  expect((await readElfNeeds(file)).needs).toEqual(expected);
});
