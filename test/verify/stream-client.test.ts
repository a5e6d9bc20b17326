// The verification worker (src/verify/stream-client.ts + stream-worker.ts) with a real worker
// thread, real gpg signatures, and bytes pushed to it piece by piece as a download pushes them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError, InterruptedError, SignatureError } from '../../src/errors';
import { StreamVerifier, type VerifySession } from '../../src/verify/stream-client';
import { GpgHome, TestKey, genSigningKey, makeGpgHome, signDetached, writeKeyFile } from '../helpers/gpg';

jest.setTimeout(60000);

let home: GpgHome;
let dir: string;
let key: TestKey;
let keyFile: string;
let data: Buffer;
let archive: string;
let sig: string;
const f = (n: string): string => path.join(dir, n);
const verifiers: StreamVerifier[] = [];

beforeAll(async () => {
  home = await makeGpgHome();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-stream-verify-'));
  key = await genSigningKey(home, { name: 'Mirror', algo: 'rsa2048', primaryUsage: 'cert' });
  keyFile = await writeKeyFile(home, key.primary, f('key.asc'), { armor: true });
  data = Buffer.alloc(5 * 1024 * 1024 + 123);
  for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
  archive = f('borg.tgz');
  await fs.writeFile(archive, data);
  sig = await signDetached(home, key.signingSubkey as string, archive, { out: f('borg.tgz.asc'), digest: 'SHA512' });
});
afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await home?.cleanup();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

function start(o: { keyFile?: string; signal?: AbortSignal } = {}): StreamVerifier {
  const v = new StreamVerifier({ keyFile: o.keyFile ?? keyFile, fingerprint: key.primary, signal: o.signal });
  verifiers.push(v);
  return v;
}

/** Pushes `bytes` to the session piece by piece as a download does, waiting whenever it says so. */
async function feed(session: VerifySession, bytes: Buffer, piece = 64 * 1024): Promise<{ waits: number }> {
  let waits = 0;
  for (let at = 0; at < bytes.length; at += piece) {
    if (!session.push(bytes.subarray(at, at + piece))) {
      waits++;
      await session.ready();
    }
  }
  return { waits };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('verifies the pushed bytes as they come: a good verdict, the sender keeps the digest', async () => {
  const v = start();
  v.signature(sig);
  const session = v.follow(f('growing.tgz'));
  await feed(session, data);
  session.end(data.length);
  expect(session.complete).toBe(true);
  const r = await session.result;
  expect(r).toMatchObject({ status: 'good', signingFingerprint: key.signingSubkey, hash: 'SHA512' });
  // Not hashed twice: the download's SHA-256 of what it pushed is the binding (DownloadFollower).
  expect(r).not.toHaveProperty('sha256');
  expect((await v.key).fingerprint).toBe(key.primary);
});

/** 12 MiB+: far more than a session keeps before it can hash (4 MiB). */
async function bigSigned(name: string): Promise<{ bytes: Buffer; sig: string }> {
  const bytes = Buffer.concat([data, data, Buffer.from('tail')]);
  await fs.writeFile(f(name), bytes);
  return { bytes, sig: await signDetached(home, key.signingSubkey as string, f(name), { out: f(`${name}.asc`), digest: 'SHA512' }) };
}

test('the signature may arrive after the bytes: the sender waits, a few MiB ahead at most', async () => {
  const big = await bigSigned('early.tgz');
  const v = start();
  const session = v.follow(f('early.tgz'));
  const fed = feed(session, big.bytes, 256 * 1024);
  await new Promise((r) => setTimeout(r, 300));
  let done = false;
  void fed.then(() => (done = true));
  expect(done).toBe(false); // held: nothing is hashed before the worker has read the signature
  v.signature(big.sig);
  expect((await fed).waits).toBeGreaterThan(0);
  session.end(big.bytes.length);
  expect((await session.result).status).toBe('good');
});

test('a download that ends before the signature is read is judged once it is: the bytes kept early count', async () => {
  const small = data.subarray(0, 3 << 20); // under the 4 MiB a session keeps before it can hash
  await fs.writeFile(f('small.tgz'), small);
  const smallSig = await signDetached(home, key.signingSubkey as string, f('small.tgz'), { out: f('small.tgz.asc') });
  const v = start();
  const session = v.follow(f('small.tgz'));
  // Pushed from one buffer the sender reuses, as a download may: what is kept early is a copy.
  const reused = Buffer.alloc(64 * 1024);
  for (let at = 0; at < small.length; at += reused.length) {
    const n = small.copy(reused, 0, at, at + reused.length);
    expect(session.push(reused.subarray(0, n))).toBe(true);
  }
  reused.fill(0);
  session.end(small.length);
  expect(session.complete).toBe(true);
  v.signature(smallSig);
  expect((await session.result).status).toBe('good');
  const tampered = v.follow(f('small.tgz'));
  await feed(tampered, Buffer.concat([small.subarray(0, 1000), Buffer.from('!'), small.subarray(1001)]));
  tampered.end(small.length);
  await expect(tampered.result).rejects.toThrow(/^BAD signature/);
});

test('a sender kept waiting longer than followStallMs is let go: the session stops following', async () => {
  const big = await bigSigned('stalled.tgz');
  const v = new StreamVerifier({ keyFile, fingerprint: key.primary, followStallMs: 100 });
  verifiers.push(v);
  const session = v.follow(f('stalled.tgz'));
  const { waits } = await feed(session, big.bytes); // no signature ever: only the stall limit frees it
  expect(waits).toBeGreaterThan(0);
  expect(session).toMatchObject({ abandoned: true, complete: false });
  expect(session.push(Buffer.alloc(1 << 20))).toBe(true); // and it holds nothing up any more
  await expect(session.result).rejects.toThrow(InterruptedError);
});

test('a byte changed: BAD signature, as a SignatureError', async () => {
  const v = start();
  v.signature(sig);
  const bad = Buffer.from(data);
  bad[3 * 1024 * 1024] ^= 1;
  const session = v.follow(f('bad.tgz'));
  await feed(session, bad);
  session.end(bad.length);
  const err = await session.result.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SignatureError);
  expect((err as Error).message).toMatch(/^BAD signature: .*bad\.tgz does not match .*borg\.tgz\.asc/);
});

