// Network options for talking to a stand-in on 127.0.0.1: short backoffs, and the retries and
// timeouts each test names (a loopback server answers at once or not at all).
import { createHash } from 'node:crypto';
import type { NetOptions } from '../../src/net';

export function loopbackNet(o: Pick<NetOptions, 'maxRetries'> & Partial<NetOptions>): NetOptions {
  return { minBackoffMs: 5, maxBackoffMs: 20, ...o };
}

/** The SHA-256 of `b` in hex, to compare a download with what the stand-in served. */
export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
