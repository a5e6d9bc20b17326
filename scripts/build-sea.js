#!/usr/bin/env node
// `npm run dist`: the single-file executable dist/sea/borg-provision-linux-<arch>, built with Node's
// single executable applications: one esbuild bundle of the whole CLI (src/cli/sea-main.ts) as the
// main script with V8's code cache, the signing key, the Vagrant templates and package.json as
// assets, injected with postject into a copy of this Node binary. SHA256SUMS is written beside it.
'use strict';
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');
const { inject } = require('postject');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'sea');
const ARCH = { x64: 'x64', arm64: 'arm64' }[process.arch] ?? process.arch;
const name = `borg-provision-linux-${ARCH}`;
const exe = path.join(out, name);
// Files the code reads through src/util/package-files.ts (kept equal by test/e2e/single-executable.test.ts).
const ASSETS = ['package.json', 'keys/borg-signing-key.asc', 'vagrant/provision.sh', 'vagrant/borg-dir.spec'];

/**
 * The executable has no plugin folders, so shell completion's commands are bundled into it. They
 * are not exported by @oclif/plugin-autocomplete (a plugin is found by its folder): taken from the
 * exact version package.json pins, and test/e2e/single-executable.test.ts runs them.
 */
const autocompleteCommands = {
  name: 'autocomplete-commands',
  setup(build) {
    build.onResolve({ filter: /^autocomplete-commands$/ }, () => ({
      path: 'autocomplete-commands',
      namespace: 'autocomplete',
    }));
    build.onLoad({ filter: /.*/, namespace: 'autocomplete' }, () => {
      const dir = path.join(root, 'node_modules', '@oclif', 'plugin-autocomplete', 'lib', 'commands', 'autocomplete');
      const file = (name) => JSON.stringify(path.join(dir, `${name}.js`));
      return {
        contents: `export { default as autocomplete } from ${file('index')};
export { default as create } from ${file('create')};
export { default as script } from ${file('script')};`,
        resolveDir: dir,
      };
    });
  },
};

/**
 * oclif reads a tsconfig.json only to run TypeScript sources in development (NODE_ENV=development,
 * from a checkout); its `require('typescript')` sits in a try that falls back to compiled code.
 * Bundled, that one require would be most of the executable's script, compiled at every start.
 */
const noTypescript = {
  name: 'no-typescript',
  setup(build) {
    build.onResolve({ filter: /^typescript$/ }, () => ({ path: 'typescript', namespace: 'no-typescript' }));
    build.onLoad({ filter: /.*/, namespace: 'no-typescript' }, () => ({
      contents: "throw new Error('typescript is not part of the single executable');",
    }));
  },
};

/**
 * The main script is decoded from UTF-8 at every start, and a single non-ASCII character sends all
 * of it down V8's slow decoding path into a two-byte string. esbuild escapes non-ASCII characters
 * everywhere but in regular-expression literals (ansis has a raw U+009B in one); a \uXXXX escape of
 * each UTF-16 unit means the same there, in strings and in comments.
 */
function escapeNonAscii(file) {
  const text = fs.readFileSync(file, 'utf8');
  const ascii = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  fs.writeFileSync(file, ascii);
}

/**
 * Builds one single executable: `entry` bundled by esbuild (with `plugins`, and always without
 * TypeScript) as the main script with V8's code cache, `assets` (name -> file) injected with it
 * into a copy of this Node binary at `exe`. The bundle, its config and the blob are removed
 * afterwards.
 */
async function buildExecutable({ entry, exe, assets = {}, plugins = [] }) {
  const dir = path.dirname(exe);
  fs.mkdirSync(dir, { recursive: true });
  const bundle = path.join(dir, 'main.js');
  await esbuild.build({
    entryPoints: [entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Names kept: error classes report their own name (ProvisionError sets it from new.target).
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'error',
    // The main script of a single executable gets a `require` for built-in modules only; ES modules
    // bundled here (openpgp's) ask for import.meta.url, which a CommonJS bundle lacks.
    banner: {
      js: "require = require('node:module').createRequire(process.execPath); const __importMetaUrl = require('node:url').pathToFileURL(process.execPath).href;",
    },
    define: { 'import.meta.url': '__importMetaUrl' },
    plugins: [...plugins, noTypescript],
  });
  escapeNonAscii(bundle);
  const config = path.join(dir, 'sea-config.json');
  const blob = path.join(dir, 'sea-prep.blob');
  fs.writeFileSync(
    config,
    JSON.stringify(
      { main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets },
      null,
      2,
    ),
  );
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });
  fs.copyFileSync(process.execPath, exe);
  await inject(exe, 'NODE_SEA_BLOB', fs.readFileSync(blob), {
    sentinelFuse: 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  });
  fs.chmodSync(exe, 0o755);
  for (const f of [bundle, config, blob]) fs.rmSync(f);
}

async function main() {
  fs.rmSync(out, { recursive: true, force: true });
  await buildExecutable({
    entry: path.join(root, 'src', 'cli', 'sea-main.ts'),
    exe,
    assets: Object.fromEntries(ASSETS.map((a) => [a, path.join(root, a)])),
    plugins: [autocompleteCommands],
  });
  const sum = createHash('sha256').update(fs.readFileSync(exe)).digest('hex');
  fs.writeFileSync(path.join(out, 'SHA256SUMS'), `${sum}  ${name}\n`);
  console.log(`${path.relative(root, exe)} (${(fs.statSync(exe).size / 1e6).toFixed(1)} MB), sha256 ${sum}`);
}

module.exports = { buildExecutable };

if (require.main === module) {
  main().catch((err) => {
    console.error(`build-sea: ${err.message}`);
    process.exit(1);
  });
}
