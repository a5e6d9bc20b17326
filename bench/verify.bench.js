#!/usr/bin/env node
// Signature verification speed and memory: our verifyDetachedFile (dist/verify) against gpgv on the
// same ~30 MB and ~300 MB files, RSA signing subkey + SHA-512 like borg's releases. Each run is a
// fresh process (startup included, as a user sees it); wall time is the median of 3 runs after a
// warm-up that puts the file in the page cache; peak RSS from /usr/bin/time -f %M.
// Run with `npm run bench -- verify` (builds dist/ first).
'use strict';
const { spawnSync, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { measure, median } = require('./lib/measure');

const root = path.resolve(__dirname, '..');

if (process.argv[2] === '--child') {
  // One verification in this process; prints its own timing.
  const [keyFile, fpr, sig, file] = process.argv.slice(3);
  const verify = require(path.join(root, 'dist', 'verify'));
  const t0 = process.hrtime.bigint();
  verify
    .loadSigningKey({ keyFile, fingerprint: fpr })
    .then((key) => verify.verifyDetachedFile({ file, signature: sig, key }))
    .then((r) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      process.stdout.write(JSON.stringify({ status: r.status, ms }));
    })
    .catch((e) => {
      process.stderr.write(`${e.message}\n`);
      process.exit(5);
    });
  return;
}

const SIZES_MB = (process.env.BENCH_VERIFY_SIZES || '30,300').split(',').map(Number);
const RUNS = 3;

function writeRandomFile(file, mb) {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < mb; i++) {
    crypto.randomFillSync(chunk);
    fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
}

async function main() {
  if (!fs.existsSync(path.join(root, 'dist', 'verify', 'index.js'))) {
    console.error('dist/verify is missing: run `npm run build` first');
    process.exit(2);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-bench-verify-'));
  const gnupg = path.join(dir, 'gnupg');
  fs.mkdirSync(gnupg, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: gnupg, LC_ALL: 'C' };
  const gpg = (args) =>
    execFileSync('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  try {
    const out = gpg([
      '--status-fd',
      '1',
      '--quick-gen-key',
      'Bench Mirror <bench@example.org>',
      'rsa2048',
      'cert',
      '0',
    ]).toString();
    const primary = /KEY_CREATED \w (\w{40})/.exec(out)[1];
    gpg(['--quick-add-key', primary, 'rsa2048', 'sign', '0']);
    const keyring = path.join(dir, 'key.gpg');
    fs.writeFileSync(keyring, gpg(['--export', primary]));

    const rows = [];
    for (const mb of SIZES_MB) {
      const file = path.join(dir, `asset-${mb}M.tgz`);
      writeRandomFile(file, mb);
      const sig = `${file}.asc`;
      gpg(['--digest-algo', 'SHA512', '--armor', '--detach-sign', '--output', sig, file]);
      const ours = () =>
        measure(process.execPath, [__filename, '--child', keyring, primary, sig, file], { env, stdout: true });
      const theirs = () => measure('gpgv', ['--keyring', keyring, sig, file], { env });
      await ours();
      await theirs(); // warm-up: page cache, both
      const o = [];
      const g = [];
      for (let i = 0; i < RUNS; i++) {
        o.push(await ours());
        g.push(await theirs());
      }
      const status = JSON.parse(o[0].stdout).status;
      rows.push({
        size: `${mb} MB`,
        oursMs: median(o.map((x) => x.ms)),
        inProcMs: median(o.map((x) => JSON.parse(x.stdout).ms)),
        gpgvMs: median(g.map((x) => x.ms)),
        oursRss: Math.max(...o.map((x) => x.rssMb)),
        gpgvRss: Math.max(...g.map((x) => x.rssMb)),
        status,
      });
      fs.rmSync(file);
    }
    const f = (n) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
    console.log('verify: verifyDetachedFile (node, fresh process) vs gpgv, RSA-2048 subkey, SHA-512, warm page cache');
    console.log(
      'size     | ours wall ms | (verify only) | gpgv wall ms | ratio ours/gpgv | ours peak RSS MB | gpgv peak RSS MB | verdict',
    );
    for (const r of rows) {
      console.log(
        `${r.size.padEnd(8)} | ${f(r.oursMs).padStart(12)} | ${f(r.inProcMs).padStart(13)} | ${f(r.gpgvMs).padStart(12)} | ` +
          `${(r.oursMs / r.gpgvMs).toFixed(2).padStart(15)} | ${f(r.oursRss).padStart(16)} | ${f(r.gpgvRss).padStart(16)} | ${r.status}`,
      );
    }
  } finally {
    spawnSync('gpgconf', ['--kill', 'all'], { env });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
