// A file's bytes from byte 0, read while a download appends to it: the verification worker's input
// (src/verify/stream-worker.ts). Kept apart from the worker so that it can be tested on its own.
import { read } from 'node:fs';
import { InterruptedError, SignatureError } from '../errors';

const CHUNK_BYTES = 1 << 20;

/** A file being followed: its size once the download has completed, and who waits for news. */
export interface Followed {
  size: number | null;
  aborted: boolean;
  /** Called on news (more bytes, the end, an abort); replaced by whoever waits next. */
  wake: () => void;
}

/**
 * The file's bytes from 0, read as the download appends them. Reading at the end of what is there
 * waits for news (grew/end/abort). A download only appends, and the kernel shows a reader no byte
 * before it is written, so every byte read is the one the file keeps. The stream ends exactly at
 * the size the download reports; a file shorter than that errors. stop() ends the reading for
 * good and resolves once no read is in flight (then `fd` may be closed).
 */
export function growingFileStream(fd: number, file: string, f: Followed): { stream: ReadableStream<Uint8Array>; stop: () => Promise<void> } {
  let at = 0;
  let stopped = false;
  let reading: Promise<unknown> = Promise.resolve();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          // Stopped once the verdict is in (a failed check may leave openpgp.js pulling): no more reads.
          if (stopped) return controller.error(new InterruptedError('verification finished'));
          if (f.aborted) return controller.error(new InterruptedError('download attempt abandoned'));
          const size = f.size;
          if (size !== null && at >= size) return controller.close();
          const want = size === null ? CHUNK_BYTES : Math.min(CHUNK_BYTES, size - at);
          // Asked for before reading: news that comes during the read is not lost.
          const news = new Promise<void>((resolve) => (f.wake = resolve));
          const pending = readAt(fd, want, at);
          reading = pending.catch(() => undefined);
          const chunk = await pending;
          if (chunk.length > 0) {
            at += chunk.length;
            return controller.enqueue(chunk);
          }
          if (size !== null) return controller.error(new SignatureError(`${file} ends after ${at} of ${size} bytes: download it again`));
          await news;
        }
      },
    },
    // Two chunks queued: the next read runs on the thread pool while this one is hashed
    // (~20% faster than one at a time; more gained nothing).
    { highWaterMark: 2 },
  );
  const stop = async (): Promise<void> => {
    stopped = true;
    f.wake();
    await reading;
  };
  return { stream, stop };
}

function readAt(fd: number, length: number, position: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // A fresh buffer per chunk: the digest may keep a reference until it has hashed it.
    const buf = Buffer.allocUnsafe(length);
    read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n === length ? buf : buf.subarray(0, n))));
  });
}

