#!/usr/bin/env node
// Runs every bench/*.bench.js in turn (or only those named on the command line, e.g.
// `npm run bench -- detect`). Each bench prints its own table with ratios against the standard tool.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const only = process.argv.slice(2);
const benches = fs
  .readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmarks matched ${only.join(' ') || 'bench/*.bench.js'}`);
  process.exit(2);
}
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, b)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
