// A signed file read once, as the web stream openpgp.js hashes for the signature, with a SHA-256 of
// the very same chunks (the binding the unpack checks: nothing but these bytes is unpacked).
// Memory stays flat whatever the file's size: the stream is read only as fast as it is hashed.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { BadInputError, SignatureError, filesystemError, isErrnoError } from '../errors';

const CHUNK_BYTES = 1024 * 1024;

export interface SignedFile {
  /** The file's bytes, from offset 0 to the size it had when opened. */
  stream: ReadableStream<Uint8Array>;
  /** Once the stream is read to its end: the SHA-256 of what it gave (throws if that was not the whole file). */
  sha256(): string;
  close(): Promise<void>;
}

export async function openSignedFile(file: string, signal?: AbortSignal): Promise<SignedFile> {
  const handle = await open(file);
  let size: number;
  try {
    const st = await handle.stat();
    // A directory opens fine on Linux, a device may never end: only a regular file is verified.
    if (!st.isFile())
      throw new BadInputError(`cannot verify ${file}: ${st.isDirectory() ? 'is a directory' : 'not a regular file'}`);
    size = st.size;
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  const hash = createHash('sha256');
  let read = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      signal?.throwIfAborted();
      // One byte past the size: a file that grows is noticed and refused, not cut short silently.
      const want = Math.min(CHUNK_BYTES, size - read + 1);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, read).catch((err: unknown) => {
        throw isErrnoError(err) ? filesystemError(err, 'read', file) : err;
      });
      if (bytesRead === 0) return controller.close();
      const chunk = new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
      read += bytesRead;
      hash.update(chunk);
      controller.enqueue(chunk);
      if (read > size) controller.close();
    },
  });
  return {
    stream,
    sha256() {
      // The signature covers what was read; make sure that was the whole file as it was opened.
      if (read !== size)
        throw new SignatureError(
          `${file} changed while it was being verified (${read} of ${size} bytes read): try again`,
        );
      return hash.digest('hex');
    },
    close: () => handle.close().catch(() => undefined),
  };
}

async function open(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new BadInputError(`cannot verify ${file}: no such file`);
    throw filesystemError(err, 'read', file);
  }
}
