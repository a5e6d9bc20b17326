// Downloads one file the way a careful admin would over a flaky link: stream to `<name>.part`,
// SHA-256 while streaming, resume with Range + If-Range, bounded redirects, retries and time,
// and rename into place only once size and digest check out.
//
// Redirects use undici's redirect interceptor. Retries are our own loop rather than undici's
// retry interceptor because the interceptor keeps its resume point in memory only and resumes
// with If-Match: it cannot pick up a `.part` left by an earlier run (validators must live beside
// it on disk), it fails instead of starting over when a server answers a range with 200, and it
// has no bound on total time or a way to honour a Retry-After longer than its maximum backoff.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, ftruncateSync, promises as fs, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { finished } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  ChecksumError,
  InterruptedError,
  NetworkError,
  ProvisionError,
  UsageError,
  filesystemError,
  throwIfAborted,
} from '../errors';
import { writeFileAtomic } from '../util/atomic-write';
import { sha256File } from '../util/sha256';
import { cacheDir, downloadWriteError } from './cache-dir';
import { acquireFileLock } from './file-lock';
import {
  USER_AGENT,
  describeCause,
  errorCode,
  header,
  isRetryableError,
  openHttp,
  sleep,
  backoffMs,
  resolveNet,
  retryAfterMs,
  type HttpClient,
  type ResolvedNetOptions,
} from '../net';
import type { DownloadRequest, DownloadResult, ProgressEvent } from './types';
import { makeDirs } from '../util/make-dirs';

type Headers = Record<string, string | string[] | undefined>;

const BUFFER_BYTES = 1 << 20;

/** An HTTP answer that is not the file; retryable for 5xx and 429. */
class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}`);
  }
}
/** The `.part` cannot be continued (range refused, Content-Range off): start over at once. */
class Restart extends Error {}
/** A failure no retry will fix (too many redirects). */
class Fatal extends Error {}

interface Meta {
  url: string;
  etag: string | null;
  lastModified: string | null;
}

interface Ctx {
  r: DownloadRequest;
  net: ResolvedNetOptions;
  http: HttpClient;
  partPath: string;
  metaPath: string;
  emit: (e: ProgressEvent) => void;
  /** The If-Range value of the attempt that resumes the `.part`. */
  resumeValidator?: string | null;
}

/** Per-release cache folder: the tag of a GitHub release download URL, else a hash of the URL. */
export function cacheSubdir(url: string): string {
  const m = /\/releases\/download\/([\w.+-]+)\/[^/]+$/.exec(new URL(url).pathname);
  return m && m[1] !== '.' && m[1] !== '..'
    ? m[1]
    : `url-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;
}

export function normalizeSha256(digest: string | null | undefined): string | undefined {
  if (!digest) return undefined;
  const m = /^(?:sha256:)?([0-9a-f]{64})$/i.exec(digest.trim());
  return m ? m[1].toLowerCase() : undefined;
}

export async function download(r: DownloadRequest): Promise<DownloadResult> {
  if (!r.fileName || r.fileName !== path.basename(r.fileName) || r.fileName === '..' || r.fileName === '.') {
    throw new UsageError(`refusing to download to ${JSON.stringify(r.fileName)}: a plain file name is needed`);
  }
  const dir = r.destDir ?? path.join(cacheDir(), cacheSubdir(r.url));
  await makeDirs(dir).catch((e) => {
    throw downloadWriteError(e, 'create the download folder', dir);
  });
  const finalPath = path.join(dir, r.fileName);
  const emit = (e: ProgressEvent): void => r.onProgress?.(e);
  throwIfAborted(r.signal);

  const expectedSha = normalizeSha256(r.expectedSha256);
  const hit = async (): Promise<DownloadResult | null> => {
    const cached = await cacheHit(finalPath, r.expectedSize, expectedSha);
    if (!cached) return null;
    emit({ type: 'done', fileName: r.fileName, bytes: cached.size, fromCache: true });
    return { path: finalPath, ...cached, fromCache: true };
  };
  const early = await hit();
  if (early) return early;

  const partPath = `${finalPath}.part`;
  const net = resolveNet(r.net);
  // Another process (an install into another prefix) may be fetching this very file: wait for it
  // rather than write the same .part at once, then take its finished file as a cache hit.
  const lock = await acquireFileLock(`${partPath}.lock`, {
    signal: r.signal,
    noProgressMs: net.maxTotalMs,
    progressFile: partPath,
    target: finalPath,
  });
  try {
    return (lock.waited ? await hit() : null) ?? (await transfer(r, net, expectedSha, finalPath, emit));
  } finally {
    await lock.release();
  }
}

