// The argument forms the start-up fast paths (src/cli/fast-detect.ts, src/cli/fast-install.ts)
// accept without oclif: `CMD [ARG...] [--flag] [--name VALUE | --name=VALUE]...`, each flag at most
// once, from a table of the command's flags. Anything else (help, -h, `--`, unknown or repeated
// flags, a value that is empty or starts with "-", too many arguments, DEBUG set, a JSON content
// type from the environment, BORG_PROVISION_FAST_PATH=0) is not plain: oclif gets it untouched and
// says what is wrong in its own words. So the fast paths never judge a command line differently.

export type FlagKind = 'boolean' | 'string';

export interface PlainArgv {
  args: string[];
  /** `true` for a boolean flag given; the value for a string flag. Flags not given are absent. */
  flags: Record<string, string | true>;
}

export function plainArgv(
  argv: readonly string[],
  command: string,
  table: Readonly<Record<string, FlagKind>>,
  maxArgs: number,
  env: NodeJS.ProcessEnv = process.env,
): PlainArgv | null {
  if (argv[0] !== command || env.DEBUG || env.BORG_PROVISION_FAST_PATH === '0' || env.BORG_PROVISION_CONTENT_TYPE) return null;
  const out: PlainArgv = { args: [], flags: {} };
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('-')) {
      if (token === '' || out.args.length >= maxArgs) return null;
      out.args.push(token);
      continue;
    }
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(token);
    const kind = m && Object.hasOwn(table, m[1]) ? table[m[1]] : undefined;
    if (!m || !kind || Object.hasOwn(out.flags, m[1])) return null;
    if (kind === 'boolean') {
      if (m[2] !== undefined) return null;
      out.flags[m[1]] = true;
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return null;
    out.flags[m[1]] = value;
  }
  return out;
}
