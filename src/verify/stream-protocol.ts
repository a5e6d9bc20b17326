// Messages between the install pipeline's thread (src/verify/stream-client.ts) and the
// verification worker (src/verify/stream-worker.ts). Types only; both sides import it.
import type { WireError } from '../errors';
import type { DigestSpec } from './signed-digest';
import type { KeySource } from './signing-key';
import type { Verdict } from './verify-file';

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
  /** A file being downloaded (one download attempt), hashed by the sender as it arrives. `file` names it in messages. */
  | { type: 'follow'; id: number; file: string }
  /** The file of `id` is complete with `size` bytes; `bytes` of them went into `digest` (made by the `spec` sent for `id`). */
  | { type: 'end'; id: number; size: number; bytes: number; digest: Uint8Array }
  /** The download attempt of `id` failed: its verification is dropped. */
  | { type: 'abort'; id: number }
  /** The detached signature every followed file is checked against (it downloads alongside). */
  | { type: 'signature'; file: string }
  /** Verify a whole file on disk instead (a cached download, a local archive). */
  | { type: 'verify-file'; id: number; file: string; signature: string };

export type FromWorker =
  | { type: 'key'; key: KeyFacts }
  | { type: 'key-error'; error: WireError }
  /** How to hash the file of `id` for its signature: the sender hashes it so, as it arrives. */
  | { type: 'spec'; id: number; spec: DigestSpec }
  /** A VerifyResult (with its sha256) for verify-file. */
  | { type: 'result'; id: number; result: Verdict }
  | { type: 'error'; id: number; error: WireError };
