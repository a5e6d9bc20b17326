import type { NetOptions } from './net-options';

/** Events a download reports; commands render them (src/cli/progress.ts), stages never print. */
export type ProgressEvent =
  | { type: 'start'; fileName: string; url: string; total: number | null; resumedFrom: number }
  | { type: 'progress'; fileName: string; bytes: number; total: number | null }
  | { type: 'retry'; fileName: string; attempt: number; delayMs: number; reason: string }
  | { type: 'restart'; fileName: string; reason: string }
  | { type: 'done'; fileName: string; bytes: number; fromCache: boolean };

/**
 * Takes a download's bytes as they arrive, e.g. to verify them meanwhile (src/verify/stream-client.ts)
 * instead of reading the file back afterwards. It is handed exactly the bytes the download hashes
 * into DownloadResult.sha256, in file order from byte 0 (a resumed `.part`'s bytes first, read
 * back), so that digest is of the very bytes the follower saw.
 */
export interface DownloadFollower {
  /**
   * The file's next bytes. The follower copies what it keeps (the chunk is the download's). False
   * when it has enough in hand: the download then waits for ready() before it hands over more, so
   * memory stays flat when the follower is slower than the network.
   */
  push(chunk: Uint8Array): boolean;
  /**
   * Settles once the follower takes bytes again (or no longer needs any). It must settle in bounded
   * time: the download waits for it (an abort of the download ends the wait too).
   */
  ready(): Promise<void>;
  /** The transfer completed: the file holds all `size` bytes, every one of them pushed. */
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
   * Called for every transfer attempt whose response is accepted, once the `.part` is open (and
   * truncated if the attempt starts over), with the file's final name. The follower is pushed the
   * whole file from byte 0. Not called when the file comes from the cache (fromCache).
   */
  follow?: (file: string) => DownloadFollower;
}

export interface DownloadResult {
  path: string;
  size: number;
  /** Hex SHA-256 of the file as written. */
  sha256: string;
  fromCache: boolean;
}
