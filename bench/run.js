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
// Some machines (CI images, corporate proxies) set NODE_EXTRA_CA_CERTS, which makes every Node
// start parse a CA bundle: a cost of the machine, not of the tool, and absent on a NAS. Every
// Node process the benches time starts without it, `node -e 0` included.
const env = { ...process.env };
if (env.NODE_EXTRA_CA_CERTS) console.log(`(NODE_EXTRA_CA_CERTS=${env.NODE_EXTRA_CA_CERTS} is unset for the benches)`);
delete env.NODE_EXTRA_CA_CERTS;
let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b}`);
  const r = spawnSync(process.execPath, [path.join(__dirname, b)], { stdio: 'inherit', env });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
