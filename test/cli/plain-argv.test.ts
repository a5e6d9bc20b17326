// What the start-up fast paths take (plain command lines) and what they leave to oclif.
import Install from '../../src/commands/install';
import { plainInstallArgs } from '../../src/cli/fast-install';
import { INSTALL_FLAG_KINDS } from '../../src/cli/install-args';
import { plainArgv } from '../../src/cli/plain-argv';

const table = { json: 'boolean', force: 'boolean', prefix: 'string' } as const;

describe('plainArgv', () => {
  test.each([
    [['x'], { args: [], flags: {} }],
    [['x', '1.4.2'], { args: ['1.4.2'], flags: {} }],
    [['x', '--json', '1.4.2', '--prefix', '/p q'], { args: ['1.4.2'], flags: { json: true, prefix: '/p q' } }],
    [['x', '--prefix=/a=b', '--force'], { args: [], flags: { prefix: '/a=b', force: true } }],
    [['x', '--prefix', 'has space'], { args: [], flags: { prefix: 'has space' } }],
  ])('takes %j', (argv, want) => {
    expect(plainArgv(argv, 'x', table, 1, {})).toEqual(want);
  });

  test.each([
    [['y']], // another command
    [['x', '1', '2']], // too many arguments
    [['x', '']], // an empty argument
    [['x', '--help']], [['x', '-h']], [['x', '--']], [['x', '-V']],
    [['x', '--json', '--json']], // repeated
    [['x', '--json=1']], // a value for a boolean
    [['x', '--prefix']], [['x', '--prefix=']], [['x', '--prefix', '--json']], [['x', '--prefix', '-p']],
    [['x', '--bogus']], [['x', '--constructor']], [['x', '--toString=1']], // not in the table (own keys only)
    [['x', '--PREFIX', 'p']],
  ])('leaves %j to oclif', (argv) => {
    expect(plainArgv(argv, 'x', table, 1, {})).toBeNull();
  });

  test.each([[{ DEBUG: '1' }], [{ BORG_PROVISION_FAST_PATH: '0' }], [{ BORG_PROVISION_CONTENT_TYPE: 'json' }]])('leaves everything to oclif with %j', (env) => {
    expect(plainArgv(['x'], 'x', table, 1, env)).toBeNull();
  });
});

describe('plainInstallArgs', () => {
  test('splits --json from the install flags', () => {
    expect(plainInstallArgs(['install', '1.4.2', '--json', '--dry-run', '--bin-dir', '/b'], {})).toEqual({
      version: '1.4.2',
      json: true,
      flags: { 'dry-run': true, 'bin-dir': '/b' },
    });
    expect(plainInstallArgs(['install', '--from=./a.tgz'], {})).toEqual({ version: undefined, json: false, flags: { from: './a.tgz' } });
  });

  test("its flag table is the oclif command's, flag for flag and kind for kind", () => {
    const oclif = Object.fromEntries(Object.entries(Install.flags).map(([name, f]) => [name, f.type === 'boolean' ? 'boolean' : 'string']));
    expect({ ...oclif, json: 'boolean' }).toEqual(INSTALL_FLAG_KINDS); // json: BaseCommand.enableJsonFlag
    expect(Object.keys(Install.args)).toEqual(['version']);
  });
});
