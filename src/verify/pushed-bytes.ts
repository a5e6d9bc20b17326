// A download's bytes as the verification worker receives them (src/verify/stream-worker.ts): the
// main thread sends each batch as it arrives (src/verify/stream-client.ts); this turns them into
// the web stream openpgp.js hashes. Kept apart from the worker so that it can be tested on its own.
import { InterruptedError } from '../errors';

export interface PushedBytes {
  /** The bytes in the order they were pushed; closes at end(), errors on abort() or stop(). */
  readonly stream: ReadableStream<Uint8Array>;
  /** The size end() announced, or null before it. */
  readonly size: number | null;
  push(chunk: Uint8Array): void;
  /** All bytes are pushed; the file has `size` of them. */
  end(size: number): void;
  /** The download attempt failed: the stream errors. */
  abort(): void;
  /** The verdict is in: the stream errors if still read, and what is queued is dropped. */
  stop(): void;
}

/**
 * `onTaken` is called as each pushed chunk is handed to the stream's reader: the sender's cue that
 * it may send another (stream-client.ts keeps a few in flight), so memory stays flat.
 */
export function pushedBytes(onTaken: () => void): PushedBytes {
  const queue: Uint8Array[] = [];
  let size: number | null = null;
  let ended = false;
  let failure: Error | null = null;
  let wake: () => void = () => undefined;
  const news = (): void => wake();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (failure) return controller.error(failure);
          const chunk = queue.shift();
          if (chunk) {
            onTaken();
            return controller.enqueue(chunk);
          }
          // Whether the count matches `size` is verifyDetachedStream's to check (src/verify/verify-file.ts).
          if (ended) return controller.close();
          await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    },
    // One chunk ahead of the hash: the next is ready the moment it asks.
    { highWaterMark: 1 },
  );
  const fail = (err: Error): void => {
    failure ??= err;
    queue.length = 0;
    news();
  };
  return {
    stream,
    get size() {
      return size;
    },
    push(chunk) {
      if (ended || failure) return;
      queue.push(chunk);
      news();
    },
    end(n) {
      if (ended || failure) return;
      size = n;
      ended = true;
      news();
    },
    abort: () => fail(new InterruptedError('download attempt abandoned')),
    stop: () => fail(new InterruptedError('verification finished')),
  };
}

