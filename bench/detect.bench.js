#!/usr/bin/env node
// Whole-process start-up cost of `borg-provision detect --json`, against a bare `node -e 0` and
// against binutils' `readelf -V` on the same libc. Runs are interleaved (so load from other
// processes hits all three alike) and the median of each is reported.
// Target: detect --json at most 2x a bare `node -e 0`.
// Also shown: the same command with the oclif-free fast path switched off, and --help.
// Options (env): BENCH_RUNS (default 15), BENCH_BIN (default ./bin/run.js).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
// Not measure(): GNU time's own fork+exec would be a large share of a 2 ms readelf run.
const { median } = require('./lib/measure');

const RUNS = Number(process.env.BENCH_RUNS) || 15;
const BIN = process.env.BENCH_BIN || path.join(__dirname, '..', 'bin', 'run.js');
const TARGET_RATIO = 2;
const env = { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: '' };

function timeOnce(cmd, args, extraEnv = {}) {
  const started = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${String(r.stderr).trim()}`);
  return { ms, stdout: String(r.stdout) };
}

function main() {
  const first = timeOnce(process.execPath, [BIN, 'detect', '--json']); // also warms the page cache
  const libc = JSON.parse(first.stdout).libc.path;
  const cases = [
    { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
    { name: 'detect --json', cmd: process.execPath, args: [BIN, 'detect', '--json'] },
    { name: `readelf -V ${path.basename(libc)}`, cmd: 'readelf', args: ['-V', libc] },
    // For comparison: the same command through oclif (what every other command pays).
    { name: 'detect --json, fast path off', cmd: process.execPath, args: [BIN, 'detect', '--json'], env: { BORG_PROVISION_FAST_PATH: '0' } },
    { name: 'detect --help (oclif)', cmd: process.execPath, args: [BIN, 'detect', '--help'] },
  ];
  const samples = cases.map(() => []);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, j) => samples[j].push(timeOnce(c.cmd, c.args, c.env).ms));
  const med = samples.map(median);
  const [node, detect, readelf] = med;
  console.log(`libc: ${libc}; ${RUNS} interleaved runs each, median wall time`);
  console.log(`${'command'.padEnd(34)}${'median ms'.padStart(10)}${'vs node -e 0'.padStart(14)}${'vs readelf'.padStart(12)}`);
  cases.forEach((c, j) => {
    const row = `${c.name.padEnd(34)}${med[j].toFixed(1).padStart(10)}` +
      `${(med[j] / node).toFixed(2).padStart(13)}x${(med[j] / readelf).toFixed(2).padStart(11)}x`;
    console.log(row);
  });
  const ratio = detect / node;
  console.log(`target: detect --json <= ${TARGET_RATIO}x node -e 0: ${ratio.toFixed(2)}x, ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'}`);
}

main();
