// The outside programs tests run (gpg, tar, shellcheck, systemd-analyze, ...). A test asks for each
// before it first spawns it, so that a machine without one fails with the tool and the apt package
// that brings it, instead of an `spawn ... ENOENT` deep inside a helper.
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

/** Where `tool` is on `searchPath` (default: this process's PATH), or null. */
export function findTool(tool: string, searchPath = process.env.PATH ?? ''): string | null {
  const dirs = path.isAbsolute(tool) ? [path.dirname(tool)] : searchPath.split(path.delimiter);
  tool = path.basename(tool);
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = path.join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** The full path of `tool`, or an error that names it and the apt package to install. */
export function requireTool(tool: string, aptPackage: string, searchPath = process.env.PATH ?? ''): string {
  const found = findTool(tool, searchPath);
  if (found === null) {
    throw new Error(`this test needs ${tool}, which is not on PATH: apt-get install ${aptPackage}`);
  }
  return found;
}
