// Publishing a build into --output: the archive and its manifest are replaced as a pair, and a
// failed step never leaves the previous good pair destroyed.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FilesystemError } from '../../src/errors';
import { publishArtifact } from '../../src/build/artifact';
import { MANIFEST_KIND, type BuildManifest } from '../../src/install';

const manifest = (sha256: string): BuildManifest => ({
  kind: MANIFEST_KIND,
  borgVersion: '1.4.2',
  artifact: 'borg-dir-1.4.2.tgz',
  sha256,
  debian: 'bookworm',
  arch: 'x86_64',
  glibc: '2.36',
  python: '3.11.2',
  pyinstaller: '6.7.0',
  builtAt: '2026-01-01T00:00:00.000Z',
});

describe('publishArtifact', () => {
  let dir: string;
  let out: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bp-publish-'));
    out = path.join(dir, 'out');
    await fs.mkdir(out);
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const tmpArchive = async (text: string): Promise<string> => {
    const f = path.join(out, `.borg-dir-1.4.2.tgz.${text}.part`);
    await fs.writeFile(f, text);
    return f;
  };
  const read = (name: string): Promise<string> => fs.readFile(path.join(out, name), 'utf8');

  it('places a new pair and leaves nothing else', async () => {
    const r = await publishArtifact(await tmpArchive('new'), out, manifest('b'.repeat(64)));
    expect(r).toEqual({
      artifact: path.join(out, 'borg-dir-1.4.2.tgz'),
      manifest: path.join(out, 'borg-dir-1.4.2.manifest.json'),
    });
    expect(await read('borg-dir-1.4.2.tgz')).toBe('new');
    expect(JSON.parse(await read('borg-dir-1.4.2.manifest.json')).sha256).toBe('b'.repeat(64));
    expect((await fs.readdir(out)).sort()).toEqual(['borg-dir-1.4.2.manifest.json', 'borg-dir-1.4.2.tgz']);
  });

  it('replaces an old pair with the new one, leaving no backup behind', async () => {
    await publishArtifact(await tmpArchive('old'), out, manifest('a'.repeat(64)));
    await publishArtifact(await tmpArchive('new'), out, manifest('b'.repeat(64)));
    expect(await read('borg-dir-1.4.2.tgz')).toBe('new');
    expect(JSON.parse(await read('borg-dir-1.4.2.manifest.json')).sha256).toBe('b'.repeat(64));
    expect((await fs.readdir(out)).sort()).toEqual(['borg-dir-1.4.2.manifest.json', 'borg-dir-1.4.2.tgz']);
  });

  it('a failed manifest step puts the old pair back instead of deleting the only good archive', async () => {
    await publishArtifact(await tmpArchive('old'), out, manifest('a'.repeat(64)));
    const oldManifest = await read('borg-dir-1.4.2.manifest.json');
    // The seam runs once the new archive is in place: removing the new manifest's temp file makes
    // its rename fail, as a full disk or a yanked mount would.
    const err = await publishArtifact(await tmpArchive('new'), out, manifest('b'.repeat(64)), {
      afterArchivePlaced: (tmpManifest) => fs.rm(tmpManifest),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FilesystemError);
    expect((err as Error).message).toMatch(
      /^cannot write the manifest .*borg-dir-1\.4\.2\.manifest\.json: .*; the previous build was kept$/,
    );
    expect(await read('borg-dir-1.4.2.tgz')).toBe('old');
    expect(await read('borg-dir-1.4.2.manifest.json')).toBe(oldManifest);
    expect((await fs.readdir(out)).sort()).toEqual(['borg-dir-1.4.2.manifest.json', 'borg-dir-1.4.2.tgz']);
  });

  it('a failed manifest step with no old pair leaves nothing', async () => {
    const err = await publishArtifact(await tmpArchive('new'), out, manifest('b'.repeat(64)), {
      afterArchivePlaced: (tmpManifest) => fs.rm(tmpManifest),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FilesystemError);
    expect(await fs.readdir(out)).toEqual([]);
  });
});
