// The single executable's entry point (scripts/build-sea.js bundles it with everything it uses).
// oclif runs as it does from the npm package, with two differences, both because the executable
// holds no files: package.json is an asset of the executable, and the explicit command map
// (src/commands/index.ts) that oclif `require`s is answered from require.cache under the
// executable's own path. The bundle's banner gives this script a file-capable `require`
// (module.createRequire), as Node's documentation of single executables describes.
import { restoreEngineCheckVariable } from './sea-engine-check';
import { flush, handle, run, settings, type Hook } from '@oclif/core';
import * as path from 'node:path';
import { getAsset } from 'node:sea';
import { COMMANDS } from '../commands';
import * as autocomplete from 'autocomplete-commands';

// Loaded when oclif fires the hook (a mistyped command), as the npm package's hook file is: the
// nearest-command search and its collator are not start-up work.
const notFound: Hook<'command_not_found'> = async function (opts) {
  const { default: hook } = await import('./not-found');
  return hook.call(this, opts);
};

export const SINGLE_FILE_NOTE = 'single-file executable: Node.js is built in, nothing else needs to be installed';

async function main(): Promise<void> {
  restoreEngineCheckVariable();
  const exe = process.execPath;
  const commands = {
    ...COMMANDS,
    autocomplete: autocomplete.autocomplete,
    'autocomplete:create': autocomplete.create,
    'autocomplete:script': autocomplete.script,
  };
  require.cache[exe] = {
    id: exe,
    filename: exe,
    loaded: true,
    exports: { COMMANDS: commands, notFound },
  } as unknown as NodeJS.Module;
  const pjson = JSON.parse(getAsset('package.json', 'utf8'));
  const self = `./${path.basename(exe)}`;
  pjson.oclif.commands = { strategy: 'explicit', target: self, identifier: 'COMMANDS' };
  pjson.oclif.hooks = { command_not_found: { target: self, identifier: 'notFound' } };
  // Plugins are packages on disk; the executable has none: shell completion's commands are bundled.
  delete pjson.oclif.plugins;
  // Compiled code only: under NODE_ENV=development or test oclif would otherwise look for
  // TypeScript and ts-node beside the executable and load them from disk.
  settings.enableAutoTranspile = false;
  const argv = process.argv.slice(2);
  await run(argv, { root: path.dirname(exe), pjson });
  // oclif answers a leading --version with its version line; this one says which build it is.
  if (argv[0] === '--version') process.stdout.write(`${SINGLE_FILE_NOTE}\n`);
  await flush();
}

main().catch(handle);
