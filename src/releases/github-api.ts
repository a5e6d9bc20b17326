// The GitHub REST calls the catalog needs: one release by tag, and the paginated release list.
// Through undici with its redirect interceptor; 5xx and connection errors are retried with backoff,
// each retry announced, all within one deadline; rate limits (403/429) are explained with their
// reset time rather than waited out.
import { InterruptedError, NetworkError, ReleaseNotFoundError } from '../errors';
import { USER_AGENT, describeCause, header, isRetryableError, mayCarryToken, openHttp, sleep } from '../net';
import { backoffMs, resolveNet, type ResolvedNetOptions } from '../net';
import { comparePep440, isPep440 } from './pep440';
import type { ApiOptions, Release, ReleaseSummary } from './types';

export const DEFAULT_API_URL = 'https://api.github.com';
export const DEFAULT_REPO = 'borgbackup/borg';

interface GhAsset {
  name: string;
  size: number;
  browser_download_url: string;
  digest?: string | null;
}
interface GhRelease {
  tag_name: string;
  name: string | null;
  published_at: string | null;
  prerelease: boolean;
  draft?: boolean;
  assets?: GhAsset[];
}

type Headers = Record<string, string | string[] | undefined>;
interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

function apiBase(o: ApiOptions): string {
  return (o.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
}

/** Answers worth another try: the server's own trouble (5xx), not a rate limit or a 404. */
const RETRY_STATUSES = new Set([500, 502, 503, 504]);

/**
 * One API GET with retries (connection errors, timeouts, 5xx), each announced through
 * `o.net.onRetry` before its wait, all within the API phase's one deadline (`apiDeadlineMs`, from
 * the first request of a look-up: see withApiDeadline).
 */
async function apiGet(url: string, o: ApiOptions): Promise<ApiResponse> {
  const net = resolveNet(o.net);
  const http = await openHttp(net);
  const headers: Record<string, string> = {
    accept: 'application/vnd.github+json',
    'user-agent': USER_AGENT,
    'x-github-api-version': '2022-11-28',
  };
  // Never over plain http to another machine, where anyone on the path could read it. Redirects
  // to another origin lose it too (undici's redirect interceptor strips Authorization).
  if (o.token && mayCarryToken(url)) headers.authorization = `Bearer ${o.token}`;
  try {
    for (let attempt = 1; ; attempt++) {
      let cause: string;
      let failure: unknown;
      try {
        const res = await http.get(url, { headers, signal: o.signal });
        const text = await res.body.text();
        if (!RETRY_STATUSES.has(res.statusCode) || attempt > net.maxRetries)
          return { status: res.statusCode, headers: res.headers as Headers, body: parseJson(text) };
        cause = `HTTP ${res.statusCode}`;
        failure = null;
      } catch (err) {
        if (o.signal?.aborted || err instanceof NetworkError || !isRetryableError(err) || attempt > net.maxRetries)
          throw err;
        cause = describeCause(err);
        failure = err;
      }
      const delay = backoffMs(attempt, net);
      if (o.deadline !== undefined && Date.now() + delay >= o.deadline) throw new DeadlineError(cause, failure);
      net.onRetry?.(
        `retrying in ${(delay / 1000).toFixed(delay < 10_000 ? 1 : 0)} s (${attempt}/${net.maxRetries}): ${cause}`,
      );
      await sleep(delay, o.signal);
    }
  } catch (err) {
    if (o.signal?.aborted)
      throw o.deadline !== undefined && Date.now() >= o.deadline ? deadlineFailure(url, net) : new InterruptedError();
    if (err instanceof NetworkError) throw err; // already one line (e.g. a refused https -> http redirect)
    if (err instanceof DeadlineError) throw deadlineFailure(url, net, err.message);
    throw new NetworkError(
      `GitHub API request ${url} failed: ${describeCause(err)}; check the network or --api-url and retry`,
      { cause: err },
    );
  } finally {
    // The answer is read; the connection winds down in the background. close() never rejects.
    void http.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** The next retry would end past the deadline. */
class DeadlineError extends Error {
  constructor(
    cause: string,
    readonly failure: unknown,
  ) {
    super(cause);
  }
}

function deadlineFailure(url: string, net: ResolvedNetOptions, cause?: string): NetworkError {
  const s = Math.round(net.apiDeadlineMs / 1000);
  return new NetworkError(`GitHub API did not answer ${url} within ${s} s${cause ? ` (last: ${cause})` : ''}`, {
    hint: `check the network or --api-url; BORG_PROVISION_NET=apiDeadlineMs=${net.apiDeadlineMs * 2} waits longer`,
  });
}

/**
 * Runs one API look-up (which may take several requests: tag spellings, pages) within one deadline:
 * `apiDeadlineMs` from now, however many requests and retries it takes.
 */
async function withApiDeadline<T>(o: ApiOptions, work: (o: ApiOptions) => Promise<T>): Promise<T> {
  if (o.deadline !== undefined) return work(o);
  const net = resolveNet(o.net);
  const timeout = AbortSignal.timeout(net.apiDeadlineMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  return work({ ...o, signal, deadline: Date.now() + net.apiDeadlineMs });
}

/** A one-line explanation of a non-2xx API answer (rate limit with its reset time, bad token, ...). */
function apiFailure(url: string, r: ApiResponse, token: string | undefined): NetworkError {
  const tokenSet = Boolean(token);
  const hint = !tokenSet
    ? 'wait for the reset, or set GITHUB_TOKEN to raise the limit'
    : mayCarryToken(url)
      ? 'wait for the reset'
      : 'wait for the reset; GITHUB_TOKEN is not sent over plain http, use an https --api-url';
  const remaining = header(r.headers, 'x-ratelimit-remaining');
  const message = (r.body as { message?: string } | null)?.message;
  if ((r.status === 403 || r.status === 429) && (remaining === '0' || header(r.headers, 'retry-after'))) {
    return new NetworkError(
      `GitHub API rate limit reached (${url}, HTTP ${r.status}): ${resetText(r.headers)}; ${hint}`,
    );
  }
  if (r.status === 401) {
    return new NetworkError(`GitHub API refused the token (${url}, HTTP 401): check GITHUB_TOKEN or unset it`);
  }
  return new NetworkError(`GitHub API request ${url} failed: HTTP ${r.status}${message ? ` (${message})` : ''}`);
}

function resetText(h: Headers): string {
  const reset = Number(header(h, 'x-ratelimit-reset'));
  const retryAfter = Number(header(h, 'retry-after'));
  const at =
    Number.isFinite(reset) && reset > 0
      ? reset * 1000
      : Number.isFinite(retryAfter)
        ? Date.now() + retryAfter * 1000
        : NaN;
  if (Number.isNaN(at)) return 'no reset time given';
  const minutes = Math.max(0, Math.ceil((at - Date.now()) / 60000));
  return `it resets at ${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')} (in ${minutes} min)`;
}

function toRelease(g: GhRelease): Release {
  return {
    ...toSummary(g),
    assets: (g.assets ?? []).map((a) => ({
      name: a.name,
      size: a.size,
      url: a.browser_download_url,
      digest: typeof a.digest === 'string' && a.digest ? a.digest : null,
    })),
  };
}

function toSummary(g: GhRelease): ReleaseSummary {
  return {
    tag: g.tag_name,
    version: g.tag_name.replace(/^v(?=\d)/, ''),
    name: g.name ?? g.tag_name,
    publishedAt: g.published_at,
    prerelease: g.prerelease,
  };
}

function isRelease(x: unknown): x is GhRelease {
  return typeof x === 'object' && x !== null && typeof (x as GhRelease).tag_name === 'string';
}

/** One release by version, "1.4.2" or "v1.4.2" (both tag spellings are tried). */
export async function getRelease(version: string, options: ApiOptions = {}): Promise<Release> {
  return withApiDeadline(options, (o) => findRelease(version, o));
}

async function findRelease(version: string, o: ApiOptions): Promise<Release> {
  const bare = version.trim().replace(/^v(?=\d)/, '');
  const repo = o.repo ?? DEFAULT_REPO;
  for (const tag of [...new Set([version.trim(), bare, `v${bare}`])]) {
    const url = `${apiBase(o)}/repos/${repo}/releases/tags/${encodeURIComponent(tag)}`;
    const r = await apiGet(url, o);
    if (r.status === 404) continue;
    if (r.status !== 200) throw apiFailure(url, r, o.token);
    if (!isRelease(r.body)) throw new NetworkError(`GitHub API answered ${url} with something that is not a release`);
    return toRelease(r.body);
  }
  throw new ReleaseNotFoundError(await notFoundMessage(bare, o));
}

async function notFoundMessage(version: string, o: ApiOptions): Promise<string> {
  const repo = o.repo ?? DEFAULT_REPO;
  let near: string[] = [];
  try {
    near = nearestVersions(
      version,
      (await listReleases({ ...o, limit: 300 })).map((r) => r.version),
    );
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
  }
  const list = near.length ? `the nearest releases are ${near.join(', ')}` : 'no release list could be read';
  return `borg release ${version} does not exist in ${repo}: ${list} (see borg-provision releases)`;
}

/** Up to two releases below and two above the requested version, nearest first within each side. */
export function nearestVersions(version: string, versions: string[], each = 2): string[] {
  const known = [...new Set(versions)].filter(isPep440).sort(comparePep440);
  if (!isPep440(version)) return known.slice(-2 * each).reverse();
  const below = known
    .filter((v) => comparePep440(v, version) < 0)
    .slice(-each)
    .reverse();
  const above = known.filter((v) => comparePep440(v, version) > 0).slice(0, each);
  return [...below, ...above];
}

/** The most recent releases (GitHub's order: newest first), following Link rel="next". Drafts skipped. */
export async function listReleases(o: ApiOptions & { limit?: number } = {}): Promise<ReleaseSummary[]> {
  return (await listGhReleases(o)).map(toSummary);
}

/** Like listReleases, with each release's assets (GitHub's list holds them: no request more). */
export async function listReleasesWithAssets(o: ApiOptions & { limit?: number } = {}): Promise<Release[]> {
  return (await listGhReleases(o)).map(toRelease);
}

async function listGhReleases(options: ApiOptions & { limit?: number }): Promise<GhRelease[]> {
  return withApiDeadline(options, (o) => listPages({ ...o, limit: options.limit }));
}

async function listPages(o: ApiOptions & { limit?: number }): Promise<GhRelease[]> {
  const limit = Math.max(1, o.limit ?? 30);
  const out: GhRelease[] = [];
  let url: string | null = `${apiBase(o)}/repos/${o.repo ?? DEFAULT_REPO}/releases?per_page=${Math.min(limit, 100)}`;
  for (let page = 0; url && out.length < limit && page < 50; page++) {
    const r = await apiGet(url, o);
    if (r.status !== 200) throw apiFailure(url, r, o.token);
    if (!Array.isArray(r.body))
      throw new NetworkError(`GitHub API answered ${url} with something that is not a release list`);
    for (const g of r.body) if (isRelease(g) && !g.draft) out.push(g);
    url = nextLink(header(r.headers, 'link'), url);
  }
  return out.slice(0, limit);
}

/**
 * The next page, only on the origin of the page that named it (the API base): the request carries
 * GITHUB_TOKEN, and a Link header must not be able to send it elsewhere. A foreign Link is an error
 * rather than the end of the list, so a short list is never shown as if it were complete.
 */
function nextLink(link: string | undefined, current: string): string | null {
  const m = link ? /<([^>]+)>\s*;\s*rel="next"/.exec(link) : null;
  if (!m) return null;
  let next: URL;
  try {
    next = new URL(m[1], current);
  } catch {
    throw new NetworkError(`GitHub API release list names a next page that is not a URL (${m[1]}): check --api-url`);
  }
  const origin = new URL(current).origin;
  if (next.origin !== origin) {
    throw new NetworkError(
      `GitHub API release list points its next page to ${next.origin} instead of ${origin}: refused; check --api-url`,
    );
  }
  return next.toString();
}