async function transfer(
  r: DownloadRequest,
  net: ResolvedNetOptions,
  expectedSha: string | undefined,
  finalPath: string,
  emit: (e: ProgressEvent) => void,
): Promise<DownloadResult> {
  const partPath = `${finalPath}.part`;
  const metaPath = `${finalPath}.part.json`;
  const http = await openHttp(net);
  let got: { size: number; sha256: string };
  try {
    got = await transferWithRetries({ r, net, http, partPath, metaPath, emit });
  } finally {
    await http.close();
  }
  await checkAndPlace(r, got, expectedSha, partPath, metaPath, finalPath);
  emit({ type: 'done', fileName: r.fileName, bytes: got.size, fromCache: false });
  return { path: finalPath, ...got, fromCache: false };
}

async function checkAndPlace(
  r: DownloadRequest,
  got: { size: number; sha256: string },
  expectedSha: string | undefined,
  partPath: string,
  metaPath: string,
  finalPath: string,
): Promise<void> {
  let problem: string | null = null;
  if (r.expectedSize !== undefined && got.size !== r.expectedSize) {
    problem = `${got.size} bytes arrived, GitHub announced ${r.expectedSize}`;
  } else if (expectedSha && got.sha256 !== expectedSha) {
    problem = `SHA-256 ${got.sha256} differs from the announced digest sha256:${expectedSha}`;
  }
  if (problem) {
    await removeQuietly(partPath, metaPath);
    throw new ChecksumError(
      `download of ${r.url} is corrupt: ${problem}; it was deleted, retry later or report a broken release asset`,
    );
  }
  try {
    await fs.rename(partPath, finalPath);
  } catch (e) {
    throw filesystemError(e, 'move the finished download to', finalPath);
  }
  await removeQuietly(metaPath);
  await writeSidecar(finalPath, got.sha256);
}

/** A file already in place counts only once re-hashed against the announced or recorded digest. */
async function cacheHit(
  finalPath: string,
  expectedSize: number | undefined,
  expectedSha: string | undefined,
): Promise<{ size: number; sha256: string } | null> {
  const st = await fs.stat(finalPath).catch(() => null);
  if (!st?.isFile()) return null;
  if (expectedSize !== undefined && st.size !== expectedSize) return null;
  const recorded = await readSidecar(finalPath);
  if (!expectedSha && !recorded) return null;
  const { sha256 } = await sha256File(finalPath);
  if ((expectedSha && sha256 !== expectedSha) || (recorded && sha256 !== recorded)) return null;
  return { size: st.size, sha256 };
}

/** `<file>.sha256` in sha256sum format: records what was downloaded, so a cache hit can be re-checked. */
async function writeSidecar(finalPath: string, sha256: string): Promise<void> {
  try {
    await writeFileAtomic(`${finalPath}.sha256`, `${sha256}  ${path.basename(finalPath)}\n`);
  } catch (e) {
    throw downloadWriteError(e, 'write', `${finalPath}.sha256`);
  }
}

async function readSidecar(finalPath: string): Promise<string | null> {
  const text = await fs.readFile(`${finalPath}.sha256`, 'utf8').catch(() => '');
  const m = /^([0-9a-f]{64})\s/.exec(text);
  return m ? m[1] : null;
}

