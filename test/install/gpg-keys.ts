// Synchronous gpg calls for the install tests, with stdin closed ('ignore'): test/helpers/gpg.ts
// writes to gpg's stdin after spawning, which can race a fast-exiting gpg and crash the test file
// with an uncaught EPIPE on a loaded machine. Same tools, same results, no race.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestGpg {
  dir: string;
  gpg(args: string[]): Buffer;
  genKey(name: string): { primary: string; subkey: string };
  sign(keyFpr: string, file: string, digest?: 'SHA1' | 'SHA512'): string;
  exportKey(fpr: string, armor?: boolean): Buffer;
  revoke(primary: string): void;
  cleanup(): void;
}

export function makeTestGpg(): TestGpg {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-install-gnupg-'));
  fs.chmodSync(dir, 0o700);
  const env = { ...process.env, GNUPGHOME: dir, LC_ALL: 'C', TZ: 'UTC' };
  const gpg = (args: string[]): Buffer =>
    execFileSync('gpg', ['--batch', '--no-tty', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const fingerprints = (fpr: string): string[] =>
    gpg(['--with-colons', '--list-keys', fpr])
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('fpr:'))
      .map((l) => l.split(':')[9]);
  return {
    dir,
    gpg,
    genKey(name) {
      const uid = `${name} <${name.toLowerCase()}@example.org>`;
      const out = gpg(['--status-fd', '1', '--quick-gen-key', uid, 'ed25519', 'sign,cert', '0']).toString();
      const primary = /KEY_CREATED \w (\w{40})/.exec(out)![1];
      gpg(['--quick-add-key', primary, 'ed25519', 'sign', '0']);
      return { primary, subkey: fingerprints(primary)[1] };
    },
    sign(keyFpr, file, digest) {
      const out = `${file}.asc`;
      fs.rmSync(out, { force: true });
      gpg([...(digest ? ['--digest-algo', digest] : []), '--armor', '--local-user', `${keyFpr}!`, '--detach-sign', '--output', out, file]);
      return out;
    },
    exportKey: (fpr, armor = false) => gpg([...(armor ? ['--armor'] : []), '--export', fpr]),
    revoke(primary) {
      const cert = fs.readFileSync(path.join(dir, 'openpgp-revocs.d', `${primary}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
      const f = path.join(dir, 'rev.asc');
      fs.writeFileSync(f, cert);
      gpg(['--import', f]);
    },
    cleanup() {
      try {
        execFileSync('gpgconf', ['--kill', 'all'], { env, stdio: 'ignore' });
      } catch {
        // no agent running
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
