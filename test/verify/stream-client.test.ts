// The verification worker (src/verify/stream-client.ts + stream-worker.ts) with a real worker
// thread, real gpg signatures and a real file that grows while it is followed, as a download's does.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError, InterruptedError, SignatureError } from '../../src/errors';
import { StreamVerifier } from '../../src/verify/stream-client';
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

/** The session closes its reader right after its verdict; waits (up to 5 s, for a loaded machine) to see it closed. */
async function expectClosed(reader: import('node:fs/promises').FileHandle): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 10) {
    if (await reader.stat().then(() => false, () => true)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await expect(reader.stat()).rejects.toThrow(/closed|EBADF/);
}

/** Writes `bytes` to a new file piece by piece, nudging `grew` after each, as a download does. */
async function grow(file: string, bytes: Buffer, grew: () => void, piece = 700 * 1024): Promise<void> {
  const out = await fs.open(file, 'w');
  try {
    for (let at = 0; at < bytes.length; at += piece) {
      await out.write(bytes.subarray(at, at + piece));
      grew();
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await out.close();
  }
}

test('follows a growing file to a good verdict on exactly its bytes', async () => {
  const v = start();
  v.signature(sig);
  const file = f('growing.tgz');
  await fs.writeFile(file, '');
  const session = v.follow(await fs.open(file, 'r'), file);
  await grow(file, data, () => session.grew());
  session.end(data.length);
  expect(session.complete).toBe(true);
  const r = await session.result;
  expect(r).toMatchObject({ status: 'good', signingFingerprint: key.signingSubkey, hash: 'SHA512' });
  expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  expect((await v.key).fingerprint).toBe(key.primary);
});

test('the signature may arrive after the bytes', async () => {
  const v = start();
  const file = f('early.tgz');
  await fs.writeFile(file, data);
  const session = v.follow(await fs.open(file, 'r'), file);
  session.end(data.length);
  await new Promise((r) => setTimeout(r, 50));
  v.signature(sig);
  expect((await session.result).status).toBe('good');
});

test('a byte changed: BAD signature, as a SignatureError', async () => {
  const v = start();
  v.signature(sig);
  const bad = Buffer.from(data);
  bad[3 * 1024 * 1024] ^= 1;
  const file = f('bad.tgz');
  await fs.writeFile(file, '');
  const session = v.follow(await fs.open(file, 'r'), file);
  await grow(file, bad, () => session.grew());
  session.end(bad.length);
  const err = await session.result.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SignatureError);
  expect((err as Error).message).toMatch(/^BAD signature: .*bad\.tgz does not match .*borg\.tgz\.asc/);
});

test('a file shorter than the download says is refused', async () => {
  const v = start();
  v.signature(sig);
  const file = f('short.tgz');
  await fs.writeFile(file, data.subarray(0, 1000));
  const session = v.follow(await fs.open(file, 'r'), file);
  session.end(data.length);
  await expect(session.result).rejects.toThrow(SignatureError);
  await expect(session.result).rejects.toThrow(/short\.tgz ends after 1000 of \d+ bytes/);
});

test('a file longer than the download says is not verified as whole', async () => {
  const v = start();
  v.signature(sig);
  const file = f('long.tgz');
  await fs.writeFile(file, Buffer.concat([data, Buffer.from('trailing')]));
  const session = v.follow(await fs.open(file, 'r'), file);
  session.end(data.length);
  // The first `size` bytes are the signed ones: good, with their digest; the unpack then finds the
  // file's digest differs (src/install/unpack.ts) and refuses it.
  const r = await session.result;
  expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
});

test('an abandoned attempt rejects and its file handle is closed', async () => {
  const v = start();
  v.signature(sig);
  const file = f('abandoned.tgz');
  await fs.writeFile(file, data.subarray(0, 4096));
  const reader = await fs.open(file, 'r');
  const session = v.follow(reader, file);
  session.grew();
  session.abort();
  await expect(session.result).rejects.toThrow(InterruptedError);
  await expectClosed(reader);
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
  const file = f('interrupted.tgz');
  await fs.writeFile(file, '');
  const session = v.follow(await fs.open(file, 'r'), file); // waits: no signature, no bytes
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
  const file = f('abandoned-early.tgz');
  await fs.writeFile(file, data.subarray(0, 4096));
  const reader = await fs.open(file, 'r');
  const session = v.follow(reader, file);
  session.abort();
  await expect(session.result).rejects.toThrow(InterruptedError);
  await expectClosed(reader);
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
