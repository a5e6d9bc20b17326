import { runCli } from '../helpers/cli';

describe('the CLI skeleton', () => {
  it('prints help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('borg-provision');
  });

  it('answers an unknown flag with exit 2, one line and no stack trace', async () => {
    const r = await runCli(['detect', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^borg-provision: error: .*no-such-flag/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
