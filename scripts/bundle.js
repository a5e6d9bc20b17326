#!/usr/bin/env node
// Bundles what `borg-provision install` runs into dist/bundle/ (part of `npm run build`, after tsc):
//   install.js                 the install fast path (dist/cli/fast-install.js and all it loads);
//   stream-worker.bundle.js    the verification worker, openpgp.js included;
//   stream-worker.js           the worker's entry: loads the bundle above through its code cache;
//   backup.js                  the backup stage (dist/backup/index.js), loaded by src/cli/backup-stage.ts.
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
    build.onResolve({ filter: /(^|[\\/])code-cache$/ }, () => ({ path: '../util/code-cache', external: true }));
  },
};

/**
 * The backup bundle's errors stay dist/errors.js: the commands that load the bundle judge what it
 * throws with instanceof, which a second copy of the classes inside the bundle would fail.
 */
const sharedErrors = {
  name: 'shared-errors',
  setup(build) {
    const ours = (importer) => importer.startsWith(dist) && !importer.includes('node_modules');
    const shared = { path: '../errors', external: true };
    build.onResolve({ filter: /(^|[\\/])errors$/ }, (a) => (ours(a.importer) ? shared : undefined));
  },
};

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', plugins: [keepOut], legalComments: 'none', metafile: true, absWorkingDir: path.resolve(__dirname, '..') };
const root = path.resolve(__dirname, '..');

/** package.json (relative to the project) -> version, of every package a bundle took files from. */
function dependencyVersions(metafiles) {
  const found = {};
  for (const meta of metafiles) {
    for (const input of Object.keys(meta.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (!m) continue;
      const pkg = path.relative(root, path.resolve(root, m[1], 'package.json'));
      found[pkg] ??= JSON.parse(fs.readFileSync(path.join(root, pkg), 'utf8')).version;
    }
  }
  return found;
}

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const builds = await Promise.all([
    esbuild.build({
      ...common,
      entryPoints: [path.join(dist, 'cli', 'fast-install.js')],
      outfile: path.join(out, 'install.js'),
      // Only the worker uses openpgp.js; oclif is never on this path.
      external: ['openpgp', '@oclif/core', '@oclif/plugin-help'],
    }),
    esbuild.build({ ...common, entryPoints: [path.join(dist, 'verify', 'stream-worker.js')], outfile: path.join(out, 'stream-worker.bundle.js') }),
    // The backup stage with zod and yaml: what every scheduled `backup run` loads, so its start-up
    // counts against borg's (bench/backup.bench.js). Minified: half the source for V8 to hold and
    // hash; names kept for error and class names.
    esbuild.build({
      ...common,
      entryPoints: [path.join(dist, 'backup', 'index.js')],
      outfile: path.join(out, 'backup.js'),
      plugins: [keepOut, sharedErrors],
      minify: true,
      keepNames: true,
    }),
  ]);
  // The bundles hold the dependencies as they are now; bin/run.js and the worker's entry load the
  // modules instead once node_modules holds other versions (an update without a rebuild).
  fs.writeFileSync(path.join(out, 'deps.json'), `${JSON.stringify(dependencyVersions(builds.map((b) => b.metafile)), null, 2)}\n`);
  fs.writeFileSync(
  path.join(out, 'stream-worker.js'),
  `'use strict';
// The verification worker's entry, written by scripts/bundle.js: its bundle, through the code cache,
// which is saved once the worker has judged a signature (src/util/code-cache.ts).
// Module by module instead when node_modules no longer holds what the bundle was made from.
const { bundleIsCurrent, requireCached, whenWarm } = require('../util/code-cache');
if (bundleIsCurrent(__dirname)) {
  const worker = requireCached(require('node:path').join(__dirname, 'stream-worker.bundle.js'));
  whenWarm(() => worker.saveCache());
} else {
  require('../verify/stream-worker');
}
`,
  );
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
