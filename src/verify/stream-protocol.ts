// Messages between the install pipeline's thread (src/verify/stream-client.ts) and the
// verification worker (src/verify/stream-worker.ts). Types only; both sides import it.
import type { WireError } from '../errors';
import type { KeySource } from './signing-key';
import type { VerifyResult } from './verify-file';

export interface WorkerInit {
  keyFile?: string;
  fingerprint?: string;
  strictKeyExpiry?: boolean;
}

/** What the main thread learns of the signing key (openpgp.js objects stay in the worker). */
export interface KeyFacts {
  fingerprint: string;
  source: KeySource;
  pinned: boolean;
  path: string;
  warnings: string[];
}

export type ToWorker =
  /** A file being downloaded (one download attempt), whose bytes follow as `bytes` messages. `file` names it in messages. */
  | { type: 'follow'; id: number; file: string }
  /** The next bytes of the file of `id`, in order (a copy: the sender reuses its buffer). */
  | { type: 'bytes'; id: number; chunk: Uint8Array }
  /** The file of `id` is complete with `size` bytes, all of them sent. */
  | { type: 'end'; id: number; size: number }
  /** The download attempt of `id` failed: its verification is dropped. */
  | { type: 'abort'; id: number }
  /** The detached signature every followed file is checked against (it downloads alongside). */
  | { type: 'signature'; file: string }
  /** Verify a whole file on disk instead (a cached download, a local archive). */
  | { type: 'verify-file'; id: number; file: string; signature: string };

export type FromWorker =
  | { type: 'key'; key: KeyFacts }
  | { type: 'key-error'; error: WireError }
  /** One `bytes` message of `id` was taken for hashing: the sender may send one more (flow control). */
  | { type: 'took'; id: number }
  | { type: 'result'; id: number; result: VerifyResult }
  | { type: 'error'; id: number; error: WireError };
