// `install` has a start-up fast path that skips oclif (src/cli/fast-install.ts). These tests run
// the same command lines both ways, each in its own throw-away user, and require the very same
// exit code, stdout and stderr (paths of the two sandboxes aside); and check that the fast path
// really loads no oclif.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliResult } from '../helpers/cli';
import { BorgFixtures } from '../helpers/borg-fixture';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { cacheFileOf } from '../../src/util/code-cache';
import { install, makeKeys, makeSandbox, type Keys, type Sandbox } from './sandbox';

jest.setTimeout(180000);

const ASSET = 'borg-linux-glibc231-x86_64.tgz';
let fx: BorgFixtures;
let fast: Sandbox;
let slow: Sandbox;
let keys: Keys;
/** Outside both sandboxes (the key file's path shows in warnings); no spaces (NODE_OPTIONS). */
let shared: string;
let gh: GithubServer;

beforeAll(async () => {
  fx = new BorgFixtures();
  fast = makeSandbox();
  slow = makeSandbox();
  shared = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-fast-path-'));
  keys = await makeKeys(shared);
  gh = await startGithubServer();
  for (const [tag, printed] of [['1.4.2', undefined], ['1.4.3', 'wrong-version'], ['1.4.4', undefined]] as const) {
    const tgz = fx.oneDirTgz(ASSET, tag, printed);
    const asc = await keys.sign(tgz);
    gh.addRelease(tag, [
      { name: ASSET, body: fs.readFileSync(tgz) },
      { name: `${ASSET}.asc`, body: fs.readFileSync(asc) },
    ]);
  }
});
afterAll(async () => {
  await gh.close();
  await keys.home.cleanup();
  fx.cleanup();
  fast.cleanup();
  slow.cleanup();
  fs.rmSync(shared, { recursive: true, force: true });
});

/** What a run showed, with the sandbox's own root written as <root>. */
function shown(r: CliResult, sb: Sandbox): { code: number | null; stdout: string; stderr: string } {
  const norm = (s: string): string => s.split(sb.root).join('<root>');
  return { code: r.code, stdout: norm(r.stdout), stderr: norm(r.stderr) };
}

const api = (): string[] => ['--api-url', gh.apiUrl, ...keys.keyFlags];

// In order: each line runs in both sandboxes, so both hold the same versions throughout.
const LINES: [string, () => string[], number][] = [
  ['installs, --json', () => ['1.4.2', ...api(), '--json'], 0],
  ['is already installed', () => ['1.4.2', ...api()], 0],
  ['plans, --dry-run', () => ['1.4.4', ...api(), '--dry-run'], 0],
  ['installs a second version, text', () => ['1.4.4', ...api()], 0],
  ['rolls back a borg printing the wrong version', () => ['1.4.3', ...api()], 6],
  ['rolls back, --json', () => ['1.4.3', ...api(), '--json'], 6],
  ['has no such release', () => ['9.9.9', ...api()], 3],
  ['has no such release, --json', () => ['9.9.9', ...api(), '--json'], 3],
  ['is given a bad --api-url', () => ['1.4.2', '--api-url', 'ftp://127.0.0.1/', ...keys.keyFlags], 2],
  ['is given no version', () => ['--json', ...api()], 2],
  ['is given a bad --glibc', () => ['1.4.2', ...api(), '--glibc', '2.x'], 2],
  ['is given a key file that is missing', () => ['1.4.4', ...api(), '--force', '--signing-key=/nonexistent.asc'], 2],
];

test.each(LINES)('same output both ways: %s', async (_name, args, code) => {
  const a = await install(fast, args(), { env: { BORG_PROVISION_FAST_PATH: '1' } });
  const b = await install(slow, args(), { env: { BORG_PROVISION_FAST_PATH: '0' } });
  expect(shown(a, fast)).toEqual(shown(b, slow));
  expect(a.code).toBe(code);
});

test('the fast path loads no oclif; the other way does', async () => {
  const probe = path.join(shared, 'probe.js');
  const out = path.join(shared, 'loaded.txt');
  fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, String(Object.keys(require.cache).some((f) => f.includes('/@oclif/core/')))));\n`);
  const run = async (fastPath: string): Promise<string> => {
    const r = await install(fast, ['1.4.4', ...api(), '--dry-run'], { env: { BORG_PROVISION_FAST_PATH: fastPath, NODE_OPTIONS: `--require ${probe}` } });
    expect(r.code).toBe(0);
    return fs.readFileSync(out, 'utf8');
  };
  expect(await run('1')).toBe('false');
  expect(await run('0')).toBe('true');
});

test('the fast path starts the signature worker before it loads the install pipeline', async () => {
  // The worker's start-up (openpgp.js, the key) then overlaps the loading of everything else.
  const probe = path.join(shared, 'order-probe.js');
  const out = path.join(shared, 'order.txt');
  fs.writeFileSync(
    probe,
    `const seen = [];
const wt = require('worker_threads');
const W = wt.Worker;
wt.Worker = class extends W { constructor(...a) { seen.push('worker'); super(...a); } };
const M = require('module');
const load = M._load;
M._load = function (req, ...rest) { if (/install[\\/]pipeline$/.test(req) || req === './pipeline') seen.push('pipeline'); return load.call(this, req, ...rest); };
process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, seen.join(' ')));
`,
  );
  // Module by module (BORG_PROVISION_BUNDLE=0): the probe sees module loads, which the bundle does not make.
  const r = await install(fast, ['1.4.4', ...api(), '--dry-run'], { env: { BORG_PROVISION_FAST_PATH: '1', BORG_PROVISION_BUNDLE: '0', NODE_OPTIONS: `--require ${probe}` } });
  expect(r.code).toBe(0);
  expect(fs.readFileSync(out, 'utf8')).toBe('worker pipeline');
});

test('a plain install runs from the bundle and leaves a V8 code cache beside it and the worker\'s', async () => {
  const bundles = path.resolve(__dirname, '..', '..', 'dist', 'bundle');
  const caches = ['install.js', 'stream-worker.bundle.js'].map((f) => cacheFileOf(path.join(bundles, f)));
  for (const c of caches) fs.rmSync(c, { force: true });
  const r = await install(fast, ['1.4.2', ...api(), '--force', '--json'], { env: { BORG_PROVISION_FAST_PATH: '1' } });
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({ action: expect.stringMatching(/^(re)?installed$/), version: '1.4.2' });
  for (const c of caches) expect(fs.statSync(c).size).toBeGreaterThan(100_000);
  // The same line module by module prints the same.
  const m = await install(fast, ['1.4.2', ...api(), '--force', '--json'], { env: { BORG_PROVISION_FAST_PATH: '1', BORG_PROVISION_BUNDLE: '0' } });
  expect(m.code).toBe(0);
  const gist = (out: string): unknown => {
    const j = JSON.parse(out);
    return { ...j, action: null, previous: null }; // what was current before differs between the two runs
  };
  expect(gist(m.stdout)).toEqual(gist(r.stdout));
});

