// `npm pack` makes a package that installs with its runtime dependencies only (no TypeScript, no
// jest, no build step) and runs: `npm install -g ./borg-provision-*.tgz` on a machine with Node.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../helpers/cli';
import { requireTool } from '../helpers/tools';

jest.setTimeout(300000);

let tmp: string;
beforeAll(() => requireTool('tar', 'tar'));
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-pack-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the packed package installs with runtime dependencies only and runs detect', () => {
  const npm = (args: string[], cwd = repoRoot): string =>
    execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  npm(['pack', '--pack-destination', tmp]);
  const tgz = fs.readdirSync(tmp).find((f) => /^borg-provision-.*\.tgz$/.test(f));
  expect(tgz).toBeDefined();
  const files = execFileSync('tar', ['tzf', path.join(tmp, tgz!)], { encoding: 'utf8' }).split('\n');
  expect(files).toEqual(
    expect.arrayContaining([
      'package/bin/run.js',
      'package/dist/commands/index.js',
      'package/keys/borg-signing-key.asc',
    ]),
  );
  expect(files.filter((f) => /^package\/(src|test)\/|\.map$|^package\/dist\/sea\//.test(f))).toEqual([]);

  const prefix = path.join(tmp, 'global');
  npm(['install', '-g', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', path.join(tmp, tgz!)], tmp);
  const modules = fs.readdirSync(path.join(prefix, 'lib', 'node_modules', 'borg-provision', 'node_modules'));
  expect(modules.filter((m) => ['typescript', 'jest', 'esbuild', 'ts-jest', 'postject'].includes(m))).toEqual([]);
  const bin = path.join(prefix, 'bin', 'borg-provision');
  expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toMatch(/^borg-provision\/\d+\.\d+\.\d+ linux-/);
  const doc = JSON.parse(execFileSync(bin, ['detect', '--json'], { encoding: 'utf8' }));
  expect(doc.libc.family).toBe('glibc');
});
