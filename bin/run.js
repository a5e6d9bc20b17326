#!/usr/bin/env node
// Entry point: oclif finds the commands in dist/commands (built by `npm ci` through `prepare`).
// Plain `detect` invocations take a fast path that does not load oclif (see
// src/cli/fast-detect.ts for why and what counts as plain); everything else goes to oclif.
'use strict';

function runOclif() {
  return require('@oclif/core')
    .execute({ dir: __dirname })
    .catch(require('@oclif/core').handle);
}

function loadFastPath() {
  try {
    return require('../dist/cli/fast-detect');
  } catch {
    return null; // a partial build: oclif will say what is wrong
  }
}

const fast = process.argv[2] === 'detect' ? loadFastPath() : null;
const plain = fast && fast.plainDetectArgs(process.argv.slice(2));
if (plain) {
  fast.runFastDetect(plain).then((outcome) => (outcome === 'fallback' ? runOclif() : undefined));
} else {
  runOclif();
}
