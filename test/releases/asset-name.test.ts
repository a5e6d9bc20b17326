import { parseAssetName } from '../../src/releases';
import { normalizeArchName } from '../../src/target/arch';

describe('parseAssetName: every naming era', () => {
  it.each([
    ['borg-linuxold64', 'x86_64', '2.24', 'onefile', 'local'],
    ['borg-linux64.tgz', 'x86_64', '2.28', 'onedir', 'local'],
    ['borg-linuxnew64', 'x86_64', '2.31', 'onefile', 'local'],
    ['borg-linuxnewer64.tgz', 'x86_64', '2.36', 'onedir', 'local'],
    ['borg-linux-glibc228', 'x86_64', '2.28', 'onefile', 'local'],
    ['borg-linux-glibc236.tgz', 'x86_64', '2.36', 'onedir', 'local'],
    ['borg-linux-glibc231-x86_64.tgz', 'x86_64', '2.31', 'onedir', 'local'],
    ['borg-linux-glibc241-x86_64', 'x86_64', '2.41', 'onefile', 'local'],
    ['borg-linux-glibc235-arm64-gh', 'arm64', '2.35', 'onefile', 'github'],
    ['borg-linux-glibc239-x86_64-gh.tgz', 'x86_64', '2.39', 'onedir', 'github'],
    ['borg-linux-glibc2100-aarch64', 'arm64', '2.100', 'onefile', 'local'],
  ])('%s is linux %s glibc %s %s built %s', (name, arch, glibc, kind, builtOn) => {
    expect(parseAssetName(name)).toEqual({
      name,
      category: 'linux',
      os: 'linux',
      arch,
      glibc,
      kind,
      builtOn,
      signatureOf: null,
    });
  });

  it("a .asc names the asset it signs and keeps that asset's meaning", () => {
    const p = parseAssetName('borg-linux-glibc231-x86_64.tgz.asc');
    expect(p).toMatchObject({
      signatureOf: 'borg-linux-glibc231-x86_64.tgz',
      os: 'linux',
      glibc: '2.31',
      kind: 'other',
    });
  });

  it.each([
    ['borg-macos1012', 'macos', null],
    ['borg-macos-14-arm64-gh.tgz', 'macos', 'arm64'],
    ['borg-freebsd13', 'freebsd', null],
    ['borg-freebsd-14-x86_64', 'freebsd', 'x86_64'],
    ['borg-windows64.exe', 'windows', null],
  ])('%s is set aside as %s', (name, os, arch) => {
    expect(parseAssetName(name)).toMatchObject({ category: os, os, arch, glibc: null });
  });

  it('recognises the sdist and the README', () => {
    expect(parseAssetName('borgbackup-2.0.0b22.tar.gz').category).toBe('sdist');
    expect(parseAssetName('borgbackup-1.4.5.tar.gz.asc')).toMatchObject({
      category: 'sdist',
      signatureOf: 'borgbackup-1.4.5.tar.gz',
    });
    expect(parseAssetName('00_README.txt').category).toBe('readme');
  });

  it.each([
    'borg-linux-musl-x86_64',
    'borg-linux-glibc23',
    'borg-linux-glibc231-vax',
    'borg-linuxnewest64',
    'borg.exe',
    'checksums.txt',
    'borg-linux-glibcXYZ',
  ])('leaves %s unknown, never guessing a glibc level', (name) => {
    expect(parseAssetName(name)).toMatchObject({ category: 'unknown', os: null, glibc: null, arch: null });
  });
});

describe("arch names in assets come from src/target's table", () => {
  it.each([
    ['borg-linux-glibc239-aarch64.tgz', 'arm64'],
    ['borg-linux-glibc239-amd64', 'x86_64'],
    ['borg-linux-glibc239-ppc64el.tgz', 'ppc64le'],
    ['borg-linux-glibc239-riscv64-gh.tgz', 'riscv64'],
    ['borg-linux-glibc239-loong64', 'loong64'],
  ])('%s -> %s, as the target side names it', (name, arch) => {
    const p = parseAssetName(name);
    expect(p.arch).toBe(arch);
    expect(p.arch).toBe(
      normalizeArchName(
        name
          .replace(/\.tgz$/, '')
          .replace(/-gh$/, '')
          .split('-')
          .at(-1)!,
      ),
    );
  });

  it('reads any arch the target side knows (sparc64), and still leaves an arch nobody knows unknown', () => {
    expect(parseAssetName('borg-linux-glibc231-sparc64')).toMatchObject({
      category: 'linux',
      arch: 'sparc64',
      glibc: '2.31',
    });
    expect(parseAssetName('borg-linux-glibc239-vax.tgz')).toMatchObject({ category: 'unknown', arch: null });
  });
});
