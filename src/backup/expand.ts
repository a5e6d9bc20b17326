// $VARS and ~ in source paths, as the origin script's os.path.expandvars did: an unset variable
// stays as written (the missing-source check then names it).
import * as os from 'node:os';
import * as path from 'node:path';

export function expandPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
  const vars = p.replace(
    /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (whole, a?: string, b?: string) => {
      const value = env[(a ?? b) as string];
      return value === undefined ? whole : value;
    },
  );
  const home = env.HOME || os.homedir();
  if (vars === '~') return home;
  if (vars.startsWith('~/')) return path.join(home, vars.slice(2));
  return vars;
}
