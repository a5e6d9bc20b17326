import { NoCompatibleBuildError, UsageError } from '../../src/errors';
import { noCompatibleMessage, otherFits, requireSelected, selectAsset, type Release } from '../../src/releases';
import { BORG_RELEASES, fakeBody } from '../helpers/borg-releases';

function release(tag: string): Release {
  const f = BORG_RELEASES.find((r) => r.tag === tag)!;
  return {
    tag,
    version: tag,
    name: tag,
    publishedAt: f.publishedAt,
    prerelease: f.prerelease,
    assets: f.names.map((name) => ({
      name,
      size: fakeBody(tag, name).length,
      url: `https://example.invalid/${tag}/${name}`,
      digest: null,
    })),
  };
}

// release, target glibc, arch -> chosen asset (null: nothing signed fits)
const TABLE: [string, string, string, string | null][] = [];
const expectX86: Record<string, Record<string, string>> = {
  '1.2.9': { '2.31': 'borg-linuxnew64.tgz', '2.36': 'borg-linuxnewer64.tgz', '2.41': 'borg-linuxnewer64.tgz' },
  '1.4.1': { '2.31': 'borg-linux-glibc231.tgz', '2.36': 'borg-linux-glibc236.tgz', '2.41': 'borg-linux-glibc236.tgz' },
  '1.4.2': {
    '2.31': 'borg-linux-glibc231-x86_64.tgz',
    '2.36': 'borg-linux-glibc236-x86_64.tgz',
    '2.41': 'borg-linux-glibc241-x86_64.tgz',
  },
  '1.4.5': {
    '2.31': 'borg-linux-glibc231-x86_64.tgz',
    '2.36': 'borg-linux-glibc231-x86_64.tgz',
    '2.41': 'borg-linux-glibc231-x86_64.tgz',
  },
  '2.0.0b22': {
    '2.31': 'borg-linux-glibc231-x86_64.tgz',
    '2.36': 'borg-linux-glibc231-x86_64.tgz',
    '2.41': 'borg-linux-glibc231-x86_64.tgz',
  },
};
for (const tag of Object.keys(expectX86)) {
  for (const glibc of ['2.31', '2.36', '2.41']) {
    TABLE.push([tag, glibc, 'x86_64', expectX86[tag][glibc]]);
    TABLE.push([tag, glibc, 'arm64', null]);
    TABLE.push([tag, glibc, 'i386', null]);
  }
}

// The same table with --allow-unsigned: x86_64 keeps its signed builds; arm64 gets the unsigned
// -gh build that fits (only GitHub-built assets are unsigned by design), and nothing else becomes eligible.
const ARM_GH: Record<string, Record<string, string | null>> = {
  '1.2.9': { '2.31': null, '2.36': null, '2.41': null },
  '1.4.1': { '2.31': null, '2.36': null, '2.41': null },
  '1.4.2': { '2.31': null, '2.36': 'borg-linux-glibc235-arm64-gh.tgz', '2.41': 'borg-linux-glibc235-arm64-gh.tgz' },
  '1.4.5': { '2.31': null, '2.36': 'borg-linux-glibc235-arm64-gh.tgz', '2.41': 'borg-linux-glibc235-arm64-gh.tgz' },
  '2.0.0b22': { '2.31': null, '2.36': null, '2.41': 'borg-linux-glibc239-arm64-gh.tgz' },
};
const UNSIGNED_TABLE: [string, string, string, string | null][] = [];
for (const tag of Object.keys(expectX86)) {
  for (const glibc of ['2.31', '2.36', '2.41']) {
    UNSIGNED_TABLE.push([tag, glibc, 'x86_64', expectX86[tag][glibc]]);
    UNSIGNED_TABLE.push([tag, glibc, 'arm64', ARM_GH[tag][glibc]]);
  }
}

describe('selectAsset: the table with --allow-unsigned', () => {
  it.each(UNSIGNED_TABLE)('borg %s on glibc %s %s -> %s', (tag, glibc, arch, expected) => {
    const s = selectAsset(release(tag), { glibc, arch }, { allowUnsigned: true });
    expect(s.selected?.name ?? null).toBe(expected);
    for (const a of s.assets.filter((x) => x.eligible && !x.signed)) expect(a.builtOn).toBe('github');
  });
});

describe('selectAsset: the table of releases x targets', () => {
  it.each(TABLE)('borg %s on glibc %s %s -> %s', (tag, glibc, arch, expected) => {
    const s = selectAsset(release(tag), { glibc, arch });
    expect(s.selected?.name ?? null).toBe(expected);
    expect(s.version).toBe(tag);
    expect(s.target).toEqual({ glibc, arch });
    // every asset carries its reasons, and paired signatures are folded into their asset
    for (const a of s.assets) expect(a.reasons.length).toBeGreaterThan(0);
    expect(s.assets.some((a) => a.name.endsWith('.asc') && !a.name.includes('tar.gz'))).toBe(false);
    if (expected) {
      expect(s.selected).toMatchObject({ signed: true, kind: 'onedir', eligible: true, builtOn: 'local' });
      expect(s.selected!.signatureUrl).toBe(`https://example.invalid/${tag}/${expected}.asc`);
      expect(s.selected!.reasons.at(-1)).toMatch(/^chosen: signed, one-dir/);
      const sibling = s.assets.find((a) => a.name === expected.replace(/\.tgz$/, ''))!;
      expect(sibling.reasons).toContain('not chosen: one-file; the one-dir build starts faster and needs no unpacking');
    } else {
      expect(s.assets.filter((a) => a.eligible)).toEqual([]);
      expect(() => requireSelected(s)).toThrow(NoCompatibleBuildError);
    }
  });
});

