#!/usr/bin/env node
// Entry point: oclif finds the commands in dist/commands (built by `npm ci` through `prepare`).
require('@oclif/core')
  .execute({ dir: __dirname })
  .catch(require('@oclif/core').handle);
