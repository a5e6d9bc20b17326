// The verification worker: a worker thread that loads the signing key and checks signatures, so
// that openpgp.js's start-up (~60 ms) and the signature's digest (SHA-512: ~45 ms per 30 MB) run on
// another core while the main thread downloads. It reads the archive itself, following the file as
// the download writes it (verifyDetachedStream over those reads); the verdict is the same code's
// as for a file. Started by src/verify/stream-client.ts, which is the only thing that talks to it.
import { read } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { InterruptedError, SignatureError, toWireError } from '../errors';
import type { SigningKey } from './signing-key';
import type { FromWorker, ToWorker, WorkerInit } from './stream-protocol';
import type { VerifyResult } from './verify-file';

const CHUNK_BYTES = 1 << 20;

const port = parentPort;
if (!port) throw new Error('stream-worker.js runs only as a worker thread');
const init = workerData as WorkerInit;
const post = (m: FromWorker): void => port.postMessage(m);

const key: Promise<SigningKey> = import('./signing-key').then((m) => m.loadSigningKey({ keyFile: init.keyFile, fingerprint: init.fingerprint }));
key.then(
  (k) => post({ type: 'key', key: { fingerprint: k.fingerprint, source: k.source, pinned: k.pinned, path: k.path, warnings: k.warnings } }),
  (err: unknown) => post({ type: 'key-error', error: toWireError(err) }),
);

let setSignature: (file: string) => void = () => undefined;
const signature = new Promise<string>((resolve) => (setSignature = resolve));

/** A file being followed: its size once the download has completed, and who waits for news. */
interface Followed {
  size: number | null;
  aborted: boolean;
  wake: () => void;
}
const followed = new Map<number, Followed>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'follow':
      return follow(m.id, m.fd, m.file);
    case 'grew':
      return followed.get(m.id)?.wake();
    case 'end': {
      const f = followed.get(m.id);
      if (!f) return;
      f.size = m.size;
      return f.wake();
    }
    case 'abort': {
      const f = followed.get(m.id);
      if (!f) return;
      f.aborted = true;
      return f.wake();
    }
    case 'signature':
      return setSignature(m.file);
    case 'verify-file':
      return settle(m.id, async () => {
        const { verifyDetachedFile } = await import('./verify-file');
        return verifyDetachedFile({ file: m.file, signature: m.signature, key: await key, strictKeyExpiry: init.strictKeyExpiry });
      });
  }
});

/** Verifies the file behind `fd` as it grows, once the key and the signature are here. */
function follow(id: number, fd: number, file: string): void {
  const f: Followed = { size: null, aborted: false, wake: () => undefined };
  followed.set(id, f);
  const stream = growingFileStream(fd, file, f);
  settle(id, async () => {
    const [k, sig] = await Promise.all([key, signature]);
    const { verifyDetachedStream } = await import('./verify-file');
    return verifyDetachedStream({ file, signature: sig, key: k, strictKeyExpiry: init.strictKeyExpiry, stream, expectedSize: () => f.size ?? -1 });
  });
}

/**
 * The file's bytes from 0, read as the download appends them. Reading at the end of what is there
 * waits for news (grew/end/abort). A download only appends, and the kernel shows a reader no byte
 * before it is written, so every byte read is the one the file keeps. The stream ends exactly at
 * the size the download reports; a file shorter than that errors.
 */
function growingFileStream(fd: number, file: string, f: Followed): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (f.aborted) return controller.error(new InterruptedError('download attempt abandoned'));
          const size = f.size;
          if (size !== null && at >= size) return controller.close();
          const want = size === null ? CHUNK_BYTES : Math.min(CHUNK_BYTES, size - at);
          // Asked for before reading: news that comes during the read is not lost.
          const news = new Promise<void>((resolve) => (f.wake = resolve));
          const chunk = await readAt(fd, want, at);
          if (chunk.length > 0) {
            at += chunk.length;
            return controller.enqueue(chunk);
          }
          if (size !== null) return controller.error(new SignatureError(`${file} ends after ${at} of ${size} bytes: download it again`));
          await news;
        }
      },
    },
    { highWaterMark: 1 },
  );
}

function readAt(fd: number, length: number, position: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    // A fresh buffer per chunk: the digest may keep a reference until it has hashed it.
    const buf = Buffer.allocUnsafe(length);
    read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n === length ? buf : buf.subarray(0, n))));
  });
}

function settle(id: number, work: () => Promise<VerifyResult>): void {
  work()
    .then(
      (result) => post({ type: 'result', id, result }),
      (err: unknown) => post({ type: 'error', id, error: toWireError(err) }),
    )
    .finally(() => followed.delete(id));
}
