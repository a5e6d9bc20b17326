import { compareDotted, maxDotted, parseDotted, sortDotted } from '../../src/util/dotted-version';

describe('dotted versions', () => {
  it('compares numerically, not as strings', () => {
    expect(compareDotted('2.2.5', '2.17')).toBe(-1);
    expect(compareDotted('2.17', '2.2.5')).toBe(1);
    expect(compareDotted('2.36', '2.36.0')).toBe(0);
    expect(sortDotted(['2.36', '2.2.5', '2.17', '2.3'])).toEqual(['2.2.5', '2.3', '2.17', '2.36']);
    expect(maxDotted(['2.30', '2.4', '2.9'])).toBe('2.30');
    expect(maxDotted([])).toBeNull();
  });

  it('rejects what is not a dotted number', () => {
    expect(parseDotted('2.x')).toBeNull();
    expect(parseDotted('')).toBeNull();
    expect(() => compareDotted('GLIBC_2.3', '2.3')).toThrow(TypeError);
  });
});
