// Deterministic fuzzing of the ELF reader: thousands of seeded mutations of the machine's real
// libc, aimed at its ELF header, program and section header tables and version sections, plus
// truncations. Each must parse or be rejected with ElfFormatError, each within a time bound.
import { readFileSync } from 'node:fs';
import { ElfFormatError } from '../../src/errors';
import { findLibc } from '../../src/target';
import { parseElf } from '../../src/target/elf-file';
import { readVersionDefinitions, readVersionNeeds } from '../../src/target/elf-versions';
import { libcFromBytes } from '../../src/target/libc';
import { buildElf, releaseString } from '../helpers/elf-writer';

const SEED = 0x5eed2026;
const MUTATIONS = 3000;
const PER_PARSE_MS = 250;

/** mulberry32: a small seeded PRNG, so every run tries the same mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Region {
  name: string;
  start: number;
  end: number;
}

function regionsOf(buf: Buffer): Region[] {
  const image = parseElf(buf, 'libc');
  const h = image.header;
  const regions: Region[] = [
    { name: 'ELF header', start: 0, end: image.identity.class === 64 ? 64 : 52 },
    { name: 'program headers', start: h.phoff, end: h.phoff + h.phnum * h.phentsize },
    { name: 'section headers', start: h.shoff, end: h.shoff + h.shnum * h.shentsize },
  ];
  for (const s of image.sections) {
    if (s.name === '.gnu.version_d' || s.name === '.gnu.version_r')
      regions.push({ name: s.name, start: s.off, end: s.off + s.size });
  }
  return regions;
}

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x02, 0x10, 0x40];

test(`${MUTATIONS} seeded mutations of the real libc parse or fail with ElfFormatError`, async () => {
  const buf = readFileSync(await findLibc());
  const regions = regionsOf(buf);
  expect(regions.map((r) => r.name)).toEqual(
    expect.arrayContaining(['ELF header', 'section headers', '.gnu.version_d', '.gnu.version_r']),
  );
  const rnd = prng(SEED);
  const pick = (n: number) => Math.floor(rnd() * n);
  const outcomes = { parsed: 0, rejected: 0 };
  let slowest = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const region = regions[pick(regions.length)];
    let input = buf;
    const saved: [number, number][] = [];
    if (rnd() < 0.05) {
      input = buf.subarray(0, region.start + pick(region.end - region.start)); // truncated copy
    } else {
      for (let k = 1 + pick(4); k > 0; k--) {
        const at = region.start + pick(region.end - region.start);
        saved.push([at, buf[at]]);
        const how = pick(3);
        buf[at] = how === 0 ? INTERESTING[pick(INTERESTING.length)] : how === 1 ? buf[at] ^ (1 << pick(8)) : pick(256);
      }
    }
    const started = performance.now();
    try {
      // The release string lies outside the mutated regions, so the parser proper is what runs.
      const image = parseElf(input, 'libc.so.6');
      readVersionDefinitions(image);
      readVersionNeeds(image);
      outcomes.parsed++;
    } catch (err) {
      if (!(err instanceof ElfFormatError)) {
        throw new Error(`mutation ${i} in ${region.name} escaped as ${(err as Error).name}: ${(err as Error).message}`);
      }
      expect(err.message).not.toContain('\n');
      outcomes.rejected++;
    } finally {
      for (const [at, v] of saved.reverse()) buf[at] = v;
    }
    slowest = Math.max(slowest, performance.now() - started);
  }
  expect(slowest).toBeLessThan(PER_PARSE_MS);
  // Both outcomes must occur, or the mutations are not reaching the parser.
  expect(outcomes.parsed).toBeGreaterThan(MUTATIONS / 10);
  expect(outcomes.rejected).toBeGreaterThan(MUTATIONS / 10);
  // The restored buffer is the real libc again.
  expect(libcFromBytes(buf, 'libc.so.6').libc.family).toBe('glibc');
}, 60000);

test('1000 seeded mutations anywhere in a small 32-bit big-endian libc from the ELF writer', () => {
  const elf = buildElf({
    class: 32,
    endianness: 'big',
    machine: 20,
    verdefs: ['libc.so.6', 'GLIBC_2.0', 'GLIBC_2.1', 'GLIBC_2.2', 'GLIBC_PRIVATE'],
    verdefParents: true,
    verneeds: [{ library: 'ld.so.1', versions: ['GLIBC_2.0', 'GLIBC_PRIVATE'] }],
    rodata: releaseString('2.36', 'Debian GLIBC 2.36-9+deb12u10'),
    interp: '/lib/ld.so.1',
  });
  const rnd = prng(SEED + 1);
  let rejected = 0;
  for (let i = 0; i < 1000; i++) {
    const buf = Buffer.from(elf.buf);
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
    try {
      const image = parseElf(buf, 'libc.so.6');
      readVersionDefinitions(image);
      readVersionNeeds(image);
    } catch (err) {
      if (!(err instanceof ElfFormatError))
        throw new Error(`mutation ${i} escaped as ${(err as Error).name}: ${(err as Error).message}`);
      rejected++;
    }
  }
  expect(rejected).toBeGreaterThan(50);
});
