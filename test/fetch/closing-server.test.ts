// Bodies around undici's 64 KiB stream buffer from a server that closes the connection right after
// each answer (HTTP/1.0 style, as python's http.server, many mirrors and proxies do) and from one
// that keeps it alive. A body left unread while the FIN arrives used to trip an assertion inside
// undici's socket handler (nodejs/undici#5360): a crash with a stack trace no `try` could catch.
// Every request path is swept: the API answer, the asset, its .asc, and the CLI end to end.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { download, downloadWithSignature } from '../../src/fetch';
import { getRelease, selectAsset } from '../../src/releases';
import { jsonOf, runCli } from '../helpers/cli';
import { startGithubServer, type GithubServer } from '../helpers/github-server';

jest.setTimeout(240000);

const KiB = 1024;
const SIZES = [1, 63, 64, 65, 80, 96, 100, 128, 160, 256, 1024, 3 * 1024].map((k) => k * KiB);
const TRIES = 3;
const NAME = 'borg-linux-glibc231-x86_64.tgz';
const net = {
  minBackoffMs: 5,
  maxBackoffMs: 20,
  maxRetries: 0,
  bodyTimeoutMs: 5000,
  headersTimeoutMs: 5000,
  connectTimeoutMs: 2000,
};
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const tagOf = (size: number): string => `9.${size}.0`;

/** One release per size: the asset and its .asc of that size, the release notes padding the API answer to it. */
function addSizedReleases(gh: GithubServer): void {
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

describe.each([
  ['closes after each answer', true],
  ['keeps the connection alive', false],
])('a server that %s', (_label, closeAfterResponse) => {
  let gh: GithubServer;
  let tmp: string;

  beforeAll(async () => {
    gh = await startGithubServer({ closeAfterResponse });
    addSizedReleases(gh);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-closing-'));
  });
  afterAll(async () => {
    await gh.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it.each(SIZES)('API answer, asset and .asc of %i bytes arrive whole, every try', async (size) => {
    const tag = tagOf(size);
    for (let i = 0; i < TRIES; i++) {
      const release = await getRelease(tag, { apiUrl: gh.apiUrl, net });
      expect(release.assets.map((a) => a.name)).toEqual([NAME, `${NAME}.asc`]);
      const choice = selectAsset(release, { glibc: '2.36', arch: 'x86_64' }).selected!;
      const dir = path.join(tmp, `${size}-${i}`);
      const got = await downloadWithSignature(choice, { destDir: dir, net });
      expect(got.archive.sha256).toBe(sha(gh.assetBody(tag, NAME)));
      expect(fs.readFileSync(got.signature!.path)).toEqual(gh.assetBody(tag, `${NAME}.asc`));
      // A lone download too (the key refresh and build's sdist take this path).
      const alone = await download({ url: choice.url, fileName: 'again', destDir: dir, net });
      expect(alone.size).toBe(size);
    }
  });
});

describe('the CLI against a server that closes after each answer', () => {
  let gh: GithubServer;
  let tmp: string;

  beforeAll(async () => {
    gh = await startGithubServer({ closeAfterResponse: true });
    addSizedReleases(gh);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-closing-cli-'));
  });
  afterAll(async () => {
    await gh.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it.each([64, 65, 96, 128, 256].map((k) => k * KiB))(
    'releases --download of %i bytes exits 0 with the right bytes',
    async (size) => {
      for (let i = 0; i < 2; i++) {
        const dir = path.join(tmp, `${size}-${i}`);
        const env = { HOME: tmp, XDG_CACHE_HOME: path.join(tmp, 'cache'), GITHUB_TOKEN: '' };
        const r = await runCli(
          [
            'releases',
            tagOf(size),
            '--api-url',
            gh.apiUrl,
            '--glibc',
            '2.36',
            '--arch',
            'x86_64',
            '--download',
            dir,
            '--json',
          ],
          { env },
        );
        expect(r.stderr).not.toMatch(/AssertionError|\n\s+at /);
        expect(r.code).toBe(0);
        const doc = jsonOf<{ download: { archive: { sha256: string } } }>(r);
        expect(doc.download.archive.sha256).toBe(sha(gh.assetBody(tagOf(size), NAME)));
        expect(fs.readFileSync(path.join(dir, `${NAME}.asc`))).toEqual(gh.assetBody(tagOf(size), `${NAME}.asc`));
      }
    },
  );
});
