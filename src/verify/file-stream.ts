// A pull-based web ReadableStream over a file for openpgp.js (v6 takes web streams only).
// Pull-based on purpose: a chunk is read only when the consumer (the hash) asks for the next one, so
// memory stays flat whatever the file size. Readable.toWeb() would push ahead of the consumer.
import type { FileHandle } from 'node:fs/promises';
import { InterruptedError } from '../errors';

const CHUNK_BYTES = 1024 * 1024;

export interface FileStreamStats {
  /** Bytes handed to the consumer so far. */
  bytesRead: number;
  /** True once end of file was reached and the stream closed. */
  ended: boolean;
}

/**
 * Streams `handle` from offset 0. The caller owns the handle (and closes it). When `signal` fires
 * the stream errors with InterruptedError, which aborts whatever is hashing it.
 */
export function fileReadableStream(
  handle: FileHandle,
  signal?: AbortSignal,
  /** Sees every chunk exactly as it is handed to the consumer (e.g. to hash what was verified). */
  observe?: (chunk: Uint8Array) => void,
): { stream: ReadableStream<Uint8Array>; stats: FileStreamStats } {
  const stats: FileStreamStats = { bytesRead: 0, ended: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (signal?.aborted) {
          controller.error(new InterruptedError());
          return;
        }
        // A fresh buffer per chunk: the consumer may keep a reference until it has hashed it.
        const buf = new Uint8Array(CHUNK_BYTES);
        const { bytesRead } = await handle.read(buf, 0, CHUNK_BYTES, stats.bytesRead);
        if (bytesRead === 0) {
          stats.ended = true;
          controller.close();
          return;
        }
        stats.bytesRead += bytesRead;
        const chunk = bytesRead === CHUNK_BYTES ? buf : buf.subarray(0, bytesRead);
        observe?.(chunk);
        controller.enqueue(chunk);
      },
    },
    // Two chunks queued: the next read runs on the thread pool while this one is hashed
    // (~20% faster than one at a time; more gained nothing).
    { highWaterMark: 2 },
  );
  return { stream, stats };
}