test('fewer bytes than the download says is refused', async () => {
  const v = start();
  v.signature(sig);
  const session = v.follow(f('short.tgz'));
  await feed(session, data.subarray(0, 1000));
  session.end(data.length);
  await expect(session.result).rejects.toThrow(SignatureError);
  await expect(session.result).rejects.toThrow(/short\.tgz did not arrive whole while it was being verified \(1000 bytes of \d+\)/);
});

test('more bytes than the download says is refused too', async () => {
  const v = start();
  v.signature(sig);
  const session = v.follow(f('long.tgz'));
  await feed(session, Buffer.concat([data, Buffer.from('trailing')]));
  session.end(data.length);
  await expect(session.result).rejects.toThrow(SignatureError);
  await expect(session.result).rejects.toThrow(/long\.tgz did not arrive whole while it was being verified \(\d+ bytes of \d+\)/);
});

test('an abandoned attempt rejects, and its sender is never left waiting', async () => {
  const v = start(); // no signature: the session keeps 4 MiB, then the sender would wait
  const session = v.follow(f('abandoned.tgz'));
  const fed = feed(session, data);
  await new Promise((r) => setTimeout(r, 50));
  session.abort();
  await fed; // released
  expect(session.push(Buffer.alloc(1))).toBe(true); // and not held up any more
  await expect(session.result).rejects.toThrow(InterruptedError);
});

test('a verdict that comes early (another key signed) releases a waiting sender', async () => {
  const other = await genSigningKey(home, { name: 'Other', algo: 'rsa2048' });
  const otherSig = await signDetached(home, other.primary, archive, { out: f('other.asc') });
  const v = start();
  const session = v.follow(f('early-verdict.tgz'));
  const fed = feed(session, Buffer.concat([data, data, data]));
  v.signature(otherSig);
  await expect(session.result).rejects.toThrow(/not a key of the trusted signing key/);
  await fed; // not stuck behind bytes nobody will take
});

test('a key file that is no key: the key promise rejects with the typed error', async () => {
  await fs.writeFile(f('nokey.asc'), 'not a key\n');
  const v = start({ keyFile: f('nokey.asc') });
  const err = await v.key.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BadInputError);
  expect((err as Error).message).toMatch(/nokey\.asc is not an OpenPGP public key/);
});

test('verifyFile judges a file on disk the same way', async () => {
  const r = await start().verifyFile(archive, sig);
  expect(r).toMatchObject({ status: 'good', sha256: createHash('sha256').update(data).digest('hex') });
});

test('an interrupt fails what is pending with InterruptedError and stops the worker', async () => {
  const abort = new AbortController();
  const v = start({ signal: abort.signal });
  const session = v.follow(f('interrupted.tgz')); // waits: no signature, no bytes
  abort.abort();
  await expect(session.result).rejects.toThrow(InterruptedError);
  await expect(v.verifyFile(archive, sig)).rejects.toThrow(InterruptedError);
});

test('after close() nothing passes', async () => {
  const v = start();
  await v.close();
  await expect(v.verifyFile(archive, sig)).rejects.toThrow(/closed/);
});

test('an attempt abandoned before the signature came settles at once', async () => {
  const v = start();
  const session = v.follow(f('abandoned-early.tgz'));
  session.push(data.subarray(0, 4096));
  session.abort();
  await expect(session.result).rejects.toThrow(InterruptedError);
});

test('close() and a pending verdict are always seen through: the process does not end early', () => {
  // Regression: the key's message, already on its way when close() began, unreferenced the worker
  // while it was stopping; with nothing else to wait for, Node ended the process (exit 0, nothing
  // said) before the caller could report its error. Run in a plain Node process, as the CLI runs.
  const probe = `
    const { StreamVerifier } = require(${JSON.stringify(require.resolve('../../dist/verify/stream-client'))});
    (async () => {
      const v = new StreamVerifier({ keyFile: ${JSON.stringify(keyFile)}, fingerprint: ${JSON.stringify(key.primary)} });
      const pending = v.verifyFile('/nonexistent', '/nonexistent.asc').catch((e) => 'rejected: ' + e.message);
      const closing = v.close();
      v.worker.emit('message', { type: 'key', key: { fingerprint: 'X', source: 'custom', pinned: false, path: '/k', warnings: [] } });
      await closing;
      console.log('closed');
      console.log(await pending);
    })();`;
  const out = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 20000 });
  expect(out).toBe('closed\nrejected: the signature verification worker was closed\n');
});
