// elfy 1.0.0 ships no types. Only what src/target/ uses is declared here.
// Caution: for 64-bit files elfy reads `addralign` and `entsize` of section headers from the wrong
// offsets (46 and 54 instead of 48 and 56), so those two fields are deliberately left out.
declare module 'elfy' {
  export interface ElfySection {
    /** Resolved through .shstrtab ("" when the name offset is out of range). */
    name: string;
    /** A symbolic name ("strtab", "sunw_verdef" for SHT_GNU_verdef, ...) or the raw number. */
    type: string | number;
    addr: number;
    off: number;
    size: number;
    link: number;
    info: number;
    /** buf.slice(off, off + size): silently SHORTER than size when the section runs past the end. */
    data: Buffer;
  }

  export interface ElfyProgram {
    /** "load", "interp", ... or undefined for types elfy does not name. */
    type: string | undefined;
    offset: number;
    filesz: number;
    /** buf.slice(offset, offset + filesz), clamped like ElfySection.data. */
    data: Buffer;
  }

  export interface ElfyFile {
    class: '32' | '64';
    endian: 'lsb' | 'msb';
    /** elfy's name for e_machine ("amd64", ...); the raw number is not kept. */
    machine: string;
    flags: number;
    body: { programs: ElfyProgram[]; sections: ElfySection[] };
  }

  export function parse(buf: Buffer): ElfyFile;
}
