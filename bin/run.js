#!/usr/bin/env node
// Entry point: oclif finds the commands in dist/commands (built by `npm ci` through `prepare`).
// Plain `detect` and `install` command lines take a fast path that does not load oclif (see
// src/cli/plain-argv.ts for what counts as plain, and src/cli/fast-*.ts for why); everything else
// goes to oclif.
'use strict';

function runOclif() {
  // run + flush as execute() does, but what escapes oclif is rendered our way (src/cli/top-failure.ts).
  const oclif = require('@oclif/core');
  return oclif.run(process.argv.slice(2), __dirname).then(
    () => oclif.flush(),
    (err) => require('../dist/cli/top-failure').renderTopFailure(err),
  );
}

const FAST_PATHS = {
  detect: { module: '../dist/cli/fast-detect', plain: 'plainDetectArgs', run: 'runFastDetect' },
  install: { module: '../dist/cli/fast-install', bundle: '../dist/bundle/install.js', plain: 'plainInstallArgs', run: 'runFastInstall' },
};

function loadFastPath(command) {
  const spec = Object.hasOwn(FAST_PATHS, command) ? FAST_PATHS[command] : null;
  if (!spec) return null;
  try {
    const m = (spec.bundle && loadBundle(spec.bundle)) || require(spec.module);
    return { plain: m[spec.plain], run: m[spec.run] };
  } catch {
    return null; // a partial build: oclif will say what is wrong
  }
}

// The bundle of the fast path (scripts/bundle.js) with its V8 code cache (src/util/code-cache.ts):
// much less to compile on every run. Without one (BORG_PROVISION_BUNDLE=0, a build without
// bundles, a bundle older than node_modules or damaged), the modules are loaded one by one.
function loadBundle(relative) {
  const path = require('node:path');
  const file = path.join(__dirname, relative);
  if (process.env.BORG_PROVISION_BUNDLE === '0' || !require('node:fs').existsSync(file)) return null;
  try {
    const { bundleIsCurrent, requireCached, whenWarm } = require('../dist/util/code-cache');
    // Built from other dependency versions than node_modules holds now: the modules, not the bundle.
    if (!bundleIsCurrent(path.dirname(file))) return null;
    const bundle = requireCached(file);
    whenWarm(() => bundle.saveCache()); // once an install has run (src/cli/fast-install.ts)
    return bundle.exports;
  } catch {
    return null; // a damaged bundle: the modules one by one
  }
}

const fast = loadFastPath(process.argv[2]);
const plain = fast && fast.plain(process.argv.slice(2));
if (plain) {
  // 'fallback' (detect only, read-only): oclif runs the command again and reports it its own way.
  fast.run(plain).then((outcome) => (outcome === 'fallback' ? runOclif() : undefined));
} else {
  runOclif();
}
