// A real sshd on 127.0.0.1 for backup tests: a free port, a host key made for the test, and an
// authorized_keys whose entries are restricted to `borg serve --restrict-to-path`. It can be
// stopped and started again on the same port (the "sshd down" faults).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { requireTool } from './tools';

export interface Sshd {
  port: number;
  authorizedKeys: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Authorizes a public key for `borg serve` restricted to `dir` (run from `cwd`, default dir). */
  authorize(publicKey: string, dir: string, cwd?: string): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function makeSshd(dir: string): Promise<Sshd> {
  requireTool('/usr/sbin/sshd', 'openssh-server');
  requireTool('ssh-keygen', 'openssh-client');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'host_ed25519');
  if (!fs.existsSync(hostKey))
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { stdio: 'ignore' });
  const authorizedKeys = path.join(dir, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, '', { mode: 0o600 });
  const config = path.join(dir, 'sshd_config');
  const writeConfig = (port: number): void =>
    fs.writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey "${hostKey}"`,
        `PidFile "${path.join(dir, 'sshd.pid')}"`,
        `AuthorizedKeysFile "${authorizedKeys}"`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
  let child: ChildProcess | null = null;
  let listened = false;
  const startOnce = async (port: number): Promise<void> => {
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    const c = child;
    c.once('exit', () => {
      if (child === c) child = null;
    });
    for (let i = 0; i < 200; i++) {
      if (child === c && (await listening(port))) return;
      if (child !== c) throw new Error(`sshd did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd is not listening on 127.0.0.1:${port}: ${err}`);
  };
  const sshd: Sshd = {
    port: await freePort(),
    authorizedKeys,
    async start() {
      if (child) return;
      // Until it first listened, a port taken by someone else between freePort() and sshd's bind
      // (other test runs share this machine) means: take another one.
      for (let attempt = 1; ; attempt++) {
        writeConfig(sshd.port);
        try {
          await startOnce(sshd.port);
          listened = true;
          return;
        } catch (err) {
          if (listened || attempt >= 5 || !/Address already in use|Cannot bind/i.test(String(err))) throw err;
          sshd.port = await freePort();
        }
      }
    },
    async stop() {
      const c = child;
      if (!c) return;
      child = null;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
      // Connections already open are served by their own processes; new ones are refused now.
      for (let i = 0; i < 100 && (await listening(sshd.port)); i++) await new Promise((r) => setTimeout(r, 50));
    },
    authorize(publicKey, repoDir, cwd = repoDir) {
      const line = `command="cd '${cwd}' && borg serve --restrict-to-path '${repoDir}'",restrict ${publicKey.trim()}\n`;
      fs.appendFileSync(authorizedKeys, line);
    },
  };
  return sshd;
}
