// Signature checks in a worker thread (src/verify/stream-worker.ts) that is sent the archive's
// bytes while they download. WHY: verifying after the download means reading the archive back and
// hashing it on the one thread that also downloads and unpacks; and loading openpgp.js + the key
// costs that thread ~60-100 ms. In the worker both happen on another core, during the download, so
// the verdict is ready soon after the last byte (bench/install.bench.js). The verdict is the same
// code's as for a file (verifyDetachedStream / verifyDetachedFile in src/verify/verify-file.ts).
//
// Safety is unchanged: the download hashes exactly the bytes it sends here (DownloadFollower), so
// its SHA-256 is the digest of the bytes the signature was checked over, and unpacking demands it
// of the file (src/install/unpack.ts): nothing but verified bytes is ever unpacked. Anything odd
// (the worker dies, the bytes end short) fails the verification; it never passes it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InterruptedError, fromWireError } from '../errors';
import type { DownloadFollower } from '../fetch/types';
import type { FromWorker, KeyFacts, ToWorker, WorkerInit } from './stream-protocol';
import type { VerifyResult } from './verify-file';

export interface StreamVerifierOptions extends WorkerInit {
  signal?: AbortSignal;
  /**
   * How long a download may wait for the worker to take bytes (default 3 s): longer, and the
   * session stops following it (the download goes on unhindered; its file is verified from disk
   * afterwards). The worker takes nothing before the signature is in, so this bounds how long the
   * archive waits on a late `.asc` (one whose download is retrying).
   */
  followStallMs?: number;
}

/**
 * Bytes are sent to the worker in batches of this size (one message each), gathered in one buffer
 * that is reused: postMessage copies it. WHY not transfer a fresh buffer per batch: the fresh
 * memory costs this thread page faults, and at 300 MB the transferred buffers piled up in the
 * worker before its GC freed them (peak RSS +55 MB over 30 MB in a full bench run, against +5 to
 * +21 MB copied); copying was no slower on the clock either.
 */
const BATCH_BYTES = 1 << 20;
/**
 * Batches sent but not yet taken for hashing, at most: the download waits beyond that (its TCP
 * window closes), so memory stays flat when the worker is slower, or waits for the signature.
 */
const BATCHES_IN_FLIGHT = 4;
/** StreamVerifierOptions.followStallMs's default. */
const FOLLOW_STALL_MS = 3000;

/** The worker following one download attempt's bytes, and its verdict on them. */
export interface VerifySession extends DownloadFollower {
  /** True once end() was called: the download completed and the worker follows it to its end. */
  readonly complete: boolean;
  /** True once abort() was called: this download attempt failed and its verdict means nothing. */
  readonly abandoned: boolean;
  readonly result: Promise<VerifyResult>;
}

interface Pending {
  resolve: (r: VerifyResult) => void;
  reject: (e: Error) => void;
}

export class StreamVerifier {
  /** The key facts (fingerprint, source, warnings); rejects with the key's error (e.g. a bad --signing-key). */
  readonly key: Promise<KeyFacts>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions = new Map<number, Session>();
  private nextId = 1;
  private failure: Error | null = null;
  /** Settles once the worker has stopped (after fail()). */
  private stopped: Promise<void> = Promise.resolve();
  private keyPending = true;
  private rejectKey: (e: Error) => void = () => undefined;
  private readonly onAbort = (): void => this.fail(new InterruptedError());

  constructor(private readonly o: StreamVerifierOptions = {}) {
    const init: WorkerInit = { keyFile: o.keyFile, fingerprint: o.fingerprint, strictKeyExpiry: o.strictKeyExpiry };
    this.worker = new Worker(workerEntry(), { workerData: init });
    this.key = new Promise<KeyFacts>((resolve, reject) => {
      this.rejectKey = reject;
      this.worker.on('message', (m: FromWorker) => {
        if (this.failure) return; // stopping: what the worker still had on its way means nothing
        if (m.type === 'key' || m.type === 'key-error') {
          this.keyPending = false;
          this.updateRef();
          return m.type === 'key' ? resolve(m.key) : reject(fromWireError(m.error));
        }
        this.onMessage(m);
      });
    });
    this.key.catch(() => undefined); // awaited by whoever needs it
    this.worker.on('error', (err) => this.fail(new Error(`the signature verification worker failed: ${err.message}`)));
    this.worker.on('exit', (code) => this.fail(new Error(`the signature verification worker exited (code ${code})`)));
    o.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (o.signal?.aborted) this.onAbort();
  }

  /** The detached signature file; streams are checked against it once it is given. */
  signature(file: string): void {
    this.send({ type: 'signature', file });
  }

  /** Has the worker verify one download attempt's bytes, pushed to the session as they arrive. */
  follow(file: string): VerifySession {
    const id = this.nextId++;
    const result = this.expect(id);
    const session = new Session(id, result, (m) => this.send(m), this.o.followStallMs ?? FOLLOW_STALL_MS);
    this.sessions.set(id, session);
    const forget = (): void => void this.sessions.delete(id);
    result.then(forget, forget);
    this.send({ type: 'follow', id, file });
    return session;
  }

