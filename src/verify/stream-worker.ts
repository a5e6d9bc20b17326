// The verification worker: a worker thread that loads the signing key and checks signatures, so
// that openpgp.js's start-up (~60 ms) and the signature's digest (SHA-512: ~45 ms per 30 MB) run on
// another core while the main thread downloads. It reads the archive itself, following the file as
// the download writes it (verifyDetachedStream over those reads); the verdict is the same code's
// as for a file. Started by src/verify/stream-client.ts, which is the only thing that talks to it.
import { parentPort, workerData } from 'node:worker_threads';
import { InterruptedError, toWireError } from '../errors';
import { growingFileStream, type Followed } from './growing-file';
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

/** Followed, and when its download attempt is abandoned (its verdict is then not waited for). */
interface Tracked extends Followed {
  abandoned: Promise<void>;
  onAbandon: () => void;
}
const followed = new Map<number, Tracked>();

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
      f.onAbandon();
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
  let onAbandon = (): void => undefined;
  const abandoned = new Promise<void>((resolve) => (onAbandon = resolve));
  const f: Tracked = { size: null, aborted: false, wake: () => undefined, abandoned, onAbandon };
  followed.set(id, f);
  const reads = growingFileStream(fd, file, f);
  settle(
    id,
    async () => {
      // An abandoned attempt settles at once, even while the signature has not come (yet).
      const ready = await Promise.race([Promise.all([key, signature]), abandoned.then(() => null)]);
      if (!ready) throw new InterruptedError('download attempt abandoned');
      const [k, sig] = ready;
      const { verifyDetachedStream } = await import('./verify-file');
      return verifyDetachedStream({ file, signature: sig, key: k, strictKeyExpiry: init.strictKeyExpiry, stream: reads.stream, expectedSize: () => f.size ?? -1 });
    },
    // The verdict is posted only once no read is in flight: the main thread then closes `fd`.
    () => reads.stop(),
  );
}

/** Posts the outcome of `work` for `id`, after `before` (e.g. stopping reads) has finished. */
function settle(id: number, work: () => Promise<VerifyResult>, before: () => Promise<void> = async () => undefined): void {
  const done = (m: FromWorker): Promise<void> =>
    before()
      .catch(() => undefined)
      .then(() => post(m));
  work()
    .then(
      (result) => done({ type: 'result', id, result }),
      (err: unknown) => done({ type: 'error', id, error: toWireError(err) }),
    )
    .finally(() => followed.delete(id));
}
