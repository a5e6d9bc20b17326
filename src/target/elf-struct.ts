// Table-driven reading of fixed-layout ELF records. Each record is declared once as a list of
// (field, type) pairs; 'word' is 4 bytes in 32-bit files and 8 in 64-bit ones, so one declaration
// serves both classes where the field order is the same. Every read is bounds-checked and reports
// corrupt input as ElfFormatError, never as a RangeError.
import { ElfFormatError } from '../errors';

type FieldType = 'u16' | 'u32' | 'word';
type Spec<K extends string> = readonly (readonly [K, FieldType])[];

export interface Struct<K extends string> {
  size: number;
  fields: readonly { name: K; offset: number; bytes: 2 | 4 | 8 }[];
}

/** Lays out a record for one ELF class (32 or 64), fields packed in order as ELF defines them. */
export function defineStruct<K extends string>(spec: Spec<K>, elfClass: 32 | 64, start = 0): Struct<K> {
  let offset = start;
  const fields = spec.map(([name, type]) => {
    const bytes = type === 'u16' ? 2 : type === 'u32' ? 4 : elfClass === 64 ? 8 : 4;
    const field = { name, offset, bytes: bytes as 2 | 4 | 8 };
    offset += bytes;
    return field;
  });
  return { size: offset - start, fields };
}

/** The reading context of one file: its bytes, byte order and a name for error messages. */
export interface ElfBytes {
  buf: Buffer;
  littleEndian: boolean;
  file: string;
}

export function corrupt(file: string, detail: string): ElfFormatError {
  return new ElfFormatError(`${file} is not a valid ELF file: ${detail}`);
}

/** Reads one record at `offset`; `what` names it in the error when it does not fit in the file. */
export function readStruct<K extends string>(
  src: ElfBytes,
  struct: Struct<K>,
  offset: number,
  what: string,
  limit = src.buf.length,
): Record<K, number> {
  const start = struct.fields[0]?.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + struct.size + start > limit) {
    throw corrupt(src.file, `${what} at offset ${offset} lies outside its bounds (${limit} bytes)`);
  }
  const out = {} as Record<K, number>;
  for (const f of struct.fields) out[f.name] = readUnsigned(src, offset + f.offset, f.bytes);
  return out;
}

function readUnsigned({ buf, littleEndian: le }: ElfBytes, at: number, bytes: 2 | 4 | 8): number {
  if (bytes === 2) return le ? buf.readUInt16LE(at) : buf.readUInt16BE(at);
  if (bytes === 4) return le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
  // Offsets beyond 2^53 cannot be inside any file we read; they fail the bounds checks as Infinity.
  const v = le ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
}

/** A NUL-terminated string inside `table` (a string-table section), bounds-checked. */
export function readCString(src: ElfBytes, table: Buffer, offset: number, what: string): string {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= table.length) {
    throw corrupt(src.file, `${what} name offset ${offset} is outside its string table (${table.length} bytes)`);
  }
  const end = table.indexOf(0, offset);
  if (end < 0) throw corrupt(src.file, `${what} name at offset ${offset} is not NUL-terminated`);
  return table.toString('latin1', offset, end);
}
