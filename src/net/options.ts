// Network tuning shared by the GitHub API client and the downloader. Defaults suit a slow or
// flaky link; tests pass short values so faults resolve in milliseconds.

export interface NetOptions {
  /** TCP+TLS connect timeout. */
  connectTimeoutMs?: number;
  /** Time allowed for the response headers to arrive. */
  headersTimeoutMs?: number;
  /** Longest silence allowed between two chunks of the body (a stalled transfer). */
  bodyTimeoutMs?: number;
  /** Retries after the first attempt, for connection errors, timeouts, 5xx and 429. */
  maxRetries?: number;
  /** First backoff delay; doubled per retry up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** No retry is started once this much time has passed since the first attempt. */
  maxTotalMs?: number;
  /** Redirect hops followed before giving up (GitHub uses one). */
  maxRedirections?: number;
  /** The whole of one GitHub API look-up, every request and retry included. */
  apiDeadlineMs?: number;
  /** Told one line per HTTP request, answer and failed attempt (the CLI's --verbose); stages never print. */
  log?: (line: string) => void;
  /** Told each API retry before its wait ("retrying in 4 s (2/5): connection refused"). */
  onRetry?: (line: string) => void;
}

type Callbacks = 'log' | 'onRetry';
export type ResolvedNetOptions = Required<Omit<NetOptions, Callbacks>> & Pick<NetOptions, Callbacks>;

export const DEFAULT_NET: ResolvedNetOptions = {
  connectTimeoutMs: 15_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  maxRetries: 5,
  minBackoffMs: 1_000,
  maxBackoffMs: 30_000,
  maxTotalMs: 10 * 60_000,
  maxRedirections: 5,
  apiDeadlineMs: 90_000,
};

export function resolveNet(o: NetOptions | undefined): ResolvedNetOptions {
  const out = { ...DEFAULT_NET };
  for (const [k, v] of Object.entries(o ?? {})) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0)
      out[k as Exclude<keyof ResolvedNetOptions, Callbacks>] = v;
  }
  if (typeof o?.log === 'function') out.log = o.log;
  if (typeof o?.onRetry === 'function') out.onRetry = o.onRetry;
  return out;
}

/**
 * Tuning from the environment, for scripted runs on odd links and for the CLI tests:
 * BORG_PROVISION_NET='bodyTimeoutMs=300,minBackoffMs=10'. Unknown keys are ignored.
 */
export function netOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): NetOptions {
  const out: NetOptions = {};
  for (const part of (env.BORG_PROVISION_NET ?? '').split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k && v && k in DEFAULT_NET && /^\d+$/.test(v)) (out as Record<string, number>)[k] = Number(v);
  }
  return out;
}

/** Exponential backoff for retry n (1-based), capped. */
export function backoffMs(n: number, o: ResolvedNetOptions): number {
  return Math.min(o.minBackoffMs * 2 ** (n - 1), o.maxBackoffMs);
}

/** Retry-After as milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
