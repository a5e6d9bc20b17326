// The CLI end to end against a server that closes the connection right after each answer, with
// bodies around undici's 64 KiB stream buffer (see test/fetch/closing-server.test.ts): no crash,
// exit 0, the right bytes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jsonOf, runCli } from '../helpers/cli';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { sha } from '../helpers/loopback-net';
import { addSizedReleases, KiB, NAME, tagOf } from '../helpers/sized-releases';

jest.setTimeout(240000);

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