describe('selectAsset: reasons', () => {
  const s = selectAsset(release('1.4.2'), { glibc: '2.36', arch: 'x86_64' });
  const reasons = (name: string): string[] => s.assets.find((a) => a.name === name)!.reasons;

  it('explains each asset set aside', () => {
    expect(reasons('borg-linux-glibc241-x86_64.tgz')).toEqual(['needs glibc 2.41, the target has 2.36']);
    expect(reasons('borg-linux-glibc235-x86_64-gh.tgz')).toEqual([
      'built on GitHub (-gh), no .asc signature (--allow-unsigned accepts it)',
    ]);
    expect(reasons('borg-linux-glibc235-arm64-gh')).toEqual([
      'built for arm64, the target is x86_64',
      'built on GitHub (-gh), no .asc signature (--allow-unsigned accepts it)',
    ]);
    expect(reasons('borg-macos-14-arm64-gh')).toEqual(['macOS build, not for Linux']);
    expect(reasons('borg-freebsd-14-x86_64.tgz')).toEqual(['FreeBSD build, not for Linux']);
    expect(reasons('borgbackup-1.4.2.tar.gz')[0]).toMatch(/^source distribution/);
    expect(reasons('00_README.txt')).toEqual(['release notes file, not a binary']);
  });

  it('explains why a fitting build lost to a higher glibc level', () => {
    expect(reasons('borg-linux-glibc231-x86_64.tgz')).toEqual([
      'fits: x86_64, glibc 2.31 <= 2.36, signed, one-dir (.tgz)',
      'not chosen: borg-linux-glibc236-x86_64.tgz fits a newer glibc level (2.36)',
    ]);
    expect(reasons('borg-linux-glibc236-x86_64.tgz')).toEqual([
      'fits: x86_64, glibc 2.36 <= 2.36, signed, one-dir (.tgz)',
      'chosen: signed, one-dir (.tgz), the highest glibc level that fits (2.36)',
    ]);
  });

  it('lists a signature whose asset is missing, and refuses a local build whose .asc is missing', () => {
    const r = release('1.4.5');
    r.assets = r.assets.filter(
      (a) => a.name !== 'borg-linux-glibc231-x86_64.tgz' && a.name !== 'borg-linux-glibc231-x86_64.asc',
    );
    const s = selectAsset(r, { glibc: '2.36', arch: 'x86_64' });
    expect(s.assets.find((a) => a.name === 'borg-linux-glibc231-x86_64.tgz.asc')).toMatchObject({
      eligible: false,
      reasons: ['signature whose asset borg-linux-glibc231-x86_64.tgz is not in the release'],
    });
    expect(s.assets.find((a) => a.name === 'borg-linux-glibc231-x86_64')).toMatchObject({
      eligible: false,
      signed: false,
      builtOn: 'local',
      reasons: ['signature (.asc) missing: not uploaded yet or removed; refusing'],
    });
    expect(s.selected).toBeNull();
  });

  // Issue 3: --allow-unsigned is for the unsigned -gh (GitHub-built) builds only. A locally built
  // asset is always signed by borg's maintainer; one without its .asc is incomplete or tampered with.
  it('keeps a local build without its .asc ineligible even with --allow-unsigned, and says to wait or use an older release', () => {
    const r = release('1.4.5');
    r.assets = r.assets.filter(
      (a) => a.name !== 'borg-linux-glibc231-x86_64.tgz' && a.name !== 'borg-linux-glibc231-x86_64.asc',
    );
    const s = selectAsset(r, { glibc: '2.32', arch: 'x86_64' }, { allowUnsigned: true });
    expect(s.assets.find((a) => a.name === 'borg-linux-glibc231-x86_64')).toMatchObject({
      eligible: false,
      reasons: ['signature (.asc) missing: not uploaded yet or removed; refusing'],
    });
    expect(s.selected).toBeNull();
    expect(
      selectAsset(r, { glibc: '2.32', arch: 'x86_64' }, { allowUnsigned: true, asset: 'borg-linux-glibc231-x86_64' })
        .selected,
    ).toBeNull();
    const msg = noCompatibleMessage(s, { allowUnsigned: true });
    expect(msg).toContain(
      'the signature (.asc) of borg-linux-glibc231-x86_64 is missing (not uploaded yet, or removed): wait a few minutes and retry, or install an older release',
    );
    expect(msg).not.toMatch(/unsigned GitHub builds fit/);
    // Without --allow-unsigned the hint does not offer it for a local build either.
    expect(noCompatibleMessage(selectAsset(r, { glibc: '2.32', arch: 'x86_64' }))).not.toMatch(/--allow-unsigned/);
  });

  it('keeps an asset whose name it cannot read out, saying so', () => {
    const r = release('1.4.5');
    r.assets.push({ name: 'borg-linux-musl-x86_64.tgz', size: 1, url: 'https://example.invalid/x', digest: null });
    const c = selectAsset(r, { glibc: '2.41', arch: 'x86_64' }).assets.find(
      (a) => a.name === 'borg-linux-musl-x86_64.tgz',
    )!;
    expect(c).toMatchObject({
      eligible: false,
      glibc: null,
      reasons: ['unknown asset name: not guessed into an OS, arch or glibc level'],
    });
  });
});

