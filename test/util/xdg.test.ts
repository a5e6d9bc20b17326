import { cacheHome, configHome, dataHome, userBinDir } from '../../src/util/xdg';

describe('xdg places', () => {
  it('uses absolute XDG_* values and ignores relative ones, as the spec says', () => {
    const env = { HOME: '/home/u', XDG_CACHE_HOME: '/c', XDG_CONFIG_HOME: 'relative', XDG_DATA_HOME: '/d' };
    expect(cacheHome(env)).toBe('/c/borg-provision');
    expect(configHome(env)).toBe('/home/u/.config/borg-provision');
    expect(dataHome(env)).toBe('/d/borg-provision');
    expect(userBinDir(env)).toBe('/home/u/.local/bin');
    expect(dataHome({ HOME: '/h' })).toBe('/h/.local/share/borg-provision');
  });
});
