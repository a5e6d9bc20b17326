// Real GnuPG for tests: throw-away keys, detached signatures and gpgv's verdict, made by gpg itself.
//
//   const home = await makeGpgHome();                       // temporary GNUPGHOME (mode 0700)
//   const k = await genSigningKey(home, { name: 'Mirror' }); // ed25519 primary [SC] + signing subkey [S]
//   const asc = await signDetached(home, k.signingSubkey!, file);          // file + '.asc', armoured
//   const pub = await exportPublicKey(home, k.primary);                    // Buffer, binary export
//   await writeKeyFile(home, k.primary, '/tmp/x/key.asc', { armor: true });
//   const st = await gpgvStatus(keyringFile, asc, file);   // { code, lines: [{ keyword, args }] }
//   await home.cleanup();                                  // kills gpg-agent, removes the directory
//
// Also: an expired key (created in the past with --faked-system-time), extending an expiry later,
// revoking a primary key (its auto-made revocation certificate) or a subkey (--edit-key revkey),
// SHA-1 signatures (signDetached(..., { digest: 'SHA1' })), and `transplantSubkey()` which grafts
// another key's subkey (with ITS binding signature) onto a key: a subkey without a valid binding.
// Keys are ed25519 by default (instant); pass { algo: 'rsa2048' } for RSA. No passphrases.
// Everything runs with the given GNUPGHOME only: the user's ~/.gnupg is never touched.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireTool } from './tools';

export interface GpgHome {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** Kills this home's gpg-agent (gpgconf --kill all) and removes the directory. */
  cleanup(): Promise<void>;
}

export interface TestKey {
  /** Primary fingerprint (40 upper-case hex digits). */
  primary: string;
  /** Fingerprint of the signing subkey, or null when made with `signingSubkey: false`. */
  signingSubkey: string | null;
  uid: string;
}

export interface GenKeyOptions {
  /** User ID name; an email is derived from it. */
  name?: string;
  algo?: 'ed25519' | 'rsa2048';
  /** Primary key usage: 'sign,cert' (default) or 'cert' (certify only, like many real keys). */
  primaryUsage?: 'sign,cert' | 'cert';
  /** Add a signing subkey (default true). */
  signingSubkey?: boolean;
  /** Also add an encryption subkey after it (borg's key has one). */
  encryptionSubkey?: boolean;
  /** gpg expiry for primary and subkey: '0' (never, default), '1y', '2d', ... */
  expire?: string;
  /** Make the key at this time: 'YYYYMMDDTHHMMSS' (UTC), via --faked-system-time. */
  at?: string;
}

export interface SignOptions {
  digest?: 'SHA1' | 'SHA256' | 'SHA512';
  /** Sign at this time ('YYYYMMDDTHHMMSS', UTC). */
  at?: string;
  /** Output file; default `<file>.asc`. */
  out?: string;
  /** ASCII armour (default true). */
  armor?: boolean;
  /** More gpg options, e.g. ['--textmode'] or ['--default-sig-expire', '1d']. */
  extraArgs?: string[];
}

export interface GpgvStatusLine {
  keyword: string;
  args: string[];
}

export interface GpgvResult {
  code: number | null;
  lines: GpgvStatusLine[];
  stderr: string;
}

const BATCH = ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', ''];

