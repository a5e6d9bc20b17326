#!/usr/bin/env node
// Whole-process start-up cost of `borg-provision detect --json`: the single-file executable and
// the npm package's ./bin/run.js, against a bare `node -e 0` and binutils' `readelf -V` on the
// same libc; with no borg on PATH, and with a Python borg on PATH (Debian's borgbackup) when there
// is one. Beside them, the floor: an executable built the same way that holds only oclif and one
// command printing `{}` (bench/oclif-floor). Runs are interleaved (load from other processes hits
// every case alike); medians. Target: the executable's detect --json at most 1.3x `node -e 0`.
// Options (env): BENCH_RUNS (default 15).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
// Not measure(): GNU time's own fork+exec would be a large share of a 2 ms readelf run.
const { median } = require('./lib/measure');
const { buildExecutable } = require('../scripts/build-sea');

const RUNS = Number(process.env.BENCH_RUNS) || 15;
const root = path.join(__dirname, '..');
const BIN = path.join(root, 'bin', 'run.js');
const SEA = path.join(root, 'dist', 'sea', `borg-provision-linux-${process.arch}`);
const TARGET_RATIO = 1.3;
// A PATH with no borg on it: only the tools detect itself runs.
const NO_BORG = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-bench-detect-'));
const env = { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: '' };

function timeOnce(cmd, args, extraEnv = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`);
  return { ms, stdout: String(r.stdout) };
}

async function main() {
  if (!fs.existsSync(SEA)) throw new Error(`${SEA} is missing: run \`npm run dist\` first`);
  const floor = path.join(NO_BORG, 'floor', 'oclif-floor');
  await buildExecutable({ entry: path.join(__dirname, 'oclif-floor', 'main.js'), exe: floor });
  const first = timeOnce(SEA, ['detect', '--json']); // also warms the page cache
  const doc = JSON.parse(first.stdout);
  const libc = doc.libc.path;
  const noBorg = { PATH: NO_BORG };
  const cases = [
    { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
    { name: 'executable detect --json', cmd: SEA, args: ['detect', '--json'], env: noBorg },
    { name: `readelf -V ${path.basename(libc)}`, cmd: 'readelf', args: ['-V', libc] },
    { name: 'executable --version', cmd: SEA, args: ['--version'], env: noBorg },
    { name: 'oclif alone: one command, executable', cmd: floor, args: ['empty'], env: noBorg },
    { name: 'npm package detect --json', cmd: process.execPath, args: [BIN, 'detect', '--json'], env: noBorg },
  ];
  if (doc.borg.length > 0) {
    cases.push({ name: 'executable detect --json, borg on PATH', cmd: SEA, args: ['detect', '--json'] });
    cases.push({ name: `borg -V (${doc.borg[0].path})`, cmd: doc.borg[0].path, args: ['-V'] });
  }
  const samples = cases.map(() => []);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => samples[j].push(timeOnce(c.cmd, c.args, c.env).ms));
  const med = samples.map(median);
  const [node, detect, readelf] = med;
  console.log(`libc: ${libc}; ${RUNS} interleaved runs each, median wall time`);
  console.log(
    `${'command'.padEnd(44)}${'median ms'.padStart(10)}${'vs node -e 0'.padStart(14)}${'vs readelf'.padStart(12)}`,
  );
  cases.forEach((c, j) => {
    const row =
      `${c.name.padEnd(44)}${med[j].toFixed(1).padStart(10)}` +
      `${(med[j] / node).toFixed(2).padStart(13)}x${(med[j] / readelf).toFixed(2).padStart(11)}x`;
    console.log(row);
  });
  const floorMs = med[cases.findIndex((c) => c.cmd === floor)];
  console.log(`floor: oclif alone is ${(floorMs / node).toFixed(2)}x node -e 0 before any command of ours runs`);
  const ratio = detect / node;
  console.log(
    `target: executable detect --json <= ${TARGET_RATIO}x node -e 0: ${ratio.toFixed(2)}x, ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}`,
  );
  fs.rmSync(NO_BORG, { recursive: true, force: true });
}

main().catch((err) => {
  fs.rmSync(NO_BORG, { recursive: true, force: true });
  console.error(err.message);
  process.exit(1);
});
