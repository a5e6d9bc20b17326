// A test that needs an outside program must fail naming the program and its apt package.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { findTool, requireTool } from './tools';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bp-tools-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a tool missing from PATH: the error names the tool and its apt package, not ENOENT', () => {
  const emptyPath = [dir, path.join(dir, 'nothing-here')].join(path.delimiter);
  expect(() => requireTool('shellcheck', 'shellcheck', emptyPath)).toThrow(
    'this test needs shellcheck, which is not on PATH: apt-get install shellcheck',
  );
  expect(() => requireTool('systemd-analyze', 'systemd', '')).toThrow(
    /needs systemd-analyze.*apt-get install systemd$/,
  );
});

test('a tool on PATH: its full path; a directory or a file that is not executable does not count', () => {
  const bin = path.join(dir, 'bin');
  writeFileSync(path.join(dir, 'plain'), 'not executable\n');
  const own = path.join(dir, 'mytool');
  writeFileSync(own, '#!/bin/sh\n');
  chmodSync(own, 0o755);
  expect(requireTool('mytool', 'my-package', `${bin}:${dir}`)).toBe(own);
  expect(findTool('plain', dir)).toBeNull();
  expect(findTool(path.basename(dir), os.tmpdir())).toBeNull();
  // The same answer as the shell's own lookup for a tool every machine has.
  const sh = spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).stdout.trim();
  expect(requireTool('sh', 'dash')).toBe(sh);
});

test('in a process whose PATH lacks the tool, the failure reaches the test as that one message', () => {
  // The helper as plain JavaScript, run by node with a PATH of one empty directory.
  const source = readFileSync(path.join(__dirname, 'tools.ts'), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS } }).outputText;
  const helper = path.join(dir, 'tools.js');
  writeFileSync(helper, js);
  const script = `require(${JSON.stringify(helper)}).requireTool('gpgv', 'gpgv')`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { PATH: dir }, encoding: 'utf8' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('this test needs gpgv, which is not on PATH: apt-get install gpgv');
  expect(r.stderr).not.toContain('ENOENT');
});
