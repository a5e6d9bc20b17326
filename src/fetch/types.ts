import type { NetOptions } from './net-options';

/** Events a download reports; commands render them (src/cli/progress.ts), stages never print. */
export type ProgressEvent =
  | { type: 'start'; fileName: string; url: string; total: number | null; resumedFrom: number }
  | { type: 'progress'; fileName: string; bytes: number; total: number | null }
  | { type: 'retry'; fileName: string; attempt: number; delayMs: number; reason: string }
  | { type: 'restart'; fileName: string; reason: string }
  | { type: 'done'; fileName: string; bytes: number; fromCache: boolean };

/**
 * Follows a download's file while it is being written, e.g. to verify it as it arrives
 * (src/verify/stream-client.ts) instead of reading it all back afterwards. It reads the file
 * itself (DownloadRequest.follow); the download only says when there is more and when it is complete.
 */
export interface DownloadFollower {
  /** More bytes are in the file (a reader may still find the newest ones not there yet). */
  grew(): void;
  /** The transfer completed: the file holds all `size` bytes. */
  end(size: number): void;
  /** This attempt failed; the file is not going to be complete. */
  abort(): void;
}

export interface DownloadRequest {
  url: string;
  /** Final file name (no directories). */
  fileName: string;
  /** Where to put it; default a per-release folder of cacheDir(). */
  destDir?: string;
  /** Size the API announced; a different size is a ChecksumError (5). */
  expectedSize?: number;
  /** Hex SHA-256 (or "sha256:<hex>") the API announced; a mismatch is a ChecksumError (5). */
  expectedSha256?: string;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  net?: NetOptions;
  /**
   * Called at the start of every transfer attempt, once the `.part` is open (and truncated if the
   * attempt starts over), with a read-only handle of it, which the follower now owns and closes,
   * and the file's final name. The follower reads the whole file from byte 0 through that handle
   * (a resumed `.part` included). Not called when the file comes from the cache (fromCache).
   */
  follow?: (reader: import('node:fs/promises').FileHandle, file: string) => DownloadFollower;
}

export interface DownloadResult {
  path: string;
  size: number;
  /** Hex SHA-256 of the file as written. */
  sha256: string;
  fromCache: boolean;
}
