#!/usr/bin/env node
// Entry point of the npm package: oclif finds the commands in dist/commands (built by `npm run build`).
'use strict';
const oclif = require('@oclif/core');

oclif.execute({ dir: __dirname }).catch(oclif.handle);
