/**
 * A stand-in for GitHub on 127.0.0.1, for tests of the catalog, the downloader and install.
 *
 *   const gh = await startGithubServer();
 *   gh.addRelease('1.4.5', [{ name: 'borg-linux-glibc231-x86_64.tgz', body }], { withDigest: true });
 *   // --api-url gh.apiUrl ; asset URLs in the JSON are gh.downloadUrl(tag, name)
 *   gh.setFault({ kind: 'cut', afterBytes: 1000 });   // the next matching asset answer breaks
 *   gh.requests   // log: { server: 'api' | 'assets', method, path, headers }
 *   await gh.close();
 *
 * Two real HTTP servers, like GitHub: the API server answers
 *   GET /repos/<owner>/<repo>/releases?per_page=N&page=P   (newest first, Link rel="next"/"last")
 *   GET /repos/<owner>/<repo>/releases/tags/<tag>          (404 {"message":"Not Found"} if unknown)
 *   GET /<owner>/<repo>/releases/download/<tag>/<name>     (the browser_download_url: a 302 to the
 *                                                           asset server, as github.com redirects to
 *                                                           objects.githubusercontent.com)
 * and the asset server sends the bytes with Content-Length, a strong ETag, Last-Modified,
 * Accept-Ranges, and honours Range + If-Range (206 with Content-Range, 416 past the end,
 * 200 with the whole file when If-Range does not match).
 *
 * `closeAfterResponse` makes both servers close the connection after each answer (HTTP/1.0 style).
 *
 * Faults (setFault adds one; each applies to the next `times` matching requests, default 1;
 * `match` is a substring of the request path; `on` picks the server, default 'assets' except
 * 'rate-limit' which defaults to 'api'):
 *   { kind: 'cut', afterBytes }        send N body bytes, then destroy the connection
 *   { kind: 'short', missingBytes }    announce the full Content-Length, send fewer, close cleanly
 *   { kind: 'stall', afterBytes }      send N bytes, then go silent (until the client gives up)
 *   { kind: 'hang' }                   accept the request, never answer (no headers)
 *   { kind: 'status', status }         answer with that status (500, 503, 404, ...)
 *   { kind: 'retry-after', seconds }   429 with Retry-After
 *   { kind: 'redirect-loop' }          302 to itself, until clearFaults()
 *   { kind: 'rate-limit', resetInSeconds? }  403 with X-RateLimit-Remaining: 0 and X-RateLimit-Reset
 *   { kind: 'ignore-range' }           200 with the whole file even to a Range request
 * clearFaults() removes the remaining ones.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeAsset {
  name: string;
  body: Buffer;
}

export interface ReleaseOptions {
  prerelease?: boolean;
  /** Publish "sha256:<hex>" digests, as GitHub does for newer uploads. */
  withDigest?: boolean;
  publishedAt?: string;
  /** Announce this size in the JSON instead of the real one (to test the size check). */
  announcedSize?: Record<string, number>;
  /** Announce this digest instead of the real one. */
  announcedDigest?: Record<string, string>;
  /** Release notes (GitHub's `body`): makes the API answer as large as a test needs. */
  notes?: string;
}

export type Fault = { match?: string; times?: number; on?: 'api' | 'assets' } & (
  | { kind: 'cut'; afterBytes: number }
  | { kind: 'short'; missingBytes: number }
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'hang' }
  | { kind: 'status'; status: number }
  | { kind: 'retry-after'; seconds: number }
  | { kind: 'redirect-loop' }
  | { kind: 'rate-limit'; resetInSeconds?: number }
  | { kind: 'ignore-range' }
);

