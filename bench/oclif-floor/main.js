// The floor under every borg-provision start: a single executable built the same way
// (scripts/build-sea.js) that holds oclif and one command printing `{}`, found through the same
// explicit command strategy. detect.bench.js times it beside `node -e 0` and ours.
'use strict';
const path = require('node:path');
// As src/cli/sea-engine-check.ts does for ours, before oclif loads.
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
const { Command, flush, handle, run, settings } = require('@oclif/core');

class Empty extends Command {
  static description = 'prints {}';
  async run() {
    this.log('{}');
  }
}

async function main() {
  const exe = process.execPath;
  require.cache[exe] = { id: exe, filename: exe, loaded: true, exports: { COMMANDS: { empty: Empty } } };
  const pjson = {
    name: 'oclif-floor',
    version: '1.0.0',
    oclif: {
      bin: 'oclif-floor',
      commands: { strategy: 'explicit', target: `./${path.basename(exe)}`, identifier: 'COMMANDS' },
    },
  };
  settings.enableAutoTranspile = false;
  await run(process.argv.slice(2), { root: path.dirname(exe), pjson });
  await flush();
}

main().catch(handle);
