// A throw-away user for CLI install tests: HOME/XDG_* in a temp dir (never the real ~/.local),
// a prefix and bin-dir with spaces in their paths, and gpg test keys (nobody has borg's private key,
// so tests pass the mirror key with --signing-key/--fingerprint, as a private mirror would).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli, type CliOptions, type CliResult } from './cli';
import { snapshotTree } from './borg-fixture';
import { exportPublicKey, genSigningKey, makeGpgHome, revokePrimary, signDetached, type GpgHome } from './gpg';

export interface Sandbox {
  root: string;
  home: string;
  prefix: string;
  binDir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
  snapshot(): string[];
}

/** `base`: where the sandbox goes (a test that mounts over /tmp puts it elsewhere). */
export function makeSandbox(base = os.tmpdir()): Sandbox {
  const root = fs.mkdtempSync(path.join(base, 'bp install '));
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const prefix = path.join(root, 'my prefix');
  const binDir = path.join(home, '.local', 'bin');
  const env = {
    HOME: home,
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_CONFIG_HOME: path.join(home, '.config'),
    PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`,
    // Short network timeouts and few retries: the test server is on loopback.
    BORG_PROVISION_NET: 'maxRetries=1,minBackoffMs=10,maxBackoffMs=20',
  };
  return {
    root,
    home,
    prefix,
    binDir,
    env,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    snapshot: () => snapshotTree(prefix, binDir),
  };
}

export interface TestKeyPair {
  primary: string;
  subkey: string;
}

export interface Keys {
  home: GpgHome;
  mirror: TestKeyPair;
  mirrorFile: string;
  other: TestKeyPair;
  sign(file: string, by?: string, o?: { digest?: 'SHA1' | 'SHA512' }): Promise<string>;
  /** A new key pair (primary [SC] + signing subkey) in the same GnuPG home. */
  genKey(name: string): Promise<TestKeyPair>;
  exportKey(fpr: string, armor?: boolean): Promise<Buffer>;
  revoke(primary: string): Promise<void>;
  /** Flags that make the mirror key the trusted one. */
  keyFlags: string[];
}

/** Test keys made by real GnuPG through the shared helper (test/helpers/gpg.ts). */
export async function makeKeys(dir: string): Promise<Keys> {
  const home = await makeGpgHome();
  const genKey = async (name: string): Promise<TestKeyPair> => {
    const k = await genSigningKey(home, { name });
    return { primary: k.primary, subkey: k.signingSubkey! };
  };
  const mirror = await genKey('Mirror');
  const other = await genKey('Other');
  const mirrorFile = path.join(dir, 'mirror-key.asc');
  fs.writeFileSync(mirrorFile, await exportPublicKey(home, mirror.primary, { armor: true }));
  return {
    home,
    mirror,
    mirrorFile,
    other,
    sign: (file, by = mirror.subkey, o = {}) => signDetached(home, by, file, { digest: o.digest }),
    genKey,
    exportKey: (fpr, armor = false) => exportPublicKey(home, fpr, { armor }),
    revoke: (primary) => revokePrimary(home, primary),
    keyFlags: ['--signing-key', mirrorFile, '--fingerprint', mirror.primary],
  };
}

export function install(sb: Sandbox, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const prefix = args.includes('--prefix') ? [] : ['--prefix', sb.prefix];
  return runCli(['install', ...args, ...prefix, '--bin-dir', sb.binDir], {
    timeoutMs: 60000,
    ...o,
    env: { ...sb.env, ...o.env },
  });
}

export function cli(sb: Sandbox, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const places = args[0] === 'list' ? ['--prefix', sb.prefix] : ['--prefix', sb.prefix, '--bin-dir', sb.binDir];
  return runCli([...args, ...places], { timeoutMs: 60000, ...o, env: { ...sb.env, ...o.env } });
}

/** The one error line a failing run prints. */
export function errorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('borg-provision: error: '));
  if (lines.length !== 1) throw new Error(`expected one error line, got:\n${r.stderr}`);
  return lines[0].slice('borg-provision: error: '.length);
}

/** Copies a file next to a new name (an asset's release name) in a directory. */
export function placeAs(file: string, dir: string, name: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, name);
  fs.copyFileSync(file, out);
  return out;
}
