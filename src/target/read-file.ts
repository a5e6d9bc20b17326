// Reading input files with one-line, typed failures. Files are opened non-blocking so that a FIFO
// or device passed by mistake is refused instead of hanging the read.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { BadInputError } from '../errors';
import { ELF_MAGIC } from './elf-file';

// Larger than any libc or shared library; a bound against reading a disk image by mistake.
const MAX_BYTES = 1 << 30;

function openError(err: unknown, file: string): BadInputError {
  const code = (err as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    ENOENT: 'does not exist',
    ENOTDIR: 'does not exist (a parent is not a directory)',
    EACCES: 'is not readable (permission denied): run as a user who may read it',
    EPERM: 'is not readable (operation not permitted)',
    ELOOP: 'is a symbolic link loop',
    EISDIR: 'is a directory, not a file',
  };
  const detail = (code && why[code]) ?? `cannot be read (${(err as Error).message})`;
  return new BadInputError(`${file} ${detail}`, { cause: err });
}

/** The open descriptor of a regular file; closed again on any refusal. */
function openRegular(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw openError(err, file);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new BadInputError(`${file} is a directory, not a file`);
    if (!st.isFile()) throw new BadInputError(`${file} is not a regular file`);
    if (st.size > MAX_BYTES) throw new BadInputError(`${file} is too large (${st.size} bytes) to be a library`);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * The whole file, read once. BadInputError (exit 2) for missing, unreadable or non-regular files.
 * Synchronous inside: a libc (~2 MB) or a library is read in a millisecond or two, where the thread
 * pool's open/stat/read/close trips each waited behind whatever else the event loop had to do.
 */
export async function readInputFile(file: string): Promise<Buffer> {
  return readInputFileSync(file);
}

function readInputFileSync(file: string): Buffer {
  const fd = openRegular(file);
  try {
    // To end of file, as readFile does (procfs says size 0); openRegular refused a file over the bound.
    const buf = readFileSync(fd);
    if (buf.length > MAX_BYTES)
      throw new BadInputError(`${file} is too large (over ${MAX_BYTES} bytes) to be a library`);
    return buf;
  } catch (err) {
    throw err instanceof BadInputError ? err : openError(err, file);
  } finally {
    closeSync(fd);
  }
}

const NOT_A_FILE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/**
 * Whether the file starts with the ELF magic. Missing paths, directories and other non-regular
 * files are simply not ELF (false); a file that exists but cannot be read is a BadInputError.
 * Synchronous: four syscalls instead of four trips to the thread pool, which matters when every
 * file of an unpacked build is looked at.
 */
export function isElfFileSync(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (NOT_A_FILE.has((err as NodeJS.ErrnoException).code ?? '')) return false;
    throw openError(err, file);
  }
  try {
    if (!fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(ELF_MAGIC);
  } finally {
    closeSync(fd);
  }
}