export async function makeGpgHome(): Promise<GpgHome> {
  requireTool('gpg', 'gnupg');
  requireTool('gpgconf', 'gnupg');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-gnupg-'));
  await fs.chmod(dir, 0o700);
  const env = { ...process.env, GNUPGHOME: dir, LC_ALL: 'C', TZ: 'UTC' };
  return {
    dir,
    env,
    async cleanup() {
      await run('gpgconf', ['--kill', 'all'], env).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a gpg tool; resolves with stdout, rejects with stderr on a non-zero exit. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // stdin only when there is input: gpg may exit before an empty stdin is closed (EPIPE).
    const child = spawn(cmd, args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.stdin?.on('error', () => undefined); // a tool that does not read its input is not a failure
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString()}`));
    });
    child.stdin?.end(input);
  });
}

function gpg(home: GpgHome, args: string[], at?: string, input?: string): Promise<Buffer> {
  const time = at ? ['--faked-system-time', `${at}!`] : [];
  return run('gpg', [...BATCH, ...time, ...args], home.env, input);
}

/** Fingerprints of the key with primary `fpr`: [primary, ...subkeys] in gpg's order. */
export async function listFingerprints(home: GpgHome, fpr: string): Promise<string[]> {
  const out = (await gpg(home, ['--with-colons', '--list-keys', fpr])).toString();
  return out
    .split('\n')
    .filter((l) => l.startsWith('fpr:'))
    .map((l) => l.split(':')[9]);
}

let counter = 0;

export async function genSigningKey(home: GpgHome, o: GenKeyOptions = {}): Promise<TestKey> {
  const name = o.name ?? `Test Key ${++counter}`;
  const uid = `${name} <${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@example.org>`;
  const algo = o.algo ?? 'ed25519';
  const expire = o.expire ?? '0';
  const out = await gpg(
    home,
    ['--status-fd', '1', '--quick-gen-key', uid, algo, o.primaryUsage ?? 'sign,cert', expire],
    o.at,
  );
  const created = /KEY_CREATED \w (\w{40})/.exec(out.toString());
  if (!created) throw new Error(`gpg made no key: ${out.toString()}`);
  const primary = created[1];
  let signingSubkey: string | null = null;
  if (o.signingSubkey !== false) {
    await gpg(home, ['--quick-add-key', primary, algo, 'sign', expire], o.at);
    signingSubkey = (await listFingerprints(home, primary))[1];
  }
  if (o.encryptionSubkey) {
    await gpg(home, ['--quick-add-key', primary, algo === 'ed25519' ? 'cv25519' : algo, 'encr', expire], o.at);
  }
  return { primary, signingSubkey, uid };
}

/** Detached signature by exactly `keyFpr` (primary or subkey: the '!' stops gpg choosing another). */
export async function signDetached(home: GpgHome, keyFpr: string, file: string, o: SignOptions = {}): Promise<string> {
  const out = o.out ?? `${file}.asc`;
  await fs.rm(out, { force: true });
  const args = ['--local-user', `${keyFpr}!`, '--detach-sign', '--output', out];
  if (o.armor !== false) args.unshift('--armor');
  if (o.digest) args.unshift('--digest-algo', o.digest);
  if (o.extraArgs) args.unshift(...o.extraArgs);
  await gpg(home, [...args, file], o.at);
  return out;
}

/** The public key (binary export, what gpgv wants as a keyring). */
export async function exportPublicKey(home: GpgHome, fpr: string, o: { armor?: boolean } = {}): Promise<Buffer> {
  return gpg(home, [...(o.armor ? ['--armor'] : []), '--export', fpr]);
}

export async function writeKeyFile(
  home: GpgHome,
  fpr: string,
  file: string,
  o: { armor?: boolean } = {},
): Promise<string> {
  await fs.writeFile(file, await exportPublicKey(home, fpr, o));
  return file;
}

/** Sets the expiry of the primary key, or of the given subkeys (`expire` like '10y' or '0'). */
export async function setExpiry(
  home: GpgHome,
  primary: string,
  expire: string,
  o: { subkeys?: string[]; at?: string } = {},
): Promise<void> {
  await gpg(home, ['--quick-set-expire', primary, expire, ...(o.subkeys ?? [])], o.at);
}

/** Revokes the primary key with the revocation certificate gpg made at generation time. */
export async function revokePrimary(home: GpgHome, primary: string): Promise<void> {
  const cert = await fs.readFile(path.join(home.dir, 'openpgp-revocs.d', `${primary}.rev`), 'utf8');
  // gpg stores it defused with a leading ':' on the armour header.
  const armored = cert.replace(/^:-----BEGIN/m, '-----BEGIN');
  await gpg(home, ['--import'], undefined, armored).catch(async () => {
    const tmp = path.join(home.dir, `${primary}.rev.asc`);
    await fs.writeFile(tmp, armored);
    await gpg(home, ['--import', tmp]);
  });
}

/** Revokes one subkey (reason 0, "no reason") through gpg's scripted --edit-key. */
export async function revokeSubkey(home: GpgHome, primary: string, subkey: string): Promise<void> {
  const script = [`key ${subkey}`, 'revkey', 'y', '0', '', 'y', 'save', ''].join('\n');
  await run('gpg', [...BATCH, '--command-fd', '0', '--status-fd', '2', '--edit-key', primary], home.env, script);
  const list = (await gpg(home, ['--with-colons', '--list-keys', primary])).toString();
  if (!list.split('\n').some((l) => l.startsWith('sub:r:'))) throw new Error(`gpg did not revoke subkey ${subkey}`);
}

/** One OpenPGP packet: its tag and its full bytes (header included). */
export interface RawPacket {
  tag: number;
  bytes: Buffer;
}

/** Splits a binary export into packets (old and new header formats, no partial lengths: keys have none). */
export function splitPackets(data: Buffer): RawPacket[] {
  const packets: RawPacket[] = [];
  let i = 0;
  while (i < data.length) {
    const h = data[i];
    if (!(h & 0x80)) throw new Error(`not an OpenPGP packet at byte ${i}`);
    let tag: number;
    let len: number;
    let hdr: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      const l1 = data[i + 1];
      if (l1 < 192) [len, hdr] = [l1, 2];
      else if (l1 < 224) [len, hdr] = [((l1 - 192) << 8) + data[i + 2] + 192, 3];
      else if (l1 === 255) [len, hdr] = [data.readUInt32BE(i + 2), 6];
      else throw new Error('partial body lengths are not expected in a key');
    } else {
      tag = (h >> 2) & 0x0f;
      const lt = h & 3;
      if (lt === 0) [len, hdr] = [data[i + 1], 2];
      else if (lt === 1) [len, hdr] = [data.readUInt16BE(i + 1), 3];
      else if (lt === 2) [len, hdr] = [data.readUInt32BE(i + 1), 5];
      else throw new Error('indeterminate packet length');
    }
    packets.push({ tag, bytes: data.subarray(i, i + hdr + len) });
    i += hdr + len;
  }
  return packets;
}

const PUBLIC_SUBKEY = 14;
const SIGNATURE = 2;

/**
 * `host` with the donor's FIRST subkey appended, followed by the donor's binding signature for it
 * (made by the donor's primary key, so invalid for the host): a subkey that looks bound but is not.
 */
export function transplantSubkey(host: Buffer, donor: Buffer): Buffer {
  const donorPackets = splitPackets(donor);
  const at = donorPackets.findIndex((p) => p.tag === PUBLIC_SUBKEY);
  if (at < 0) throw new Error('donor export has no subkey');
  const graft = [donorPackets[at]];
  for (let j = at + 1; j < donorPackets.length && donorPackets[j].tag === SIGNATURE; j++) graft.push(donorPackets[j]);
  return Buffer.concat([host, ...graft.map((p) => p.bytes)]);
}

/** gpgv's machine-readable verdict (`--status-fd 1`) for `sigFile` over `dataFile` with a binary keyring. */
export function gpgvStatus(keyringFile: string, sigFile: string, dataFile: string): Promise<GpgvResult> {
  requireTool('gpgv', 'gpgv');
  return new Promise((resolve, reject) => {
    // GNUPGHOME next to the keyring: gpgv must never look into (or create) the user's ~/.gnupg.
    const env = { ...process.env, GNUPGHOME: path.dirname(path.resolve(keyringFile)), LC_ALL: 'C', TZ: 'UTC' };
    // stdin 'ignore': nothing is written to gpgv, so no pipe to break.
    const child = spawn('gpgv', ['--status-fd', '1', '--keyring', path.resolve(keyringFile), sigFile, dataFile], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out
        .split('\n')
        .filter((l) => l.startsWith('[GNUPG:] '))
        .map((l) => {
          const [keyword, ...args] = l.slice('[GNUPG:] '.length).split(' ');
          return { keyword, args };
        });
      resolve({ code, lines, stderr: err });
    });
  });
}