describe('selectAsset: --allow-unsigned, --asset and the hints', () => {
  it('makes -gh builds eligible only with allowUnsigned, and still prefers a signed one', () => {
    const arm = selectAsset(release('1.4.5'), { glibc: '2.36', arch: 'arm64' }, { allowUnsigned: true });
    expect(arm.selected).toMatchObject({ name: 'borg-linux-glibc235-arm64-gh.tgz', signed: false, builtOn: 'github' });
    expect(arm.selected!.reasons.join(' ')).toMatch(/NOTHING will be verified/);
    expect(
      selectAsset(release('1.4.5'), { glibc: '2.31', arch: 'arm64' }, { allowUnsigned: true }).selected,
    ).toBeNull();
    expect(
      selectAsset(release('2.0.0b22'), { glibc: '2.41', arch: 'arm64' }, { allowUnsigned: true }).selected?.name,
    ).toBe('borg-linux-glibc239-arm64-gh.tgz');
    const x86 = selectAsset(release('1.4.5'), { glibc: '2.36', arch: 'x86_64' }, { allowUnsigned: true });
    expect(x86.selected?.name).toBe('borg-linux-glibc231-x86_64.tgz');
    expect(x86.assets.find((a) => a.name === 'borg-linux-glibc235-x86_64-gh.tgz')!.reasons).toContain(
      'not chosen: unsigned, and a signed build fits',
    );
  });

  it('honours --asset when it fits, and refuses one that does not', () => {
    const s = selectAsset(release('1.4.2'), { glibc: '2.41', arch: 'x86_64' }, { asset: 'borg-linux-glibc231-x86_64' });
    expect(s.selected).toMatchObject({ name: 'borg-linux-glibc231-x86_64', kind: 'onefile' });
    const tooNew = selectAsset(
      release('1.4.2'),
      { glibc: '2.31', arch: 'x86_64' },
      { asset: 'borg-linux-glibc241-x86_64.tgz' },
    );
    expect(tooNew.selected).toBeNull();
    expect(noCompatibleMessage(tooNew, { asset: 'borg-linux-glibc241-x86_64.tgz' })).toMatch(
      /needs glibc 2.41, the target has 2.31/,
    );
    expect(() => selectAsset(release('1.4.2'), { glibc: '2.31', arch: 'x86_64' }, { asset: 'borg-nope' })).toThrow(
      UsageError,
    );
  });

  it('says what would fit when nothing does: other releases only as listed', () => {
    const old = selectAsset(release('1.4.5'), { glibc: '2.28', arch: 'x86_64' });
    const listed = BORG_RELEASES.map((r) => release(r.tag));
    const others = otherFits('1.4.5', listed, old.target);
    expect(others).toEqual([
      { version: '1.4.1', asset: 'borg-linux-glibc228.tgz', glibc: '2.28' },
      { version: '1.2.9', asset: 'borg-linux64.tgz', glibc: '2.28' },
    ]);
    expect(noCompatibleMessage(old, {}, others)).toBe(
      'borg 1.4.5 has no signed build for glibc 2.28 on x86_64; other releases have a signed build that fits: 1.4.1 (borg-linux-glibc228.tgz, glibc 2.28), 1.2.9 (borg-linux64.tgz, glibc 2.28); or build one for this target: borg-provision build --vagrant',
    );
    // A list without 1.4.1: it is not named (no table of what was once published).
    expect(
      otherFits(
        '1.4.5',
        listed.filter((r) => r.tag !== '1.4.1'),
        old.target,
      ).map((o) => o.version),
    ).toEqual(['1.2.9']);
    expect(noCompatibleMessage(old)).toBe(
      'borg 1.4.5 has no signed build for glibc 2.28 on x86_64; or build one for this target: borg-provision build --vagrant',
    );
    const arm = selectAsset(release('1.4.5'), { glibc: '2.36', arch: 'arm64' });
    expect(noCompatibleMessage(arm)).toMatch(
      /unsigned GitHub builds fit \(borg-linux-glibc235-arm64-gh, borg-linux-glibc235-arm64-gh.tgz\): --allow-unsigned/,
    );
    expect(noCompatibleMessage(arm)).toMatch(/borg-provision build --vagrant$/);
  });
});