/**
 * Feeds the first `bytes` of a `.part` into the running hash of a resumed transfer, which then
 * goes on with the body: the one digest covers the whole file.
 */
async function hashPartInto(file: string, bytes: number, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: BUFFER_BYTES }))
    hash.update(chunk as Buffer);
}

/**
 * Removes a finished download, its `.sha256` record, and its folder when that is left empty (an
 * install keeps nothing of an archive it has unpacked, unless told to).
 */
export async function removeDownload(file: string): Promise<void> {
  await removeQuietly(file, `${file}.sha256`);
  await fs.rmdir(path.dirname(file)).catch(() => undefined); // only when empty
}

async function removeQuietly(...files: string[]): Promise<void> {
  await Promise.all(files.map((f) => fs.rm(f, { force: true }).catch(() => undefined)));
}

async function transferWithRetries(ctx: Ctx): Promise<{ size: number; sha256: string }> {
  const { r, net } = ctx;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await transferOnce(ctx);
    } catch (err) {
      if (r.signal?.aborted) throw interrupted(ctx);
      if (err instanceof ProvisionError) throw err;
      const v = verdict(err, attempt, net);
      const tooLate = Date.now() - started + v.delayMs > net.maxTotalMs;
      if (!v.retry || attempt > net.maxRetries || tooLate) {
        const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
        const wait =
          v.retry && tooLate && attempt <= net.maxRetries
            ? `; waiting ${Math.ceil(v.delayMs / 1000)} s more would pass the ${Math.round(net.maxTotalMs / 1000)} s allowed, retry later`
            : '';
        const kept =
          (await fileSize(ctx.partPath)) > 0
            ? `; the partial file ${ctx.partPath} is kept and the next run resumes it`
            : '';
        throw new NetworkError(`download of ${r.url} failed: ${v.cause}${tries}${wait}${kept}`, { cause: err });
      }
      ctx.emit({ type: 'retry', fileName: r.fileName, attempt, delayMs: v.delayMs, reason: v.cause });
      await sleep(v.delayMs, r.signal).catch(() => {
        throw interrupted(ctx);
      });
    }
  }
}

function interrupted(ctx: Ctx): InterruptedError {
  return new InterruptedError(
    `interrupted; the partial download ${ctx.partPath} is kept for the next run, nothing was placed under its final name`,
  );
}

function verdict(
  err: unknown,
  attempt: number,
  net: ResolvedNetOptions,
): { retry: boolean; delayMs: number; cause: string } {
  if (err instanceof Restart) return { retry: true, delayMs: 0, cause: err.message };
  if (err instanceof Fatal) return { retry: false, delayMs: 0, cause: err.message };
  if (errorCode(err) === 'UND_ERR_INVALID_ARG' && /redirect loop/i.test(String((err as Error).message))) {
    return { retry: false, delayMs: 0, cause: 'redirect loop' };
  }
  if (err instanceof HttpStatus) {
    const retry = err.status === 429 || err.status >= 500;
    const after = retryAfterMs(err.headers['retry-after']);
    return { retry, delayMs: after ?? backoffMs(attempt, net), cause: `HTTP ${err.status}` };
  }
  return { retry: isRetryableError(err), delayMs: backoffMs(attempt, net), cause: describeCause(err) };
}

async function fileSize(file: string): Promise<number> {
  return (await fs.stat(file).catch(() => null))?.size ?? 0;
}

async function readMeta(metaPath: string, url: string): Promise<Meta | null> {
  try {
    const m = JSON.parse(await fs.readFile(metaPath, 'utf8')) as Meta;
    return m.url === url && (m.etag || m.lastModified) ? m : null;
  } catch {
    return null;
  }
}

