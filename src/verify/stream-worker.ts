// The verification worker: a worker thread that loads the signing key and checks signatures, so
// that openpgp.js's start-up (~60 ms) and the signature's digest (SHA-512: ~45 ms per 30 MB) run on
// another core while the main thread downloads. The main thread sends it the archive's bytes as
// they arrive (the ones the download hashes and writes); the verdict is the same code's as for a
// file (verifyDetachedStream). Started by src/verify/stream-client.ts, which is the only thing
// that talks to it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { InterruptedError, toWireError } from '../errors';
import { pushedBytes, type PushedBytes } from './pushed-bytes';
import type { SigningKey } from './signing-key';
import type { FromWorker, ToWorker, WorkerInit } from './stream-protocol';
import type { VerifyResult } from './verify-file';

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

/**
 * Frees the batches already hashed (a minor GC). WHY: a batch is dead once hashed, but V8 returns
 * an ArrayBuffer's memory only when a GC finds it dead, and this thread allocates too little else
 * for one to run often: at 300 MB the spent batches piled up to tens of MB (peak RSS ~155 MB
 * against ~134 MB for a 30 MB install; bench/install.bench.js). A minor GC every 8 MiB, while they
 * are still young, keeps the peak where a 30 MB install has it (~135 MB) for 0.1-1 ms each; started
 * later, the survivors are old and only a full GC would free them. `gc` is V8's own extension,
 * which the flag makes available to contexts created from then on; without it nothing is
 * collected early.
 */
function collectSpentBatches(): void {
  gc ??= loadGc();
  gc();
}
let gc: (() => void) | undefined;
function loadGc(): () => void {
  try {
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as (o: { type: 'minor' }) => void;
    return () => collect({ type: 'minor' });
  } catch {
    return () => undefined;
  }
}
const BATCHES_PER_GC = 8;
let batches = 0;

/** A download attempt's bytes, and when it is abandoned (its verdict is then not waited for). */
interface Followed {
  bytes: PushedBytes;
  abandoned: Promise<void>;
  onAbandon: () => void;
}
const followed = new Map<number, Followed>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'follow':
      return follow(m.id, m.file);
    case 'bytes':
      if (++batches % BATCHES_PER_GC === 0) collectSpentBatches();
      return followed.get(m.id)?.bytes.push(m.chunk);
    case 'end':
      return followed.get(m.id)?.bytes.end(m.size);
    case 'abort': {
      const f = followed.get(m.id);
      if (!f) return;
      f.bytes.abort();
      return f.onAbandon();
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

/** Verifies the bytes of `id` as they arrive, once the key and the signature are here. */
function follow(id: number, file: string): void {
  let onAbandon = (): void => undefined;
  const abandoned = new Promise<void>((resolve) => (onAbandon = resolve));
  const bytes = pushedBytes(() => post({ type: 'took', id }));
  followed.set(id, { bytes, abandoned, onAbandon });
  settle(id, async () => {
    try {
      // An abandoned attempt settles at once, even while the signature has not come (yet).
      const ready = await Promise.race([Promise.all([key, signature]), abandoned.then(() => null)]);
      if (!ready) throw new InterruptedError('download attempt abandoned');
      const [k, sig] = ready;
      const { verifyDetachedStream } = await import('./verify-file');
      return await verifyDetachedStream({ file, signature: sig, key: k, strictKeyExpiry: init.strictKeyExpiry, stream: bytes.stream, expectedSize: () => bytes.size ?? -1 });
    } finally {
      bytes.stop(); // a failed check may leave openpgp.js pulling; what is queued is dropped
    }
  });
}

/** Posts the outcome of `work` for `id`. */
function settle(id: number, work: () => Promise<VerifyResult>): void {
  work()
    .then(
      (result) => post({ type: 'result', id, result }),
      (err: unknown) => post({ type: 'error', id, error: toWireError(err) }),
    )
    .finally(() => followed.delete(id));
}
