// The asset name lists of five real borg releases, per FACTS.md "Borg release assets", with
// small stand-in bytes. Signatures here are placeholders, not real OpenPGP: tests that verify
// signatures add their own release with real signed bytes through addRelease().
import type { FakeAsset, GithubServer } from './github-server';

/** A locally built binary: one-file, one-dir, and a signature for each. */
const signed = (n: string): string[] => [n, `${n}.asc`, `${n}.tgz`, `${n}.tgz.asc`];
/** A GitHub-built binary: no signatures. */
const gh = (n: string): string[] => [n, `${n}.tgz`];
const sdist = (v: string): string[] => [`borgbackup-${v}.tar.gz`, `borgbackup-${v}.tar.gz.asc`];

export interface FixtureRelease {
  tag: string;
  publishedAt: string;
  prerelease: boolean;
  withDigest: boolean;
  names: string[];
}

export const BORG_RELEASES: FixtureRelease[] = [
  {
    tag: '1.2.9',
    publishedAt: '2025-05-05T12:00:00Z',
    prerelease: false,
    withDigest: false,
    names: [
      '00_README.txt',
      ...signed('borg-linuxold64'),
      ...signed('borg-linux64'),
      ...signed('borg-linuxnew64'),
      ...signed('borg-linuxnewer64'),
      ...signed('borg-macos1012'),
      ...signed('borg-freebsd13'),
      ...sdist('1.2.9'),
    ],
  },
  {
    tag: '1.4.1',
    publishedAt: '2025-04-19T12:00:00Z',
    prerelease: false,
    withDigest: false,
    names: [
      '00_README.txt',
      ...signed('borg-linux-glibc228'),
      ...signed('borg-linux-glibc231'),
      ...signed('borg-linux-glibc236'),
      ...signed('borg-macos1012'),
      ...signed('borg-freebsd14'),
      ...sdist('1.4.1'),
    ],
  },
  {
    tag: '1.4.2',
    publishedAt: '2025-10-31T12:00:00Z',
    prerelease: false,
    withDigest: true,
    names: [
      '00_README.txt',
      ...signed('borg-linux-glibc231-x86_64'),
      ...signed('borg-linux-glibc236-x86_64'),
      ...signed('borg-linux-glibc241-x86_64'),
      ...gh('borg-linux-glibc235-x86_64-gh'),
      ...gh('borg-linux-glibc235-arm64-gh'),
      ...gh('borg-macos-13-x86_64-gh'),
      ...gh('borg-macos-14-arm64-gh'),
      ...signed('borg-freebsd-14-x86_64'),
      ...sdist('1.4.2'),
    ],
  },
  {
    tag: '1.4.5',
    publishedAt: '2026-03-20T12:00:00Z',
    prerelease: false,
    withDigest: true,
    names: [
      '00_README.txt',
      ...signed('borg-linux-glibc231-x86_64'),
      ...gh('borg-linux-glibc235-x86_64-gh'),
      ...gh('borg-linux-glibc235-arm64-gh'),
      ...gh('borg-macos-14-arm64-gh'),
      ...sdist('1.4.5'),
    ],
  },
  {
    tag: '2.0.0b22',
    publishedAt: '2026-04-10T12:00:00Z',
    prerelease: true,
    withDigest: true,
    names: [
      '00_README.txt',
      ...signed('borg-linux-glibc231-x86_64'),
      ...gh('borg-linux-glibc239-x86_64-gh'),
      ...gh('borg-linux-glibc239-arm64-gh'),
      ...gh('borg-macos-14-arm64-gh'),
      ...sdist('2.0.0b22'),
    ],
  },
];

/** Deterministic stand-in bytes: a few KB for binaries, a short armored block for signatures. */
export function fakeBody(tag: string, name: string): Buffer {
  if (name.endsWith('.asc')) {
    return Buffer.from(
      `-----BEGIN PGP SIGNATURE-----\n\nplaceholder for ${tag}/${name}\n-----END PGP SIGNATURE-----\n`,
    );
  }
  const line = `${tag}/${name}: stand-in bytes, not a real borg build\n`;
  return Buffer.from(line.repeat(Math.ceil(4096 / line.length)));
}

export function fixtureAssets(r: FixtureRelease): FakeAsset[] {
  return r.names.map((name) => ({ name, body: fakeBody(r.tag, name) }));
}

/** Publishes all five releases on the stand-in server. */
export function addBorgReleases(gh: GithubServer): void {
  for (const r of BORG_RELEASES) {
    gh.addRelease(r.tag, fixtureAssets(r), {
      prerelease: r.prerelease,
      withDigest: r.withDigest,
      publishedAt: r.publishedAt,
    });
  }
}
