// src/util/code-cache.ts with real files: a CommonJS file loaded through a V8 code cache beside it,
// the cache written once by its owner, taken by the next load, and refused when it is not to be
// trusted (another owner, writable by others) or is not V8's (garbage).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleIsCurrent, cacheFileOf, requireCached, warm, whenWarm } from '../../src/util/code-cache';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-code-cache-'));
  file = path.join(dir, 'bundle.js');
  // Enough code for V8 to have something to cache, and a require relative to the file.
  fs.writeFileSync(path.join(dir, 'dep.js'), 'module.exports = 40;\n');
  const fns = Array.from({ length: 50 }, (_, i) => `function f${i}(x) { return x.map((y) => y * ${i}).filter(Boolean).length; }`).join('\n');
  fs.writeFileSync(file, `${fns}\nexports.answer = () => require('./dep') + f1([1, 2]);\nexports.where = __dirname;\n`);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const load = (): ReturnType<typeof requireCached> => requireCached(file);

test('loads the file as a module (its require and __dirname are its own) and saves its cache once asked', () => {
  const first = load();
  expect((first.exports as { answer: () => number }).answer()).toBe(42);
  expect((first.exports as { where: string }).where).toBe(dir);
  expect(first.fromCache).toBe(false);
  expect(fs.existsSync(cacheFileOf(file))).toBe(false); // nothing written before saveCache()
  first.saveCache();
  expect(fs.statSync(cacheFileOf(file)).size).toBeGreaterThan(0);
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

  const second = load();
  expect(second.fromCache).toBe(true);
  expect((second.exports as { answer: () => number }).answer()).toBe(42);
  const before = fs.statSync(cacheFileOf(file)).mtimeMs;
  second.saveCache(); // taken, so not written again
  expect(fs.statSync(cacheFileOf(file)).mtimeMs).toBe(before);
});

test('a cache V8 refuses (garbage, or another source) is not used, and is replaced', () => {
  fs.writeFileSync(cacheFileOf(file), Buffer.alloc(4096, 7));
  const m = load();
  expect(m.fromCache).toBe(false);
  expect((m.exports as { answer: () => number }).answer()).toBe(42);
  m.saveCache();
  expect(load().fromCache).toBe(true);
});

test('a bundle rewritten to the same length does not take the old cache (V8 would), and gets a new one', () => {
  load().saveCache();
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, text.replace("require('./dep') + f1", "require('./dep') - f1")); // same length
  const m = load();
  expect(m.fromCache).toBe(false);
  expect((m.exports as { answer: () => number }).answer()).toBe(38); // the new source ran
  m.saveCache();
  const again = load();
  expect(again.fromCache).toBe(true);
  expect((again.exports as { answer: () => number }).answer()).toBe(38);
});

test('a damaged cache (one byte changed, or cut short) is not given to V8, which would run it', () => {
  load().saveCache();
  const good = fs.readFileSync(cacheFileOf(file));
  const flipped = Buffer.from(good);
  flipped[flipped.length - 100] ^= 0xff;
  fs.writeFileSync(cacheFileOf(file), flipped);
  expect(load().fromCache).toBe(false);
  fs.writeFileSync(cacheFileOf(file), good.subarray(0, good.length >> 1));
  expect(load().fromCache).toBe(false);
  fs.writeFileSync(cacheFileOf(file), good);
  expect(load().fromCache).toBe(true);
});

test('a cache with a second name (a hard link) is not trusted', () => {
  load().saveCache();
  fs.linkSync(cacheFileOf(file), path.join(dir, 'other-name'));
  expect(load().fromCache).toBe(false);
  fs.rmSync(path.join(dir, 'other-name'));
  expect(load().fromCache).toBe(true);
});

test('saving never fails the run: something in the temp file\'s way means no cache, and no error', () => {
  fs.mkdirSync(`${cacheFileOf(file)}.${process.pid}.tmp`);
  const m = load();
  expect(() => m.saveCache()).not.toThrow();
  expect(fs.existsSync(cacheFileOf(file))).toBe(false);
  let saves = 0;
  whenWarm(() => {
    saves++;
    throw new Error('disk on fire');
  });
  expect(() => warm()).not.toThrow();
  expect(saves).toBe(1);
});

test('a cache writable by others is not trusted', () => {
  load().saveCache();
  fs.chmodSync(cacheFileOf(file), 0o666);
  expect(load().fromCache).toBe(false);
  fs.chmodSync(cacheFileOf(file), 0o644);
  expect(load().fromCache).toBe(true);
});

test('a cache owned by someone other than the file is not trusted, nor written for a file not ours', () => {
  expect(process.getuid?.()).toBe(0); // chown needs root; CI runs the tests as root
  load().saveCache();
  fs.chownSync(cacheFileOf(file), 65534, 65534);
  expect(load().fromCache).toBe(false);
  // A bundle owned by another user: this process does not write a cache beside it.
  fs.rmSync(cacheFileOf(file));
  fs.chownSync(file, 65534, 65534);
  load().saveCache();
  expect(fs.existsSync(cacheFileOf(file))).toBe(false);
});

test('a symlink in the cache\'s place is not followed', () => {
  const real = load();
  real.saveCache();
  fs.renameSync(cacheFileOf(file), path.join(dir, 'elsewhere.cache'));
  fs.symlinkSync(path.join(dir, 'elsewhere.cache'), cacheFileOf(file));
  expect(load().fromCache).toBe(false);
});

test('warm() runs what was registered, once; without a registration it does nothing', () => {
  warm(); // nothing registered: no-op
  let saves = 0;
  whenWarm(() => saves++);
  warm();
  warm();
  expect(saves).toBe(1);
});

test('a bundle counts as current only while node_modules holds the versions it was made from', () => {
  const bundleDir = path.join(dir, 'dist', 'bundle');
  fs.mkdirSync(bundleDir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules', 'dep'), { recursive: true });
  const pkg = path.join(dir, 'node_modules', 'dep', 'package.json');
  expect(bundleIsCurrent(bundleDir)).toBe(false); // no deps.json: not a bundle we made
  fs.writeFileSync(path.join(bundleDir, 'deps.json'), JSON.stringify({ 'node_modules/dep/package.json': '1.2.3' }));
  fs.writeFileSync(pkg, JSON.stringify({ name: 'dep', version: '1.2.3' }));
  expect(bundleIsCurrent(bundleDir)).toBe(true);
  fs.writeFileSync(pkg, JSON.stringify({ name: 'dep', version: '1.2.4' })); // updated, not rebuilt
  expect(bundleIsCurrent(bundleDir)).toBe(false);
  fs.rmSync(pkg);
  expect(bundleIsCurrent(bundleDir)).toBe(false);
});
