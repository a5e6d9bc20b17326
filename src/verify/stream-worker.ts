// The verification worker: a worker thread that loads the signing key and judges signatures, so
// that openpgp.js's start-up (~60 ms) and the key's checks run on another core while the main
// thread downloads. For a download it reads the signature, tells the main thread how to hash the
// file for it (a DigestSpec), and judges the digest the main thread sends at the end
// (prepareSignature / concludeStreamed); a file on disk it reads and hashes itself
// (verifyDetachedFile). Started by src/verify/stream-client.ts, which is the only thing that talks
// to it.
import { parentPort, workerData } from 'node:worker_threads';
import { InterruptedError, toWireError } from '../errors';
import { warm } from '../util/code-cache';
import type { SigningKey } from './signing-key';
import type { FromWorker, ToWorker, WorkerInit } from './stream-protocol';
import type { Verdict } from './verify-file';

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

type End = Extract<ToWorker, { type: 'end' }>;

/** Download attempts being followed: each settles with its end (and digest), or null once abandoned. */
const followed = new Map<number, (end: End | null) => void>();

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'follow':
      return follow(m.id, m.file);
    case 'end':
      return followed.get(m.id)?.(m);
    case 'abort':
      return followed.get(m.id)?.(null);
    case 'signature':
      return setSignature(m.file);
    case 'verify-file':
      return settle(m.id, async () => {
        const { verifyDetachedFile } = await import('./verify-file');
        return verifyDetachedFile({ file: m.file, signature: m.signature, key: await key, strictKeyExpiry: init.strictKeyExpiry });
      });
  }
});

/** Judges the download of `id` once the key and the signature are here and its digest has come. */
function follow(id: number, file: string): void {
  let resolve: (end: End | null) => void = () => undefined;
  const outcome = new Promise<End | null>((r) => (resolve = r));
  followed.set(id, resolve);
  const abandoned = outcome.then((end) => (end ? new Promise<never>(() => undefined) : null));
  settle(id, async () => {
    // An abandoned attempt settles at once, even while the signature has not come (yet).
    const ready = await Promise.race([Promise.all([key, signature]), abandoned]);
    if (!ready) throw new InterruptedError('download attempt abandoned');
    const [k, sig] = ready;
    const { prepareSignature, concludeStreamed } = await import('./verify-file');
    const prepared = await prepareSignature({ file, signature: sig, key: k, strictKeyExpiry: init.strictKeyExpiry });
    post({ type: 'spec', id, spec: prepared.spec });
    const end = await outcome;
    if (!end) throw new InterruptedError('download attempt abandoned');
    return concludeStreamed(prepared, end);
  });
}

/** Posts the outcome of `work` for `id`. */
function settle(id: number, work: () => Promise<Verdict>): void {
  work()
    .then(
      (result) => {
        // A signature judged: this thread's code is compiled, worth a code cache (src/util/code-cache.ts).
        // Saved before the verdict goes out (once, ~5 ms): after it, the thread may be stopped at any moment.
        warm();
        post({ type: 'result', id, result });
      },
      (err: unknown) => post({ type: 'error', id, error: toWireError(err) }),
    )
    .finally(() => followed.delete(id));
}
