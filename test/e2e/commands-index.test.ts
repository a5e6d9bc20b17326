// The explicit command map (src/commands/index.ts) names every command file, and the generated
// command reference (docs/commands.md) is what the commands say today.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/commands';
import { repoRoot } from '../helpers/cli';

function commandFiles(dir: string, prefix = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return commandFiles(path.join(dir, e.name), `${prefix}${e.name}:`);
    return e.name.endsWith('.ts') && e.name !== 'index.ts' ? [`${prefix}${e.name.slice(0, -3)}`] : [];
  });
}

test('every file under src/commands is in the command map, and nothing else', () => {
  expect(Object.keys(COMMANDS).sort()).toEqual(commandFiles(path.join(repoRoot, 'src', 'commands')).sort());
});

test('docs/commands.md is generated from the commands as they are', () => {
  expect(() =>
    execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'commands-doc.js'), '--check'], { stdio: 'pipe' }),
  ).not.toThrow();
});
