#!/usr/bin/env node
// Entry point of the npm package: oclif finds the commands through dist/commands/index.js (built
// by `npm run build`); run + flush as execute() does, but what escapes oclif is rendered our way.
'use strict';
const oclif = require('@oclif/core');

oclif.run(process.argv.slice(2), __dirname).then(
  () => oclif.flush(),
  (err) => require('../dist/cli/top-failure').renderTopFailure(err),
);
