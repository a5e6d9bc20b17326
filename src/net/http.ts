// One place that builds undici dispatchers and turns undici/socket errors into plain causes.
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header';
import { NetworkError } from '../errors';
import type { ResolvedNetOptions } from './options';

export const USER_AGENT = 'borg-provision (+https://github.com/borgbackup/borg)';

/** A GET through one dispatcher of ours, and the way to close its connections. */
export interface HttpClient {
  get(url: string, o: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<Dispatcher.ResponseData>;
  close(): Promise<void>;
}

/**
 * An Agent with our timeouts that follows redirects with a bound (undici's redirect interceptor;
 * it drops Authorization, Cookie and Proxy-Authorization when a redirect leaves the origin: checked
 * in undici 7's redirect-handler.js, so a token never reaches the asset host) but never from https
 * to plain http.
 * `retry` adds undici's retry interceptor, used for small idempotent API calls.
 * undici is loaded here, when a command first talks to a server, not when a stage is imported:
 * detect, backup and schedule never do.
 */
export async function openHttp(
  o: ResolvedNetOptions,
  retry = false,
  tls: { ca?: string | Buffer } = {},
): Promise<HttpClient> {
  const { Agent, interceptors, request } = await import('undici');
  const agent = new Agent({
    // `tls.ca`: tests trust a throwaway certificate; the CLI uses the system's CAs.
    connect: { timeout: o.connectTimeoutMs, ...tls },
    headersTimeout: o.headersTimeoutMs,
    bodyTimeout: o.bodyTimeoutMs,
  });
  // compose() wraps left to right: the first entry sits next to the Agent and sees every hop.
  const chain = [refuseDowngrade(), interceptors.redirect({ maxRedirections: o.maxRedirections })];
  // Next to the Agent, the log sees every attempt: each redirect hop and each retry.
  if (o.log) chain.unshift(logRequests(o.log));
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
  return {
    get: (url, r) => request(url, { method: 'GET', headers: r.headers, signal: r.signal, dispatcher }),
    close: () => agent.destroy().catch(() => undefined),
  };
}

/**
 * Whether a bearer token may travel to `url`: over https, or over plain http only to this machine
 * (loopback: tests and local mirrors). Plain http to any other host would show it to the network.
 */
export function mayCarryToken(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && isLoopbackHost(u.hostname);
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return net.isIPv6(host) && (host === '::1' || /^::ffff:127\./i.test(host));
}

/** True when following `from` -> `to` would drop from https to plain http. */
export function isDowngrade(from: string, to: string): boolean {
  return new URL(from).protocol === 'https:' && new URL(to).protocol === 'http:';
}

/** One line per request sent, answer received and attempt failed (never headers: they may hold the token). */
export function logRequests(log: (line: string) => void): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const url = new URL(opts.path, opts.origin).toString();
    const method = opts.method ?? 'GET';
    log(`http: ${method} ${url}`);
    const inner = handler as Dispatcher.DispatchHandler;
    const logged: Dispatcher.DispatchHandler = {
      onRequestStart: (c, ctx) => inner.onRequestStart?.(c, ctx),
      onRequestUpgrade: (c, status, h, socket) => inner.onRequestUpgrade?.(c, status, h, socket),
      onResponseStart: (c, status, h, message) => {
        const to = status >= 300 && status < 400 && typeof h.location === 'string' ? ` -> ${h.location}` : '';
        log(`http: ${method} ${url}: ${status}${to}`);
        inner.onResponseStart?.(c, status, h, message);
      },
      onResponseData: (c, chunk) => inner.onResponseData?.(c, chunk),
      onResponseEnd: (c, trailers) => inner.onResponseEnd?.(c, trailers),
      onResponseError: (c, err) => {
        log(`http: ${method} ${url} failed: ${describeCause(err)}`);
        inner.onResponseError?.(c, err);
      },
    };
    return dispatch(opts, logged);
  };
}

/**
 * Refuses a redirect from https to plain http: undici's redirect interceptor follows it, and the
 * bytes (or an API answer) would then come over a connection anyone on the path can change. Placed
 * between the redirect interceptor and the Agent, so it sees every hop's 3xx and where it points.
 */
export function refuseDowngrade(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const from = new URL(opts.path, opts.origin).toString();
    return dispatch(opts, new DowngradeGuard(from, handler as Dispatcher.DispatchHandler));
  };
}

class DowngradeGuard implements Dispatcher.DispatchHandler {
  constructor(
    private readonly from: string,
    private readonly inner: Dispatcher.DispatchHandler,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.inner.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.inner.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    const location = statusCode >= 300 && statusCode < 400 ? headers.location : undefined;
    if (typeof location === 'string') {
      const to = new URL(location, this.from).toString();
      // Thrown here, undici aborts the request with this very error (as for its own "max redirects").
      if (isDowngrade(this.from, to)) {
        throw new NetworkError(
          `refusing the redirect from ${this.from} to ${to}: it drops from https to plain http; report it to the server's owner`,
        );
      }
    }
    this.inner.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.inner.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.inner.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.inner.onResponseError?.(controller, error);
  }
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
