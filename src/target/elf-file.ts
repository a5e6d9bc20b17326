// One ELF file in memory: the header checked by us, sections and program headers parsed by elfy.
// elfy trusts its input (it throws RangeError/TypeError/AssertionError on corrupt files and
// silently clamps sections that run past the end), so the header and both tables are validated
// here first, elfy's own failures are turned into ElfFormatError, and every section we use is
// checked to lie wholly inside the file.
import * as elfy from 'elfy';
import type { ElfySection } from 'elfy';
import type { ElfIdentity } from './types';
import { corrupt, defineStruct, readStruct, type ElfBytes } from './elf-struct';

const EHDR_FIELDS = [
  ['type', 'u16'],
  ['machine', 'u16'],
  ['version', 'u32'],
  ['entry', 'word'],
  ['phoff', 'word'],
  ['shoff', 'word'],
  ['flags', 'u32'],
  ['ehsize', 'u16'],
  ['phentsize', 'u16'],
  ['phnum', 'u16'],
  ['shentsize', 'u16'],
  ['shnum', 'u16'],
  ['shstrndx', 'u16'],
] as const;
// The header proper follows the 16-byte e_ident.
const EHDR = { 32: defineStruct(EHDR_FIELDS, 32, 16), 64: defineStruct(EHDR_FIELDS, 64, 16) };
const PHDR_SIZE = { 32: 32, 64: 56 };
const SHDR_SIZE = { 32: 40, 64: 64 };
// Linux's binfmt_elf refuses program header tables larger than 64 KiB; so do we, which also
// bounds the work elfy does on a corrupt e_phnum.
const MAX_PHDR_BYTES = 65536;
const SHT_NOBITS = 8;
const SHT_STRTAB = 3;

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export type ElfHeader = Record<(typeof EHDR_FIELDS)[number][0], number>;

export interface ElfImage extends ElfBytes {
  identity: ElfIdentity;
  header: ElfHeader;
  sections: ElfySection[];
  /** PT_INTERP contents without the trailing NUL, or null when there is none. */
  interpreter: string | null;
}

export function parseElf(buf: Buffer, file: string): ElfImage {
  const { identity, header, src } = readHeader(buf, file);
  checkTables(src, identity.class, header);
  let parsed: elfy.ElfyFile;
  try {
    parsed = elfy.parse(buf);
  } catch (err) {
    // Anything elfy trips over that our checks did not anticipate is still just a corrupt file.
    throw corrupt(file, `cannot parse the section table (${(err as Error).message ?? String(err)})`);
  }
  const sections = parsed.body.sections;
  const interp = parsed.body.programs.find((p) => p.type === 'interp');
  const image: ElfImage = { ...src, identity, header, sections, interpreter: null };
  if (interp) image.interpreter = interpreterOf(image, interp.offset, interp.filesz, interp.data);
  return image;
}

function readHeader(buf: Buffer, file: string): { identity: ElfIdentity; header: ElfHeader; src: ElfBytes } {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(ELF_MAGIC)) throw corrupt(file, 'no ELF magic (not an ELF file)');
  if (buf.length < 16) throw corrupt(file, `truncated ELF header (${buf.length} bytes)`);
  const cls = buf[4] === 1 ? 32 : buf[4] === 2 ? 64 : null;
  const endianness = buf[5] === 1 ? 'little' : buf[5] === 2 ? 'big' : null;
  if (!cls) throw corrupt(file, `unknown ELF class ${buf[4]}`);
  if (!endianness) throw corrupt(file, `unknown ELF byte order ${buf[5]}`);
  const src: ElfBytes = { buf, littleEndian: endianness === 'little', file };
  const size = 16 + EHDR[cls].size;
  if (buf.length < size) throw corrupt(file, `truncated ELF header (${buf.length} of ${size} bytes)`);
  const header = readStruct(src, EHDR[cls], 0, 'ELF header');
  return { identity: { class: cls, endianness, machine: header.machine }, header, src };
}

function checkTables(src: ElfBytes, cls: 32 | 64, h: ElfHeader): void {
  const size = src.buf.length;
  if (h.phnum > 0) {
    if (h.phentsize < PHDR_SIZE[cls]) throw corrupt(src.file, `program header size ${h.phentsize} is too small`);
    if (h.phnum * h.phentsize > MAX_PHDR_BYTES)
      throw corrupt(src.file, `implausibly many program headers (${h.phnum})`);
    if (h.phoff + h.phnum * h.phentsize > size) {
      throw corrupt(src.file, `program headers run past the end of the file (${size} bytes; truncated copy?)`);
    }
  }
  // e_shnum 0 also covers extended numbering (> 65279 sections), which no libc or borg file uses.
  if (h.shnum === 0 || h.shoff === 0) throw corrupt(src.file, 'it has no section table');
  if (h.shentsize < SHDR_SIZE[cls]) throw corrupt(src.file, `section header size ${h.shentsize} is too small`);
  if (h.shoff + h.shnum * h.shentsize > size) {
    throw corrupt(src.file, `section table runs past the end of the file (${size} bytes; truncated copy?)`);
  }
  if (h.shstrndx === 0 || h.shstrndx >= h.shnum) {
    throw corrupt(src.file, `section name table index ${h.shstrndx} is out of range`);
  }
}

/** The section's bytes, refusing sections that run past the end of the file. */
export function sectionData(image: ElfImage, s: ElfySection, what: string): Buffer {
  if (s.type !== 'nobits' && s.type !== SHT_NOBITS && s.data.length !== s.size) {
    throw corrupt(image.file, `${what} section runs past the end of the file (truncated copy?)`);
  }
  return s.data;
}

/** The string table a section links to (sh_link), checked to exist and be a string table. */
export function linkedStrings(image: ElfImage, s: ElfySection, what: string): Buffer {
  const table = image.sections[s.link];
  if (!table || (table.type !== 'strtab' && table.type !== SHT_STRTAB)) {
    throw corrupt(image.file, `${what} section links to section ${s.link}, which is not a string table`);
  }
  return sectionData(image, table, `${what} string table`);
}

/** First section of the given elfy type name, or with the given name. */
export function findSection(image: ElfImage, type: string, name: string): ElfySection | undefined {
  return image.sections.find((s) => s.type === type) ?? image.sections.find((s) => s.name === name);
}

function interpreterOf(image: ElfImage, offset: number, filesz: number, data: Buffer): string {
  if (data.length !== filesz || filesz === 0) {
    throw corrupt(image.file, `PT_INTERP at offset ${offset} runs past the end of the file`);
  }
  const end = data.indexOf(0);
  return data.toString('latin1', 0, end < 0 ? data.length : end);
}
