// Puts the stand-in `vagrant` (and `virsh`) of fake-vagrant-bin.js first on PATH for a test, and reads
// back the calls it recorded.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FAKE_VAGRANT_JS = path.join(__dirname, 'fake-vagrant-bin.js');

export interface FakeCall {
  tool: 'vagrant' | 'virsh';
  args: string[];
  cwd: string;
}

export interface FakeVagrant {
  binDir: string;
  callLog: string;
  /** Environment for the CLI: PATH with the fakes first, the call log, the borg-dir to pack. */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  calls(): FakeCall[];
  /** The vagrant sub-commands called, in order: ['--version', 'plugin', 'up', 'ssh', 'ssh', 'destroy']. */
  commands(): string[];
}

/**
 * @param dir a temp dir of the test
 * @param borgDirParent a directory holding `borg-dir/` (e.g. from BorgFixtures.borgDir) for `up` to pack
 * @param tools which fakes to provide (leave one out to test a missing prerequisite)
 */
export function installFakeVagrant(
  dir: string,
  borgDirParent: string,
  tools: Array<'vagrant' | 'virsh'> = ['vagrant', 'virsh'],
): FakeVagrant {
  const binDir = path.join(dir, 'fake-bin');
  fs.mkdirSync(binDir, { recursive: true });
  for (const tool of tools) {
    const wrapper = `#!/bin/sh\nFAKE_TOOL=${tool} exec '${process.execPath}' '${FAKE_VAGRANT_JS}' "$@"\n`;
    fs.writeFileSync(path.join(binDir, tool), wrapper, { mode: 0o755 });
  }
  // The few real tools the fake needs, and nothing else: the real vagrant in /usr/bin must never run.
  const toolDir = path.join(dir, 'fake-tools');
  fs.mkdirSync(toolDir, { recursive: true });
  for (const t of ['sh', 'tar', 'gzip']) {
    const real = ['/usr/bin', '/bin'].map((d) => path.join(d, t)).find((p) => fs.existsSync(p));
    if (real) fs.symlinkSync(real, path.join(toolDir, t));
  }
  const callLog = path.join(dir, 'fake-vagrant-calls.jsonl');
  const calls = (): FakeCall[] =>
    fs.existsSync(callLog)
      ? fs
          .readFileSync(callLog, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as FakeCall)
      : [];
  return {
    binDir,
    callLog,
    env: (extra = {}) => ({
      PATH: `${binDir}:${toolDir}`,
      FAKE_VAGRANT_LOG: callLog,
      FAKE_VAGRANT_BORG_DIR: borgDirParent,
      FAKE_VAGRANT_FAIL: '',
      ...extra,
    }),
    calls,
    commands: () =>
      calls()
        .filter((c) => c.tool === 'vagrant' && c.args[0] !== '<SIGINT>')
        .map((c) => c.args[0]!),
  };
}