  /** Verifies a whole file on disk in the worker (a cached download or a local archive). */
  verifyFile(file: string, signature: string): Promise<VerifyResult> {
    const id = this.nextId++;
    const result = this.expect(id);
    this.send({ type: 'verify-file', id, file, signature });
    return result;
  }

  /** Stops the worker; whatever is still pending fails. Call when the install is over. */
  async close(): Promise<void> {
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (!this.failure) this.fail(new Error('the signature verification worker was closed'));
    await this.stopped;
  }

  private expect(id: number): Promise<VerifyResult> {
    const p = new Promise<VerifyResult>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve, reject });
    });
    p.catch(() => undefined); // a dropped attempt's verdict is never awaited
    this.updateRef();
    return p;
  }

  private onMessage(m: Exclude<FromWorker, { type: 'key' | 'key-error' }>): void {
    if (m.type === 'took') return this.sessions.get(m.id)?.took();
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    this.updateRef();
    if (m.type === 'result') p.resolve(m.result);
    else p.reject(fromWireError(m.error));
  }

  private send(m: ToWorker): void {
    if (!this.failure) this.worker.postMessage(m);
  }

  /** Fails everything pending with `err` and stops the worker (fail closed). */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.keyPending) this.rejectKey(err);
    const pending = [...this.pending.values()];
    this.pending.clear();
    // Kept referenced until it has stopped: whoever awaits close() or a verdict must get there,
    // rather than the process ending (exit 0, nothing said) while the worker winds down.
    this.worker.ref();
    // Rejected only once the worker has stopped: a rejection closes the file a follower reads.
    this.stopped = this.worker
      .terminate()
      .catch(() => undefined)
      .then(() => pending.forEach((p) => p.reject(err)));
  }

  /** The worker keeps the process alive only while something waits on it. */
  private updateRef(): void {
    if (this.failure) return; // stopping: fail() keeps it referenced until it has
    if (this.keyPending || this.pending.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}

class Session implements VerifySession {
  complete = false;
  abandoned = false;
  /** True once the verdict is in (or failed): bytes are no longer needed. */
  private settled = false;
  private batch: Uint8Array | null = null;
  private filled = 0;
  private inFlight = 0;
  private waiting: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly id: number,
    readonly result: Promise<VerifyResult>,
    private readonly send: (m: ToWorker) => void,
    private readonly stallMs: number,
  ) {
    const settle = (): void => {
      this.settled = true;
      this.batch = null;
      this.release();
    };
    result.then(settle, settle);
  }

  private get over(): boolean {
    return this.complete || this.abandoned || this.settled;
  }

  push(chunk: Uint8Array): boolean {
    // Not needed any more: the download goes on unhindered. (A verdict that came before end() is
    // never a good one: the worker's stream closes only at end(), so nothing is lost by dropping.)
    if (this.over) return true;
    // Copied into the batch: the chunk is the download's.
    for (let at = 0; at < chunk.length; ) {
      this.batch ??= new Uint8Array(BATCH_BYTES);
      const n = Math.min(chunk.length - at, BATCH_BYTES - this.filled);
      this.batch.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === BATCH_BYTES) this.flush();
    }
    return this.inFlight < BATCHES_IN_FLIGHT;
  }

  ready(): Promise<void> {
    if (this.over || this.inFlight < BATCHES_IN_FLIGHT) return Promise.resolve();
    if (!this.waiting) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      // Waited too long (see StreamVerifierOptions.followStallMs): stop following, which releases.
      const timer = setTimeout(() => this.abort(), this.stallMs);
      this.waiting = {
        promise,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    }
    return this.waiting.promise;
  }

  /** The worker took a batch for hashing. */
  took(): void {
    this.inFlight--;
    if (this.inFlight < BATCHES_IN_FLIGHT) this.release();
  }

  end(size: number): void {
    if (this.complete || this.abandoned) return;
    this.flush();
    this.complete = true;
    this.send({ type: 'end', id: this.id, size });
  }

  abort(): void {
    if (this.complete || this.abandoned) return;
    this.abandoned = true;
    this.batch = null;
    this.send({ type: 'abort', id: this.id });
    this.release();
  }

  private flush(): void {
    if (!this.batch || this.filled === 0) return;
    const chunk = this.filled === BATCH_BYTES ? this.batch : this.batch.subarray(0, this.filled);
    this.send({ type: 'bytes', id: this.id, chunk }); // copied here and now: the batch is free again
    this.inFlight++;
    this.filled = 0;
  }

  private release(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.resolve();
  }
}

/** The worker's file: the built JavaScript beside this module, or (under ts-jest) the build's. */
function workerEntry(): string {
  const sibling = path.join(__dirname, 'stream-worker.js');
  if (fs.existsSync(sibling)) return sibling;
  // ts-jest runs src/ directly, but a worker needs JavaScript; `npm test` builds dist/ first.
  return path.resolve(__dirname, '..', '..', 'dist', 'verify', 'stream-worker.js');
}
