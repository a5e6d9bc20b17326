// Builds small, valid ELF files shaped like a libc (or like a /bin/sh or a borg binary) for tests:
// 32/64-bit, little/big-endian, chosen version definitions and needs, an embedded glibc release
// string, a PT_INTERP. Offsets of every part are returned so tests can corrupt them on purpose.

export interface ElfSpec {
  class?: 32 | 64;
  endianness?: 'little' | 'big';
  machine?: number;
  flags?: number;
  /** .gnu.version_d names; the first is the base (soname) entry and gets VER_FLG_BASE. */
  verdefs?: string[];
  /** Give every non-base definition a second aux entry naming its parent, as real libcs do. */
  verdefParents?: boolean;
  /** .gnu.version_r: needed versions per library. */
  verneeds?: { library: string; versions: string[] }[];
  /** Bytes put in .rodata, e.g. a glibc release string. */
  rodata?: string;
  /** PT_INTERP (and .interp) contents, e.g. "/lib64/ld-linux-x86-64.so.2". */
  interp?: string;
}

export interface Region {
  offset: number;
  size: number;
}

export interface BuiltElf {
  buf: Buffer;
  shoff: number;
  shentsize: number;
  /** Section index by name, e.g. sections['.gnu.version_d']. */
  sections: Record<string, number>;
  regions: Record<string, Region>;
  littleEndian: boolean;
  class: 32 | 64;
}

