// The connect timeout (NetOptions.connectTimeoutMs, given to undici's Agent) against a listener
// that never answers a SYN. On Linux a listening socket whose accept queue is full drops further
// SYNs, so a connect to it hangs exactly like one to a dead host. Node always accepts on its own
// listeners, so the listener is a small perl process (perl-base is Essential on Debian) that
// listens with backlog 0 and never calls accept(); the test fills its one queue slot first.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExitCode, NetworkError } from '../../src/errors';
import { download } from '../../src/fetch';
import { requireTool } from '../helpers/tools';

const LISTEN_NO_ACCEPT = [
  'use Socket;',
  'socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";',
  'bind($s, pack_sockaddr_in(0, inet_aton("127.0.0.1"))) or die "bind: $!";',
  'listen($s, 0) or die "listen: $!";',
  'my ($port) = unpack_sockaddr_in(getsockname($s));',
  '$| = 1; print "$port\\n";',
  // Ends with the test (stdin closes) or after a minute at most, never accepting anything.
  'my $buf; sysread(STDIN, $buf, 1); exit 0;',
].join(' ');

/** Starts the never-accepting listener and resolves with its port. */
function startListener(): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('perl', ['-e', LISTEN_NO_ACCEPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    killer.unref();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`listener exited early (${code})`)));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
  });
}

/** Resolves with the socket once connected, or null when the connect is still pending after `ms`. */
function tryConnect(port: number, ms: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(null);
    }, ms);
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

beforeAll(() => requireTool('perl', 'perl-base'));

describe('download: connect timeout', () => {
  let listener: { child: ChildProcess; port: number };
  const fillers: net.Socket[] = [];
  let tmp: string;
  const oldCache = process.env.XDG_CACHE_HOME;

  beforeAll(async () => {
    listener = await startListener();
    // Fill the accept queue until a connect stays pending: that proves the kernel now drops SYNs.
    for (let i = 0; i < 8; i++) {
      const s = await tryConnect(listener.port, 300);
      if (!s) return;
      fillers.push(s);
    }
    throw new Error(
      'connects to a full accept queue still complete here (SYN cookies?): cannot test the connect timeout',
    );
  });
  afterAll(async () => {
    for (const s of fillers) s.destroy();
    const gone = new Promise((r) => listener?.child.once('exit', r));
    listener?.child.kill('SIGTERM');
    await gone;
    if (oldCache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = oldCache;
  });
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-connect-'));
    process.env.XDG_CACHE_HOME = path.join(tmp, 'cache');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('gives up on a connect that never completes, retries once, exits 4 and leaves nothing', async () => {
    const url = `http://127.0.0.1:${listener.port}/releases/download/9.9.9/borg-linux-glibc231-x86_64.tgz`;
    const dest = path.join(tmp, 'dest');
    const t0 = Date.now();
    const err = await download({
      url,
      fileName: 'borg-linux-glibc231-x86_64.tgz',
      destDir: dest,
      expectedSize: 1000,
      net: {
        connectTimeoutMs: 300,
        headersTimeoutMs: 2000,
        bodyTimeoutMs: 2000,
        maxRetries: 1,
        minBackoffMs: 5,
        maxBackoffMs: 20,
      },
    }).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(NetworkError);
    expect((err as NetworkError).exitCode).toBe(ExitCode.network);
    expect((err as Error).message).toBe(`download of ${url} failed: connect timed out (after 2 attempts)`);
    // Two attempts of 300 ms each: at least that long, and bounded (the default would be 2 x 15 s).
    // undici's timers tick at about 0.5 s, so each attempt really lasts about 1 s here.
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(10_000);
    expect(fs.existsSync(dest) ? fs.readdirSync(dest) : []).toEqual([]);
  });
});
