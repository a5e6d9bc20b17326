#!/usr/bin/env node
// The unpack step alone, in one process: borg-provision's unpackArchive (dist/, run `npm run build`
// first) against GNU `tar xzf` on the same archive, and against another build of unpackArchive
// when UNPACK_BENCH_BASELINE names its dist/ directory (e.g. a checkout before a change), side by
// side and interleaved, so that load from other jobs hits all of them alike.
// Archives: a borg-sized one-dir build (~100 files: 30 incompressible ~0.9 MB libraries and 69
// compressible ~0.77 MB modules, ~80 MB unpacked, ~30 MB packed, like borg 1.4.5's glibc231 tgz)
// and 100 small files (where per-entry costs show). RUNS=n sets the runs per archive (default 9).
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { median } = require('./lib/measure');

const root = path.resolve(__dirname, '..');
const RUNS = Number(process.env.RUNS) || 9;
const BASELINE = process.env.UNPACK_BENCH_BASELINE ? path.resolve(process.env.UNPACK_BENCH_BASELINE) : null;

function writeRandom(file, bytes) {
  const fd = fs.openSync(file, 'w');
  for (let left = bytes; left > 0; left -= 1 << 20) fs.writeSync(fd, crypto.randomBytes(Math.min(left, 1 << 20)));
  fs.closeSync(fd);
}

function borgSizedTree(dir) {
  const d = path.join(dir, 'borg-dir', '_internal');
  fs.mkdirSync(d, { recursive: true });
  writeRandom(path.join(dir, 'borg-dir', 'borg.exe'), 1 << 20);
  fs.chmodSync(path.join(dir, 'borg-dir', 'borg.exe'), 0o755);
  for (let i = 0; i < 30; i++) writeRandom(path.join(d, `lib${i}.so.1`), Math.round(0.9 * (1 << 20)));
  const words = Buffer.from('import borg.archiver def compress(chunk): return zstd(chunk) # python\n'.repeat(64));
  for (let i = 0; i < 69; i++) {
    const fd = fs.openSync(path.join(d, `mod${i}.pyc`), 'w');
    for (let n = 0; n < Math.round(0.77 * (1 << 20)); n += words.length) {
      words.writeUInt32LE(i * 7919 + n, 0);
      fs.writeSync(fd, words);
    }
    fs.closeSync(fd);
  }
}

function smallFilesTree(dir) {
  const d = path.join(dir, 'borg-dir', '_internal');
  fs.mkdirSync(d, { recursive: true });
  for (let i = 0; i < 100; i++) writeRandom(path.join(d, `m${i}.py`), 2000 + i * 10);
}

function makeArchive(tmp, name, fill) {
  const tree = path.join(tmp, `tree-${name}`);
  fs.mkdirSync(tree);
  fill(tree);
  const tgz = path.join(tmp, `${name}.tgz`);
  execFileSync('tar', ['-I', 'gzip -1', '-cf', tgz, '-C', tree, 'borg-dir']);
  fs.rmSync(tree, { recursive: true, force: true });
  return tgz;
}

async function timeOnce(tmp, run) {
  const dest = fs.mkdtempSync(path.join(tmp, 'dest-'));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await run(dest);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  fs.rmSync(dest, { recursive: true, force: true });
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function main() {
  const ours = require(path.join(root, 'dist', 'install', 'unpack.js'));
  const base = BASELINE ? require(path.join(BASELINE, 'install', 'unpack.js')) : null;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'unpack-bench-'));
  try {
    const archives = [
      ['borg-sized (~80 MB unpacked)', makeArchive(tmp, 'borg', borgSizedTree)],
      ['100 small files', makeArchive(tmp, 'small', smallFilesTree)],
    ];
    const ways = [
      ['borg-provision', (tgz) => (dest) => ours.unpackArchive({ archive: tgz, dest })],
      ...(base ? [['baseline', (tgz) => (dest) => base.unpackArchive({ archive: tgz, dest })]] : []),
      ['GNU tar xzf', (tgz) => async (dest) => execFileSync('tar', ['-xzf', tgz, '-C', dest])],
    ];
    console.log(`load average ${os.loadavg()[0].toFixed(1)}; median of ${RUNS} interleaved runs (wall ms / CPU ms)`);
    for (const [label, tgz] of archives) {
      const results = ways.map(() => []);
      for (const [, make] of ways) await timeOnce(tmp, make(tgz)); // warm up
      for (let r = 0; r < RUNS; r++)
        for (const [i, [, make]] of ways.entries()) results[i].push(await timeOnce(tmp, make(tgz)));
      const packed = (fs.statSync(tgz).size / 1e6).toFixed(1);
      const cells = ways.map(([name], i) => {
        const wall = median(results[i].map((x) => x.ms)).toFixed(0);
        // GNU tar runs in a child: its CPU is not this process's.
        const cpu = name.startsWith('GNU') ? '-' : median(results[i].map((x) => x.cpuMs)).toFixed(0);
        return `${name} ${wall} / ${cpu}`;
      });
      console.log(`${label}, ${packed} MB packed: ${cells.join('   ')}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
