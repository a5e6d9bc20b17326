import type { NetOptions } from '../net';

/** Events a download reports; commands render them (src/cli/progress.ts), stages never print. */
export type ProgressEvent =
  | { type: 'start'; fileName: string; url: string; total: number | null; resumedFrom: number }
  | { type: 'progress'; fileName: string; bytes: number; total: number | null }
  | { type: 'retry'; fileName: string; attempt: number; delayMs: number; reason: string }
  | { type: 'restart'; fileName: string; reason: string }
  | { type: 'done'; fileName: string; bytes: number; fromCache: boolean };

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
}

export interface DownloadResult {
  path: string;
  size: number;
  /** Hex SHA-256 of the file as written. */
  sha256: string;
  fromCache: boolean;
}
