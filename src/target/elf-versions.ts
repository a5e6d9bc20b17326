// The GNU symbol-versioning sections, read by hand: .gnu.version_d (what a library defines) and
// .gnu.version_r (what a file needs, per library). Their records have the same layout in 32- and
// 64-bit files. The chains (vd_next, vn_next, vna_next) are unsigned offsets relative to
// the current entry, so a walk only moves forward: with every entry bounds-checked inside its
// section and an entry limit, a corrupt chain (even one that would wrap around in 32-bit C
// arithmetic, the classic verdef "cycle") ends in ElfFormatError instead of a loop.
import type { VersionNeed } from './types';
import { defineStruct, readCString, readStruct, type Struct } from './elf-struct';
import { findSection, linkedStrings, sectionData, type ElfImage } from './elf-file';

const VERDEF = defineStruct(
  [
    ['version', 'u16'],
    ['flags', 'u16'],
    ['ndx', 'u16'],
    ['cnt', 'u16'],
    ['hash', 'u32'],
    ['aux', 'u32'],
    ['next', 'u32'],
  ] as const,
  32,
);
const VERDAUX = defineStruct(
  [
    ['name', 'u32'],
    ['next', 'u32'],
  ] as const,
  32,
);
const VERNEED = defineStruct(
  [
    ['version', 'u16'],
    ['cnt', 'u16'],
    ['file', 'u32'],
    ['aux', 'u32'],
    ['next', 'u32'],
  ] as const,
  32,
);
const VERNAUX = defineStruct(
  [
    ['hash', 'u32'],
    ['flags', 'u16'],
    ['other', 'u16'],
    ['name', 'u32'],
    ['next', 'u32'],
  ] as const,
  32,
);

const VER_FLG_BASE = 0x1;
// No real file comes near this; it bounds the work a hostile file can cause.
const MAX_ENTRIES = 65536;

/**
 * Walks a chain of records linked by relative `next` offsets (0 ends it), starting at `first`.
 * Stops after `count` records when count > 0, and rejects records outside the section.
 */
function* chain<K extends string>(
  image: ElfImage,
  data: Buffer,
  struct: Struct<K | 'next'>,
  first: number,
  count: number,
  what: string,
): Generator<[number, Record<K | 'next', number>]> {
  const src = { ...image, buf: data };
  const limit = count > 0 ? Math.min(count, MAX_ENTRIES) : MAX_ENTRIES;
  let at = first;
  for (let n = 0; n < limit; n++) {
    const rec = readStruct(src, struct, at, `${what} entry`);
    yield [at, rec];
    if (rec.next === 0) return;
    at += rec.next;
  }
}

/** Names defined in .gnu.version_d, without the base (soname) entry, in file order. */
export function readVersionDefinitions(image: ElfImage): string[] {
  const section = findSection(image, 'sunw_verdef', '.gnu.version_d');
  if (!section) return [];
  const data = sectionData(image, section, '.gnu.version_d');
  const strings = linkedStrings(image, section, '.gnu.version_d');
  const names: string[] = [];
  for (const [at, def] of chain(image, data, VERDEF, 0, section.info, 'version definition')) {
    if (def.flags & VER_FLG_BASE) continue;
    // The first aux entry names the version; later ones name its parents.
    const aux = readStruct({ ...image, buf: data }, VERDAUX, at + def.aux, 'version definition name');
    names.push(readCString(image, strings, aux.name, 'version definition'));
  }
  return names;
}

/** .gnu.version_r: for each needed library, the version names needed from it, as written. */
export function readVersionNeeds(image: ElfImage): VersionNeed[] {
  const section = findSection(image, 'sunw_verneed', '.gnu.version_r');
  if (!section) return [];
  const data = sectionData(image, section, '.gnu.version_r');
  const strings = linkedStrings(image, section, '.gnu.version_r');
  const needs: VersionNeed[] = [];
  for (const [at, need] of chain(image, data, VERNEED, 0, section.info, 'version need')) {
    const library = readCString(image, strings, need.file, 'needed library');
    const versions: string[] = [];
    // vn_cnt 0 means no aux records at all: do not read one.
    const auxes = need.cnt > 0 ? chain(image, data, VERNAUX, at + need.aux, need.cnt, 'needed version') : [];
    for (const [, aux] of auxes) versions.push(readCString(image, strings, aux.name, 'needed version'));
    needs.push({ library, versions });
  }
  return needs;
}

/** glibc's public symbol versions ("2.2.5", "2.34", ...) from definition or need names. */
export function glibcVersionsOf(names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const n of names) {
    // GLIBC_PRIVATE and GLIBC_ABI_* (e.g. GLIBC_ABI_DT_RELR) are not release levels.
    const m = /^GLIBC_(\d+(?:\.\d+)+)$/.exec(n);
    if (m) out.add(m[1]);
  }
  return [...out];
}