class Bytes {
  private chunks: Buffer[] = [];
  length = 0;
  constructor(readonly le: boolean) {}
  u8(v: number): this {
    return this.raw(Buffer.from([v]));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return this.raw(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return this.raw(b);
  }
  u64(v: number): this {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigUInt64LE(BigInt(v));
    else b.writeBigUInt64BE(BigInt(v));
    return this.raw(b);
  }
  raw(b: Buffer): this {
    this.chunks.push(b);
    this.length += b.length;
    return this;
  }
  align(n: number): this {
    while (this.length % n !== 0) this.u8(0);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** The SysV ELF hash, as vd_hash/vna_hash hold it. */
export function elfHash(name: string): number {
  let h = 0;
  for (const c of Buffer.from(name, 'latin1')) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g) h ^= g >>> 24;
    h &= ~g >>> 0;
  }
  return h >>> 0;
}

class StringTable {
  private bytes: number[] = [0];
  private index = new Map<string, number>([['', 0]]);
  add(s: string): number {
    const known = this.index.get(s);
    if (known !== undefined) return known;
    const at = this.bytes.length;
    this.bytes.push(...Buffer.from(s, 'latin1'), 0);
    this.index.set(s, at);
    return at;
  }
  buffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

function verdefSection(le: boolean, names: string[], parents: boolean, dynstr: StringTable): Buffer {
  const b = new Bytes(le);
  names.forEach((name, i) => {
    const parent = parents && i > 1 ? names[i - 1] : null;
    const cnt = parent ? 2 : 1;
    const last = i === names.length - 1;
    b.u16(1)
      .u16(i === 0 ? 1 : 0)
      .u16(i + 1)
      .u16(cnt)
      .u32(elfHash(name))
      .u32(20)
      .u32(last ? 0 : 20 + 8 * cnt);
    b.u32(dynstr.add(name)).u32(parent ? 8 : 0);
    if (parent) b.u32(dynstr.add(parent)).u32(0);
  });
  return b.done();
}

function verneedSection(le: boolean, needs: { library: string; versions: string[] }[], dynstr: StringTable): Buffer {
  const b = new Bytes(le);
  let index = 2;
  needs.forEach((need, i) => {
    const last = i === needs.length - 1;
    b.u16(1)
      .u16(need.versions.length)
      .u32(dynstr.add(need.library))
      .u32(16)
      .u32(last ? 0 : 16 + 16 * need.versions.length);
    need.versions.forEach((v, j) => {
      b.u32(elfHash(v))
        .u16(0)
        .u16(index++)
        .u32(dynstr.add(v))
        .u32(j === need.versions.length - 1 ? 0 : 16);
    });
  });
  return b.done();
}

interface SectionPlan {
  name: string;
  type: number;
  data: Buffer;
  link?: string;
  info?: number;
}

export function buildElf(spec: ElfSpec = {}): BuiltElf {
  const cls = spec.class ?? 64;
  const le = (spec.endianness ?? 'little') === 'little';
  const dynstr = new StringTable();
  const plans: SectionPlan[] = [];
  if (spec.interp !== undefined)
    plans.push({ name: '.interp', type: 1, data: Buffer.from(`${spec.interp}\0`, 'latin1') });
  const verdefs = spec.verdefs ?? [];
  const verneeds = spec.verneeds ?? [];
  if (verdefs.length > 0) {
    const data = verdefSection(le, verdefs, spec.verdefParents ?? false, dynstr);
    plans.push({ name: '.gnu.version_d', type: 0x6ffffffd, data, link: '.dynstr', info: verdefs.length });
  }
  if (verneeds.length > 0) {
    const data = verneedSection(le, verneeds, dynstr);
    plans.push({ name: '.gnu.version_r', type: 0x6ffffffe, data, link: '.dynstr', info: verneeds.length });
  }
  plans.push({ name: '.dynstr', type: 3, data: dynstr.buffer() });
  if (spec.rodata !== undefined)
    plans.push({ name: '.rodata', type: 1, data: Buffer.from(`${spec.rodata}\0`, 'latin1') });
  const shstr = new StringTable();
  for (const p of plans) shstr.add(p.name);
  shstr.add('.shstrtab');
  plans.push({ name: '.shstrtab', type: 3, data: Buffer.alloc(0) });
  plans[plans.length - 1].data = shstr.buffer();

  const ehsize = cls === 64 ? 64 : 52;
  const phentsize = cls === 64 ? 56 : 32;
  const shentsize = cls === 64 ? 64 : 40;
  const phnum = spec.interp !== undefined ? 1 : 0;
  const phoff = phnum ? ehsize : 0;

  // Lay out section data after the headers, 8-aligned.
  let at = ehsize + phnum * phentsize;
  const regions: Record<string, Region> = {};
  const offsets = plans.map((p) => {
    at = Math.ceil(at / 8) * 8;
    const off = at;
    regions[p.name] = { offset: off, size: p.data.length };
    at += p.data.length;
    return off;
  });
  const shoff = Math.ceil(at / 8) * 8;
  const sections: Record<string, number> = {};
  plans.forEach((p, i) => (sections[p.name] = i + 1));

  const b = new Bytes(le);
  const word = (v: number) => (cls === 64 ? b.u64(v) : b.u32(v));
  b.raw(Buffer.from([0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, le ? 1 : 2, 1, 0])).raw(Buffer.alloc(8));
  b.u16(3)
    .u16(spec.machine ?? 62)
    .u32(1);
  word(0);
  word(phoff);
  word(shoff);
  b.u32(spec.flags ?? 0)
    .u16(ehsize)
    .u16(phentsize)
    .u16(phnum)
    .u16(shentsize)
    .u16(plans.length + 1)
    .u16(plans.length);
  if (phnum) {
    const r = regions['.interp'];
    if (cls === 64) b.u32(3).u32(4).u64(r.offset).u64(r.offset).u64(r.offset).u64(r.size).u64(r.size).u64(1);
    else b.u32(3).u32(r.offset).u32(r.offset).u32(r.offset).u32(r.size).u32(r.size).u32(4).u32(1);
  }
  plans.forEach((p, i) => {
    b.align(8);
    while (b.length < offsets[i]) b.u8(0);
    b.raw(p.data);
  });
  b.align(8);
  // Section headers: the null entry, then one per plan.
  b.raw(Buffer.alloc(shentsize));
  plans.forEach((p, i) => {
    const link = p.link ? sections[p.link] : 0;
    b.u32(shstr.add(p.name)).u32(p.type);
    word(p.name === '.interp' || p.name === '.rodata' ? 2 : 0);
    word(offsets[i]);
    word(offsets[i]);
    word(p.data.length);
    b.u32(link).u32(p.info ?? 0);
    word(p.type === 3 ? 1 : 8);
    word(0);
  });
  return { buf: b.done(), shoff, shentsize, sections, regions, littleEndian: le, class: cls };
}

/** Offset of a field of section header `index` in the built file (for corrupting it). */
export function sectionHeaderField(
  elf: BuiltElf,
  index: number,
  field: 'offset' | 'size' | 'link' | 'info' | 'name',
): number {
  const base = elf.shoff + index * elf.shentsize;
  const at64 = { name: 0, offset: 24, size: 32, link: 40, info: 44 };
  const at32 = { name: 0, offset: 16, size: 20, link: 24, info: 28 };
  return base + (elf.class === 64 ? at64 : at32)[field];
}

/** Writes an unsigned value of `bytes` width at `at`, in the file's byte order. */
export function patch(elf: BuiltElf, at: number, bytes: 2 | 4 | 8, value: number | bigint): Buffer {
  const buf = Buffer.from(elf.buf);
  const le = elf.littleEndian;
  if (bytes === 2) {
    if (le) buf.writeUInt16LE(Number(value), at);
    else buf.writeUInt16BE(Number(value), at);
  } else if (bytes === 4) {
    if (le) buf.writeUInt32LE(Number(value), at);
    else buf.writeUInt32BE(Number(value), at);
  } else if (le) buf.writeBigUInt64LE(BigInt(value), at);
  else buf.writeBigUInt64BE(BigInt(value), at);
  return buf;
}

/** A glibc release string as libc embeds it. */
export function releaseString(release: string, build: string | null): string {
  return `GNU C Library (${build ?? 'GNU libc'}) stable release version ${release}.\nCopyright (C) 2024 Free Software Foundation, Inc.`;
}
