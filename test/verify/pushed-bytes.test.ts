// The verification worker's stream of the bytes the download sends it (src/verify/pushed-bytes.ts).
import { InterruptedError } from '../../src/errors';
import { pushedBytes } from '../../src/verify/pushed-bytes';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of stream as unknown as AsyncIterable<Uint8Array>) parts.push(c);
  return Buffer.concat(parts);
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

/** A pushedBytes that counts the chunks handed to its reader (the sender's flow-control cue). */
function counted(): { p: ReturnType<typeof pushedBytes>; taken: () => number } {
  let n = 0;
  const p = pushedBytes(() => n++);
  return { p, taken: () => n };
}

test('gives the pushed bytes in order, waits for more, and closes at end()', async () => {
  const { p, taken } = counted();
  const all = readAll(p.stream);
  p.push(Buffer.from('abc'));
  await tick();
  p.push(Buffer.from('def'));
  p.end(6);
  expect((await all).toString()).toBe('abcdef');
  expect(p.size).toBe(6);
  expect(taken()).toBe(2);
});

test('counts a chunk as taken only when the reader asks for it, so the sender waits on a slow hash', async () => {
  const { p, taken } = counted();
  for (let i = 1; i <= 5; i++) p.push(Buffer.alloc(10, i));
  const reader = p.stream.getReader();
  await tick();
  // The stream keeps one chunk ahead of its reader, no more.
  expect(taken()).toBe(1);
  expect((await reader.read()).value?.[0]).toBe(1);
  await tick();
  expect(taken()).toBe(2);
  reader.releaseLock();
});

test('abort() errors the stream as an abandoned attempt; what is queued is dropped', async () => {
  const { p, taken } = counted();
  const reader = p.stream.getReader();
  p.push(Buffer.from('x'));
  await reader.read();
  p.push(Buffer.from('y'));
  p.push(Buffer.from('z'));
  p.abort();
  // One chunk may already sit in the stream's own queue; after it, the abort.
  let err: unknown = null;
  for (let i = 0; i < 3 && !err; i++) err = await reader.read().then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(InterruptedError);
  expect((err as Error).message).toMatch(/abandoned/);
  expect(taken()).toBeLessThan(3);
});

test('stop() ends reading for good, and pushes after it or after end() are ignored', async () => {
  const { p, taken } = counted();
  p.stop();
  p.push(Buffer.from('late'));
  await expect(readAll(p.stream)).rejects.toThrow(/verification finished/);
  expect(taken()).toBe(0);

  const q = pushedBytes(() => undefined);
  q.end(0);
  q.push(Buffer.from('after'));
  expect((await readAll(q.stream)).length).toBe(0);
});

