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
  /**
   * A file being downloaded (one download attempt), to be read through `fd` (a descriptor of this
   * process, shared by its threads) from byte 0 as it grows. `file` names it in messages.
   */
  | { type: 'follow'; id: number; fd: number; file: string }
  /** The file of `id` has grown. */
  | { type: 'grew'; id: number }
  /** The file of `id` is complete with `size` bytes. */
  | { type: 'end'; id: number; size: number }
  /** The download attempt of `id` failed: its verification is dropped (its descriptor closes next). */
  | { type: 'abort'; id: number }
  /** The detached signature every followed file is checked against (it downloads alongside). */
  | { type: 'signature'; file: string }
  /** Verify a whole file on disk instead (a cached download, a local archive). */
  | { type: 'verify-file'; id: number; file: string; signature: string };

export type FromWorker =
  | { type: 'key'; key: KeyFacts }
  | { type: 'key-error'; error: WireError }
  | { type: 'result'; id: number; result: VerifyResult }
  | { type: 'error'; id: number; error: WireError };
