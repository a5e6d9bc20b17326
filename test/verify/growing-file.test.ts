// The verification worker's reader of a file that a download is still writing.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InterruptedError, SignatureError } from '../../src/errors';
import { growingFileStream, type Followed } from '../../src/verify/growing-file';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-growing-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const followed = (): Followed => ({ size: null, aborted: false, wake: () => undefined });

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return Buffer.concat(parts);
}

test('reads what is there, waits for news at the end of it, and ends at the announced size', async () => {
  const file = path.join(dir, 'a');
  const out = await fs.open(file, 'w');
  const reader = await fs.open(file, 'r');
  const f = followed();
  const { stream } = growingFileStream(reader.fd, file, f);
  const all = readAll(stream);
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 9);
  for (let at = 0; at < bytes.length; at += 500_000) {
    await out.write(bytes.subarray(at, at + 500_000));
    f.wake();
    await new Promise((r) => setTimeout(r, 2));
  }
  f.size = bytes.length;
  f.wake();
  expect((await all).equals(bytes)).toBe(true);
  await out.close();
  await reader.close();
});

test('stops at the announced size even if the file holds more', async () => {
  const file = path.join(dir, 'b');
  await fs.writeFile(file, Buffer.from('0123456789'));
  const reader = await fs.open(file, 'r');
  const f = { ...followed(), size: 4 };
  expect((await readAll(growingFileStream(reader.fd, file, f).stream)).toString()).toBe('0123');
  await reader.close();
});

test('a file shorter than announced is a SignatureError', async () => {
  const file = path.join(dir, 'c');
  await fs.writeFile(file, Buffer.from('0123'));
  const reader = await fs.open(file, 'r');
  const f = { ...followed(), size: 10 };
  await expect(readAll(growingFileStream(reader.fd, file, f).stream)).rejects.toThrow(SignatureError);
  await reader.close();
});

test('an abort ends a reader that waits for news', async () => {
  const file = path.join(dir, 'd');
  await fs.writeFile(file, '');
  const reader = await fs.open(file, 'r');
  const f = followed();
  const all = readAll(growingFileStream(reader.fd, file, f).stream);
  await new Promise((r) => setTimeout(r, 20));
  f.aborted = true;
  f.wake();
  await expect(all).rejects.toThrow(InterruptedError);
  await reader.close();
});

test('after stop() it reads no more: the descriptor may be closed at once', async () => {
  const file = path.join(dir, 'e');
  await fs.writeFile(file, Buffer.alloc(3 << 20, 1));
  const reader = await fs.open(file, 'r');
  const { stream, stop } = growingFileStream(reader.fd, file, followed());
  const r = stream.getReader();
  expect((await r.read()).value?.length).toBe(1 << 20);
  await stop();
  await reader.close();
  // A read after stop() would hit the closed descriptor (EBADF); it is refused before any read.
  await expect(r.read()).rejects.toThrow(/verification finished/);
});
