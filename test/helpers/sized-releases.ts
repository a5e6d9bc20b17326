// Releases whose every answer lies around undici's 64 KiB stream buffer: for each size, an asset
// and its .asc of that size, and release notes that pad the API answer to it.
import { randomBytes } from 'node:crypto';
import type { GithubServer } from './github-server';

export const KiB = 1024;
export const SIZES = [1, 63, 64, 65, 80, 96, 100, 128, 160, 256, 1024, 3 * 1024].map((k) => k * KiB);
export const NAME = 'borg-linux-glibc231-x86_64.tgz';
export const tagOf = (size: number): string => `9.${size}.0`;

/** One release per size: the asset and its .asc of that size, the release notes padding the API answer to it. */
export function addSizedReleases(gh: GithubServer): void {
  for (const size of SIZES) {
    gh.addRelease(
      tagOf(size),
      [
        { name: NAME, body: randomBytes(size) },
        { name: `${NAME}.asc`, body: randomBytes(size) },
      ],
      { withDigest: true, notes: 'x'.repeat(size) },
    );
  }
}