export interface LoggedRequest {
  server: 'api' | 'assets';
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface GithubServer {
  apiUrl: string;
  assetBaseUrl: string;
  repo: string;
  addRelease(tag: string, assets: FakeAsset[], opts?: ReleaseOptions): void;
  /** Replaces the bytes of an asset (a re-upload): its ETag changes. */
  replaceAsset(tag: string, name: string, body: Buffer): void;
  downloadUrl(tag: string, name: string): string;
  assetBody(tag: string, name: string): Buffer;
  setFault(f: Fault): void;
  clearFaults(): void;
  requests: LoggedRequest[];
  close(): Promise<void>;
}

interface StoredRelease {
  tag: string;
  opts: ReleaseOptions;
  publishedAt: string;
  assets: Map<string, { body: Buffer; etag: string; id: number }>;
}

const LAST_MODIFIED = 'Tue, 01 Jul 2025 10:00:00 GMT';

export interface ServerOptions {
  repo?: string;
  pageSize?: number;
  /**
   * Close the connection after every response (`Connection: close`), as an HTTP/1.0 server,
   * python's http.server, many mirrors and proxies do: the FIN follows the last body byte at once.
   */
  closeAfterResponse?: boolean;
}

export async function startGithubServer(o: ServerOptions = {}): Promise<GithubServer> {
  const repo = o.repo ?? 'borgbackup/borg';
  const releases = new Map<string, StoredRelease>();
  let faults: (Fault & { left: number })[] = [];
  const requests: LoggedRequest[] = [];
  let nextId = 1;
  let apiUrl = '';
  let assetBaseUrl = '';

  function takeFault(server: 'api' | 'assets', path: string): Fault | null {
    const f = faults.find(
      (x) =>
        x.left > 0 &&
        (x.on ?? (x.kind === 'rate-limit' ? 'api' : 'assets')) === server &&
        (!x.match || path.includes(x.match)),
    );
    if (!f) return null;
    if (f.kind !== 'redirect-loop') f.left -= 1; // a loop keeps looping until clearFaults()
    faults = faults.filter((x) => x.left > 0);
    return f;
  }

  function downloadUrl(tag: string, name: string): string {
    return `${apiUrl}/${repo}/releases/download/${encodeURIComponent(tag)}/${encodeURIComponent(name)}`;
  }

  function releaseJson(r: StoredRelease): object {
    return {
      url: `${apiUrl}/repos/${repo}/releases/${r.tag}`,
      tag_name: r.tag,
      name: r.tag,
      draft: false,
      prerelease: r.opts.prerelease ?? false,
      published_at: r.publishedAt,
      body: r.opts.notes ?? null,
      assets: [...r.assets].map(([name, a]) => ({
        id: a.id,
        name,
        size: r.opts.announcedSize?.[name] ?? a.body.length,
        digest: r.opts.announcedDigest?.[name] ?? (r.opts.withDigest ? `sha256:${sha256(a.body)}` : null),
        content_type: 'application/octet-stream',
        browser_download_url: downloadUrl(r.tag, name),
      })),
    };
  }

  function sendJson(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: http.OutgoingHttpHeaders = {},
  ): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function commonFault(f: Fault, res: http.ServerResponse, selfUrl: string): boolean {
    if (f.kind === 'hang') {
      // no answer at all: the client's headers timeout must fire (close() drops the socket)
    } else if (f.kind === 'status') {
      sendJson(res, f.status, { message: http.STATUS_CODES[f.status] ?? 'error' });
    } else if (f.kind === 'retry-after') {
      sendJson(res, 429, { message: 'Too Many Requests' }, { 'retry-after': String(f.seconds) });
    } else if (f.kind === 'redirect-loop') {
      // Each hop a new URL (undici spots an exact repeat itself): only the redirect bound stops it.
      const u = new URL(selfUrl);
      u.searchParams.set('hop', String(Number(u.searchParams.get('hop') ?? 0) + 1));
      res.writeHead(302, { location: u.toString(), 'content-length': 0 });
      res.end();
    } else if (f.kind === 'rate-limit') {
      const reset = Math.floor(Date.now() / 1000) + (f.resetInSeconds ?? 1800);
      sendJson(
        res,
        403,
        { message: 'API rate limit exceeded for 127.0.0.1.' },
        {
          'x-ratelimit-limit': '60',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(reset),
        },
      );
    } else {
      return false;
    }
    return true;
  }

  const api = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', apiUrl);
    requests.push({
      server: 'api',
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers: req.headers,
    });
    const fault = takeFault('api', url.pathname);
    if (fault && commonFault(fault, res, `${apiUrl}${req.url}`)) return;
    const base = `/repos/${repo}/releases`;
    if (url.pathname === base) return listPage(url, res);
    if (url.pathname.startsWith(`${base}/tags/`)) {
      const r = releases.get(decodeURIComponent(url.pathname.slice(`${base}/tags/`.length)));
      return r ? sendJson(res, 200, releaseJson(r)) : sendJson(res, 404, { message: 'Not Found' });
    }
    const dl = new RegExp(`^/${repo}/releases/download/([^/]+)/([^/]+)$`).exec(url.pathname);
    const asset = dl ? releases.get(decodeURIComponent(dl[1]))?.assets.get(decodeURIComponent(dl[2])) : undefined;
    if (asset) {
      res.writeHead(302, { location: `${assetBaseUrl}/assets/${asset.id}?token=short-lived`, 'content-length': 0 });
      return res.end();
    }
    sendJson(res, 404, { message: 'Not Found' });
  });

  function listPage(url: URL, res: http.ServerResponse): void {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? o.pageSize ?? 30), o.pageSize ?? 100);
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
    const all = [...releases.values()].sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (p: number, rel: string): string =>
      `<${apiUrl}${url.pathname}?per_page=${perPage}&page=${p}>; rel="${rel}"`;
    const links = [page < last ? link(page + 1, 'next') : '', link(last, 'last')].filter(Boolean).join(', ');
    sendJson(res, 200, all.slice((page - 1) * perPage, page * perPage).map(releaseJson), { link: links });
  }

  function findById(id: number): { body: Buffer; etag: string } | undefined {
    for (const r of releases.values()) for (const a of r.assets.values()) if (a.id === id) return a;
    return undefined;
  }

  const assets = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', assetBaseUrl);
    requests.push({
      server: 'assets',
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      headers: req.headers,
    });
    const fault = takeFault('assets', url.pathname);
    if (fault && commonFault(fault, res, `${assetBaseUrl}${req.url}`)) return;
    const m = /^\/assets\/(\d+)$/.exec(url.pathname);
    const a = m ? findById(Number(m[1])) : undefined;
    if (!a) return sendJson(res, 404, { message: 'Not Found' });
    serveBytes(req, res, a, fault);
  });

  function serveBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    a: { body: Buffer; etag: string },
    fault: Fault | null,
  ): void {
    const size = a.body.length;
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/octet-stream',
      etag: a.etag,
      'last-modified': LAST_MODIFIED,
      'accept-ranges': 'bytes',
    };
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    const rangeApplies =
      range && fault?.kind !== 'ignore-range' && (!ifRange || ifRange === a.etag || ifRange === LAST_MODIFIED);
    if (range && rangeApplies) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
        return void res.end();
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    }
    const body = a.body.subarray(start);
    res.writeHead(status, { ...headers, 'content-length': body.length });
    if (fault?.kind === 'cut') {
      // Give the bytes time to reach the client before the reset, or its kernel may drop them.
      res.write(body.subarray(0, fault.afterBytes), () => setTimeout(() => res.socket?.destroy(), 30));
    } else if (fault?.kind === 'short') {
      res.write(body.subarray(0, Math.max(0, body.length - fault.missingBytes)), () => res.socket?.end());
    } else if (fault?.kind === 'stall') {
      res.write(body.subarray(0, fault.afterBytes)); // and nothing more, until the client gives up
    } else {
      res.end(body);
    }
  }

  if (o.closeAfterResponse) {
    for (const s of [api, assets]) {
      s.keepAliveTimeout = 0;
      // Node then answers with `Connection: close` and ends the socket right after the body.
      s.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) =>
        res.setHeader('connection', 'close'),
      );
    }
  }
  await Promise.all([listen(api), listen(assets)]);
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  assetBaseUrl = `http://127.0.0.1:${(assets.address() as AddressInfo).port}`;

  return {
    apiUrl,
    assetBaseUrl,
    repo,
    requests,
    addRelease(tag, list, opts = {}) {
      const stored: StoredRelease = {
        tag,
        opts,
        publishedAt:
          opts.publishedAt ??
          new Date(Date.UTC(2025, 0, 1) + releases.size * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        assets: new Map(
          list.map((x) => [x.name, { body: x.body, etag: `"${sha256(x.body).slice(0, 20)}"`, id: nextId++ }]),
        ),
      };
      releases.set(tag, stored);
    },
    replaceAsset(tag, name, body) {
      const a = releases.get(tag)?.assets.get(name);
      if (!a) throw new Error(`no asset ${tag}/${name}`);
      a.body = body;
      a.etag = `"${sha256(body).slice(0, 20)}"`;
    },
    downloadUrl,
    assetBody(tag, name) {
      const a = releases.get(tag)?.assets.get(name);
      if (!a) throw new Error(`no asset ${tag}/${name}`);
      return a.body;
    },
    setFault(f) {
      faults.push({ ...f, left: f.times ?? 1 });
    },
    clearFaults() {
      faults = [];
    },
    async close() {
      for (const s of [api, assets]) s.closeAllConnections();
      await Promise.all([api, assets].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

function listen(s: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
