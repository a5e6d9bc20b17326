// Bodies around undici's 64 KiB stream buffer from a server that closes the connection right after
// each answer (HTTP/1.0 style, as python's http.server, many mirrors and proxies do) and from one
// that keeps it alive. A body left unread while the FIN arrives used to trip an assertion inside
// undici's socket handler (nodejs/undici#5360): a crash with a stack trace no `try` could catch.
// Every request path is swept: the API answer, the asset and its .asc (the CLI end to end: test/e2e).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { download, downloadWithSignature } from '../../src/fetch';
import { getRelease, selectAsset } from '../../src/releases';
import { startGithubServer, type GithubServer } from '../helpers/github-server';
import { addSizedReleases, NAME, SIZES, tagOf } from '../helpers/sized-releases';
import { loopbackNet, sha } from '../helpers/loopback-net';

jest.setTimeout(240000);

const TRIES = 3;
const net = loopbackNet({ maxRetries: 0, bodyTimeoutMs: 5000, headersTimeoutMs: 5000, connectTimeoutMs: 2000 });

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
