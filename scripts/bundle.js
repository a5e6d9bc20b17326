#!/usr/bin/env node
// Bundles what `borg-provision install` runs into dist/bundle/ (part of `npm run build`, after tsc):
//   install.js                 the install fast path (dist/cli/fast-install.js and all it loads);
//   stream-worker.bundle.js    the verification worker, openpgp.js included;
//   stream-worker.js           the worker's entry: loads the bundle above through its code cache.
// bin/run.js loads install.js through src/util/code-cache.ts. WHY: one file with a V8 code cache
// beside it instead of ~95 modules resolved, read and compiled on every run (README, "Benchmark").
// dist/bundle/ sits beside dist/verify/, so paths the code builds from __dirname (the bundled key:
// ../../keys) hold in both. src/util/code-cache is left out of the bundles on purpose: the loader
// and the bundled code must share its one instance (whenWarm/warm).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const dist = path.resolve(__dirname, '..', 'dist');
const out = path.join(dist, 'bundle');

/** Resolved at run time, not bundled: the code cache's loader, and undici's index (undici-lite's fallback). */
const keepOut = {
  name: 'keep-out',
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, (a) => ({ path: a.path, external: true }));
    build.onResolve({ filter: /[\\/]util[\\/]code-cache$/ }, () => ({ path: '../util/code-cache', external: true }));
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', plugins: [keepOut], legalComments: 'none' };

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  await esbuild.build({
    ...common,
    entryPoints: [path.join(dist, 'cli', 'fast-install.js')],
    outfile: path.join(out, 'install.js'),
    // Only the worker uses openpgp.js; oclif is never on this path.
    external: ['openpgp', '@oclif/core', '@oclif/plugin-help'],
  });
  await esbuild.build({ ...common, entryPoints: [path.join(dist, 'verify', 'stream-worker.js')], outfile: path.join(out, 'stream-worker.bundle.js') });
  fs.writeFileSync(
  path.join(out, 'stream-worker.js'),
  `'use strict';
// The verification worker's entry, written by scripts/bundle.js: its bundle, through the code cache,
// which is saved once the worker has judged a signature (src/util/code-cache.ts).
const { requireCached, whenWarm } = require('../util/code-cache');
const worker = requireCached(require('node:path').join(__dirname, 'stream-worker.bundle.js'));
whenWarm(() => worker.saveCache());
`,
  );
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
