import { comparePep440, pep440ToSemver, isPrerelease } from '../../src/releases';

describe('comparePep440', () => {
  it('maps PEP 440 pre-releases to semver', () => {
    expect(pep440ToSemver('1.4.0b1')).toBe('1.4.0-beta.1');
    expect(pep440ToSemver('1.4.0rc1')).toBe('1.4.0-rc.1');
    expect(pep440ToSemver('1.4.0a2')).toBe('1.4.0-alpha.2');
    expect(pep440ToSemver('v2.0.0b22')).toBe('2.0.0-beta.22');
    expect(pep440ToSemver('1.4')).toBe('1.4.0');
    expect(pep440ToSemver('not-a-version')).toBeNull();
  });

  it('orders a real mix of borg versions', () => {
    const shuffled = [
      '2.0.0b22',
      '1.4.0',
      '1.4.0rc1',
      '1.2.10',
      '1.4.0b1',
      '2.0.0b3',
      '1.2.9',
      '1.4.0a1',
      '1.4.0.dev1',
      '1.4.5',
      '1.4.0.post1',
    ];
    expect([...shuffled].sort(comparePep440)).toEqual([
      '1.2.9',
      '1.2.10',
      '1.4.0.dev1',
      '1.4.0a1',
      '1.4.0b1',
      '1.4.0rc1',
      '1.4.0',
      '1.4.0.post1',
      '1.4.5',
      '2.0.0b3',
      '2.0.0b22',
    ]);
  });

  it('treats v-prefixed and bare tags alike', () => {
    expect(comparePep440('v1.4.2', '1.4.2')).toBe(0);
    expect(comparePep440('1.4.2', 'v1.4.10')).toBe(-1);
  });

  it('knows pre-releases', () => {
    expect(isPrerelease('2.0.0b22')).toBe(true);
    expect(isPrerelease('1.4.5')).toBe(false);
  });
});