/**
 * One GET: continue the `.part` when it can be continued, else (re)write it from byte 0.
 * Everything that waits (opening the file, hashing what it holds) comes before the request: once
 * the answer's headers are in, its body must have a reader at once. undici's parser pauses when
 * 64 KiB sit unread, and a server that closes right after the body (HTTP/1.0 style) then trips an
 * assertion inside undici's socket handler that no `try` can catch (nodejs/undici#5360).
 */
async function transferOnce(ctx: Ctx): Promise<{ size: number; sha256: string }> {
  const { r, partPath } = ctx;
  const offset = await resumePoint(ctx);
  // 'a': nothing is cut before the server has said whether it continues the file.
  const out = await fs.open(partPath, 'a').catch((e) => {
    throw downloadWriteError(e, 'write', partPath);
  });
  try {
    const hash = createHash('sha256');
    if (offset > 0) await hashPartInto(partPath, offset, hash);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      headers['if-range'] = ctx.resumeValidator as string;
    }
    const res = await ctx.http.get(r.url, { headers, signal: r.signal });
    const got = await receive(ctx, res, out, offset, hash);
    // Closed here, not only in `finally`: on some filesystems (NFS, quotas) a full disk shows
    // only now, and the file must not then pass for whole.
    await out.close().catch((e) => {
      throw downloadWriteError(e, 'write', partPath);
    });
    return got;
  } catch (err) {
    if ((await fileSize(partPath)) === 0) await removeQuietly(partPath, ctx.metaPath);
    throw err;
  } finally {
    await out.close().catch(() => undefined); // a no-op once closed
  }
}

/** How many bytes of the `.part` this attempt continues from (0: start over); sets ctx.resumeValidator. */
async function resumePoint(ctx: Ctx): Promise<number> {
  const { r } = ctx;
  const offset = await fileSize(ctx.partPath);
  const meta = offset > 0 ? await readMeta(ctx.metaPath, r.url) : null;
  if (offset > 0 && (!meta || (r.expectedSize !== undefined && offset >= r.expectedSize))) {
    // Without a validator If-Range cannot protect us from splicing two versions of the file.
    ctx.emit({ type: 'restart', fileName: r.fileName, reason: 'the partial file cannot be resumed safely' });
    return 0;
  }
  ctx.resumeValidator = meta ? (meta.etag ?? meta.lastModified) : null;
  return offset;
}

/** Judges the answer and reads its body: nothing in here waits before the body has its reader. */
async function receive(
  ctx: Ctx,
  res: Dispatcher.ResponseData,
  out: fs.FileHandle,
  offset: number,
  hash: Hash,
): Promise<{ size: number; sha256: string }> {
  const h = res.headers as Headers;
  let from: number;
  try {
    from = acceptResponse(ctx, res.statusCode, h, offset);
    if (from === 0 && offset > 0) {
      // Cut before the new validators are written, so a crash in between cannot leave old
      // bytes under new validators for the next run to resume.
      truncateSync(out.fd, ctx.partPath);
      hash = createHash('sha256');
    }
    const etag = header(h, 'etag');
    // A weak ETag cannot guard a byte range (RFC 9110 13.1.5); Last-Modified can.
    const meta: Meta = {
      url: ctx.r.url,
      etag: etag && !etag.startsWith('W/') ? etag : null,
      lastModified: header(h, 'last-modified') ?? null,
    };
    writeFileOrFail(ctx.metaPath, JSON.stringify(meta));
  } catch (err) {
    // Drop the connection; the body's own 'error' (we caused it) must not go unhandled.
    res.body.on('error', () => undefined).destroy();
    throw err;
  }
  return receiveBody(ctx, res.body, h, res.statusCode, from, hash, out.fd);
}

