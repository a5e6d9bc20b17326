// Signature checks in a worker thread (src/verify/stream-worker.ts) while the archive downloads.
// WHY: loading openpgp.js + the key and judging the key costs ~60-100 ms, which the worker spends
// on another core during the download. The bytes themselves never cross over: the worker sends how
// to hash the file for its signature (a DigestSpec), this thread's download hashes each chunk as it
// arrives (SignedDigest, one pass over bytes it has in hand), and the worker judges the digest at
// the end (src/verify/verify-file.ts, concludeStreamed). So the verdict comes the moment the last
// byte is in, and no byte is copied to another thread.
//
// Safety is unchanged: the download hashes exactly the bytes it pushes here into its SHA-256 as
// well (DownloadFollower), so that SHA-256 is of the bytes the signature was checked over, and
// unpacking demands it of the file (src/install/unpack.ts): nothing but verified bytes is ever
// unpacked. Anything odd (the worker dies, the bytes end short) fails the verification; it never
// passes it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { InterruptedError, fromWireError } from '../errors';
import type { DownloadFollower } from '../fetch/types';
import { SignedDigest, type DigestSpec } from './signed-digest';
import type { FromWorker, KeyFacts, ToWorker, WorkerInit } from './stream-protocol';
import type { Verdict, VerifyResult } from './verify-file';

export interface StreamVerifierOptions extends WorkerInit {
  signal?: AbortSignal;
  /**
   * How long a download may wait for the worker to say how to hash it (default 3 s): longer, and
   * the session stops following it (the download goes on unhindered; its file is verified from disk
   * afterwards). The worker says so once the signature is in, so this bounds how long the archive
   * waits on a late `.asc` (one whose download is retrying).
   */
  followStallMs?: number;
}

/**
 * Bytes a session keeps while it does not yet know how to hash them (the worker has not read the
 * signature yet): the download waits beyond that (its TCP window closes), so memory stays flat.
 */
const EARLY_BYTES = 4 << 20;
/** StreamVerifierOptions.followStallMs's default. */
const FOLLOW_STALL_MS = 3000;

/** The worker following one download attempt's bytes, and its verdict on them. */
export interface VerifySession extends DownloadFollower {
  /** True once end() was called: the download completed, and the worker judges its digest. */
  readonly complete: boolean;
  /** True once abort() was called: this download attempt failed and its verdict means nothing. */
  readonly abandoned: boolean;
  readonly result: Promise<Verdict>;
}

interface Pending {
  resolve: (r: Verdict) => void;
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
    const result = this.expect<VerifyResult>(id);
    this.send({ type: 'verify-file', id, file, signature });
    return result;
  }

  /** Stops the worker; whatever is still pending fails. Call when the install is over. */
  async close(): Promise<void> {
    this.o.signal?.removeEventListener('abort', this.onAbort);
    if (!this.failure) this.fail(new Error('the signature verification worker was closed'));
    await this.stopped;
  }

  /** The worker's answer for `id`: a VerifyResult for verify-file, a Verdict for a followed download. */
  private expect<T extends Verdict>(id: number): Promise<T> {
    const p = new Promise<T>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve: resolve as (r: Verdict) => void, reject });
    });
    p.catch(() => undefined); // a dropped attempt's verdict is never awaited
    this.updateRef();
    return p;
  }

  private onMessage(m: Exclude<FromWorker, { type: 'key' | 'key-error' }>): void {
    if (m.type === 'spec') return this.sessions.get(m.id)?.start(m.spec);
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
    // Rejected only once the worker has stopped: whoever handles the failure finds no thread still
    // at work on its behalf.
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
  /** Hashes every byte as it comes, once the worker has said how (start()); null again once sent. */
  private digest: SignedDigest | null = null;
  /** Copies of the bytes that came before that. */
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  /** The file's size, once end() has said it. */
  private size: number | null = null;
  private waiting: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(
    private readonly id: number,
    readonly result: Promise<Verdict>,
    private readonly send: (m: ToWorker) => void,
    private readonly stallMs: number,
  ) {
    const settle = (): void => {
      this.settled = true;
      this.drop();
    };
    result.then(settle, settle);
  }

  private get over(): boolean {
    return this.complete || this.abandoned || this.settled;
  }

  push(chunk: Uint8Array): boolean {
    // Not needed any more: the download goes on unhindered. (A verdict that came before end() is
    // never a good one: the worker judges only at end(), so nothing is lost by dropping.)
    if (this.over) return true;
    if (this.digest) {
      this.digest.update(chunk);
      return true;
    }
    this.early.push(new Uint8Array(chunk)); // a copy: the chunk is the download's
    this.earlyBytes += chunk.length;
    return this.earlyBytes < EARLY_BYTES;
  }

  ready(): Promise<void> {
    if (this.over || this.digest || this.earlyBytes < EARLY_BYTES) return Promise.resolve();
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

  /** The worker says how to hash the file: what came early first, then each byte as it comes. */
  start(spec: DigestSpec): void {
    if (this.abandoned || this.settled) return;
    let digest: SignedDigest;
    try {
      digest = new SignedDigest(spec);
    } catch {
      return this.abort(); // a hash this Node lacks: the file is verified from disk, which says so
    }
    for (const chunk of this.early) digest.update(chunk);
    this.digest = digest;
    this.early = [];
    this.earlyBytes = 0;
    if (this.complete) this.finish();
    this.release();
  }

  end(size: number): void {
    if (this.complete || this.abandoned) return;
    this.complete = true;
    this.size = size;
    if (this.digest && !this.settled) this.finish();
  }

  abort(): void {
    if (this.complete || this.abandoned) return;
    this.abandoned = true;
    this.drop();
    this.send({ type: 'abort', id: this.id });
  }

  /** All bytes are in and hashed: the worker judges the digest. */
  private finish(): void {
    const digest = this.digest as SignedDigest;
    this.send({ type: 'end', id: this.id, size: this.size as number, bytes: digest.bytes, digest: digest.digest() });
    this.digest = null;
  }

  /** Nothing more will be hashed: let go of what is held, and of a waiting download. */
  private drop(): void {
    this.early = [];
    this.earlyBytes = 0;
    this.digest = null;
    this.release();
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
