// One place that builds undici dispatchers and turns undici/socket errors into plain causes.
import { Agent, interceptors, type Dispatcher } from 'undici';
import type { ResolvedNetOptions } from './net-options';

export const USER_AGENT = 'borg-provision (+https://github.com/borgbackup/borg)';

/**
 * An Agent with our timeouts that follows redirects with a bound (undici's redirect interceptor;
 * it drops Authorization when a redirect leaves the origin, so a token never reaches the asset host).
 * `retry` adds undici's retry interceptor, used for small idempotent API calls.
 */
export function makeDispatcher(o: ResolvedNetOptions, retry = false): { dispatcher: Dispatcher; close: () => Promise<void> } {
  const agent = new Agent({
    connect: { timeout: o.connectTimeoutMs },
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.bodyTimeoutMs,
  });
  const chain = [interceptors.redirect({ maxRedirections: o.maxRedirections })];
  if (retry) {
    chain.push(
      interceptors.retry({
        maxRetries: o.maxRetries,
        minTimeout: o.minBackoffMs,
        maxTimeout: o.maxBackoffMs,
        timeoutFactor: 2,
        methods: ['GET'],
        // 403/429 from GitHub's API are rate limits: explained to the user, not waited out.
        statusCodes: [500, 502, 503, 504],
        errorCodes: [...RETRYABLE_CODES],
      }),
    );
  }
  const dispatcher = agent.compose(...chain);
  return { dispatcher, close: () => agent.destroy().catch(() => undefined) };
}

/**
 * Connection-level failures worth another attempt. ENOTFOUND is left out on purpose: it is the
 * resolver's definite "no such host" (a typo in --api-url, or no network at all), and retrying it
 * only made the user wait ~30 s for the same answer; EAI_AGAIN is the resolver's temporary failure.
 */
export const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_CLOSED',
]);

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed before the transfer completed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response headers',
  UND_ERR_BODY_TIMEOUT: 'the transfer stalled (body timeout)',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the body was shorter than its Content-Length',
};

/** The error code of an undici/Node error, looking through `cause` chains (AggregateError too). */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_REQ_RETRY') return code;
    const inner = (e as { errors?: unknown[] }).errors?.[0];
    e = (e as { cause?: unknown }).cause ?? inner;
  }
  return undefined;
}

/** A short human cause for a network error ("connection refused", "the transfer stalled"). */
export function describeCause(err: unknown): string {
  const code = errorCode(err);
  if (code && CAUSES[code]) return CAUSES[code];
  const msg = err instanceof Error ? err.message : String(err);
  return code ? `${msg} (${code})` : msg;
}

export function isRetryableError(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** Header value as one string. */
export function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves after ms, or rejects with the signal's reason when it fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
