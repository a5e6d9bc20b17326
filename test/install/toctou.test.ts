// The verify-then-unpack gap: the archive is verified, then read again to unpack it. Whoever can
// write the file (download cache, --from directory) could swap its bytes in between. The pipeline's
// test seam `afterVerify` runs in exactly that gap, so the swap is deterministic here. In every case
// the swapped-in archive is a build that would install and pass the smoke test (same version, one
// extra file): only the digest check can stop it. Runs the pipeline in-process with real files,
// real GnuPG signatures, real tar and the real wrapper.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ChecksumError } from '../../src/errors';
import { install, type InstallOptions } from '../../src/install';
import { resolveTargetFromFlags } from '../../src/cli/target-flags';
import type { Target } from '../../src/target';
import { loadSigningKey, type SigningKey } from '../../src/verify';
import { placeAs } from '../helpers/install-sandbox';
import { ASSET, useInstallEnv } from '../helpers/install-env';

jest.setTimeout(120000);

const env = useInstallEnv();
let target: Target;
let key: SigningKey;
const savedEnv = { ...process.env };
let n = 0;

beforeAll(async () => {
  // In-process: the cache and config directories come from process.env; never the real user's.
  Object.assign(process.env, env.sb.env);
  target = await resolveTargetFromFlags({});
  key = await loadSigningKey({ keyFile: env.keys.mirrorFile, fingerprint: env.keys.mirror.primary });
  const first = await install(opts({ version: '1.4.1', from: await signedRelease(env.fx.oneDirTgz(ASSET, '1.4.1')) }));
  expect(first.action).toBe('installed');
});
afterAll(() => {
  process.env = savedEnv;
});

function opts(o: Partial<InstallOptions>): InstallOptions {
  return {
    prefix: env.sb.prefix,
    binDir: env.sb.binDir,
    target,
    key,
    ...o,
  };
}

async function signedRelease(file: string): Promise<string> {
  const dest = placeAs(file, path.join(env.sb.root, 'assets', `r${++n}`), ASSET);
  await env.keys.sign(dest);
  return dest;
}

/** A build of `version` that would pass every other check, with a file the real one lacks. */
function impostor(name: string, version: string): string {
  return env.fx.oneDirTgz(name, version, 'ok', (dir) =>
    fs.writeFileSync(path.join(dir, 'IMPOSTOR'), 'not what was signed\n'),
  );
}

/** Runs the install with the archive replaced after verification; expects exit 5 and no change. */
async function expectSwapRefused(o: Partial<InstallOptions>, swapIn: string): Promise<void> {
  const before = env.sb.snapshot();
  let swapped: string | null = null;
  const err = await install(
    opts({
      ...o,
      afterVerify: async (archive) => {
        swapped = archive;
        await fs.promises.copyFile(swapIn, archive);
      },
    }),
  ).catch((e: unknown) => e);
  expect(swapped).not.toBeNull(); // the seam ran: verification had passed
  expect(err).toBeInstanceOf(ChecksumError);
  expect((err as ChecksumError).exitCode).toBe(5);
  expect((err as Error).message).toMatch(
    /changed after it was verified \(SHA-256 \w{16}… unpacked, \w{16}… verified\); nothing was installed/,
  );
  expect(env.sb.snapshot()).toEqual(before); // no staging left, nothing activated
  expect(execFileSync(path.join(env.sb.binDir, 'borg'), ['-V'], { encoding: 'utf8' })).toBe('borg.exe 1.4.1\n');
}

test('--from a signed archive swapped after verification: refused', async () => {
  const from = await signedRelease(env.fx.oneDirTgz(ASSET, '1.4.2'));
  await expectSwapRefused({ version: '1.4.2', from }, impostor('impostor-1.4.2.tgz', '1.4.2'));
});

test('--from a build artifact swapped after its manifest check: refused', async () => {
  const from = env.fx.buildArtifact('1.5.0');
  await expectSwapRefused({ from }, impostor('impostor-1.5.0.tgz', '1.5.0'));
});

test('a downloaded archive swapped in the cache after verification: refused', async () => {
  await env.publish('1.4.4', env.fx.oneDirTgz(ASSET, '1.4.4'));
  await expectSwapRefused({ version: '1.4.4', apiUrl: env.gh.apiUrl }, impostor('impostor-1.4.4.tgz', '1.4.4'));
});

test('without a swap the same archive installs (the seam itself changes nothing)', async () => {
  const from = await signedRelease(env.fx.oneDirTgz(ASSET, '1.4.2'));
  const r = await install(opts({ version: '1.4.2', from, afterVerify: async () => undefined }));
  expect(r).toMatchObject({ action: 'installed', smoke: 'borg.exe 1.4.2', verification: { status: 'good' } });
  expect(r.verification!.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(fs.existsSync(path.join(env.sb.prefix, 'borg-dir-1.4.2', 'IMPOSTOR'))).toBe(false);
});