/** Checks the status and Content-Range; returns the offset the body continues from. */
function acceptResponse(ctx: Ctx, status: number, h: Headers, offset: number): number {
  const { r } = ctx;
  if (status >= 300 && status < 400) throw new Fatal(`too many redirects (more than ${ctx.net.maxRedirections})`);
  if (status === 416 && offset > 0) {
    removeSync(ctx.partPath, ctx.metaPath);
    throw new Restart('the server refused to resume (HTTP 416)');
  }
  if (status !== 200 && status !== 206) throw new HttpStatus(status, h);
  if (status === 206) {
    const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(h, 'content-range') ?? '');
    if (offset === 0 || !cr || Number(cr[1]) !== offset) {
      removeSync(ctx.partPath, ctx.metaPath);
      throw new Restart(
        `the server's Content-Range (${header(h, 'content-range') ?? 'none'}) does not continue at byte ${offset}`,
      );
    }
    checkAnnouncedSize(r, cr[3] === '*' ? null : Number(cr[3]));
    return offset;
  }
  if (offset > 0) {
    ctx.emit({
      type: 'restart',
      fileName: r.fileName,
      reason: 'the server sent the whole file (range ignored or file changed)',
    });
  }
  const len = header(h, 'content-length');
  checkAnnouncedSize(r, len === undefined ? null : Number(len));
  return 0;
}

function checkAnnouncedSize(r: DownloadRequest, serverSize: number | null): void {
  if (r.expectedSize !== undefined && serverSize !== null && serverSize !== r.expectedSize) {
    throw new ChecksumError(
      `download of ${r.url} is the wrong file: the server sends ${serverSize} bytes, GitHub announced ${r.expectedSize}; nothing was kept`,
    );
  }
}

/** The whole chunk, however many writes it takes (a short write is rare, but allowed). */
function writeAllSync(fd: number, chunk: Buffer): void {
  for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at, chunk.length - at);
}

function receiveBody(
  ctx: Ctx,
  body: NodeJS.ReadableStream,
  h: Headers,
  status: number,
  offset: number,
  hash: Hash,
  fd: number,
): Promise<{ size: number; sha256: string }> {
  const { r, partPath } = ctx;
  const len = Number(header(h, 'content-length'));
  const total = status === 206 || Number.isNaN(len) ? (r.expectedSize ?? null) : len + offset;
  ctx.emit({ type: 'start', fileName: r.fileName, url: r.url, total, resumedFrom: offset });
  let bytes = offset;
  let lastEmit = 0;
  // Each chunk is hashed and written to the .part synchronously as it comes off the socket: a
  // write to the page cache is quick, and a stream pipeline (a Transform, then a WriteStream whose
  // every write is a trip to the thread pool) cost noticeably more CPU (bench/fetch.bench.js).
  // Nothing is buffered and the body never waits on us. The price: a write that stalls (a hung
  // network mount) stalls this thread, Ctrl-C included; the cache normally lives on a local disk.
  return new Promise<{ size: number; sha256: string }>((resolve, reject) => {
    const fail = (err: unknown): void => {
      body.removeAllListeners('data');
      reject(err);
    };
    body.on('data', (chunk: Buffer) => {
      try {
        writeAllSync(fd, chunk);
      } catch (err) {
        (body as NodeJS.ReadableStream & { destroy(): void }).destroy();
        return fail(downloadWriteError(err, 'write', partPath));
      }
      hash.update(chunk);
      bytes += chunk.length;
      const now = Date.now();
      if (now - lastEmit >= 100) {
        lastEmit = now;
        ctx.emit({ type: 'progress', fileName: r.fileName, bytes, total });
      }
    });
    // Settles on the end, an error, or a close before the end (a body cut short).
    finished(body, (err) => {
      if (err) return fail(err);
      ctx.emit({ type: 'progress', fileName: r.fileName, bytes, total });
      resolve({ size: bytes, sha256: hash.digest('hex') });
    });
  });
}

function truncateSync(fd: number, file: string): void {
  try {
    ftruncateSync(fd, 0);
  } catch (e) {
    throw downloadWriteError(e, 'write', file);
  }
}

function removeSync(...files: string[]): void {
  for (const f of files) rmSync(f, { force: true });
}

function writeFileOrFail(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw downloadWriteError(e, 'write', file);
  }
}
