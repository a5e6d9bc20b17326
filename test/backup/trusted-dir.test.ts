import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertTrustedDir, foldersDown } from '../../src/backup/trusted-dir';

const uid = process.getuid?.() ?? 0;
let root: string;

beforeEach(() => {
  // Under /tmp (sticky, 1777): a folder above the jobs folder may be sticky.
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bp-trusted-')));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** `<root>/base/backups/job`, each folder 0700 unless `modes` says otherwise. */
function jobPath(modes: Partial<Record<'base' | 'backups' | 'job', number>> = {}): string {
  const job = path.join(root, 'base', 'backups', 'job');
  fs.mkdirSync(job, { recursive: true });
  for (const [name, dir] of [
    ['base', path.join(root, 'base')],
    ['backups', path.join(root, 'base', 'backups')],
    ['job', job],
  ] as const)
    fs.chmodSync(dir, modes[name] ?? 0o700);
  return job;
}

test('foldersDown lists every folder from / to the folder', () => {
  expect(foldersDown('/a/b/c')).toEqual(['/', '/a', '/a/b', '/a/b/c']);
  expect(foldersDown('/')).toEqual(['/']);
});

test('a job whose every folder is ours or root, writable by nobody else, passes', async () => {
  await expect(assertTrustedDir(jobPath(), uid)).resolves.toBeUndefined();
});

test('a sticky folder above the jobs folder passes; a sticky jobs or job folder does not', async () => {
  await expect(assertTrustedDir(jobPath({ base: 0o1777 }), uid)).resolves.toBeUndefined();
  await expect(assertTrustedDir(jobPath({ backups: 0o1777 }), uid)).rejects.toThrow(
    /backups may be changed by another user \(owner uid \d+, mode 1777\); it holds the job$/,
  );
  await expect(assertTrustedDir(jobPath({ backups: 0o700, job: 0o1777 }), uid)).rejects.toThrow(/job may be changed/);
});

test('a group-writable folder on the way, or one owned by another user, is refused', async () => {
  await expect(assertTrustedDir(jobPath({ base: 0o775 }), uid)).rejects.toThrow(/base may be changed by another user/);
  const job = jobPath();
  fs.chownSync(path.join(root, 'base'), 1234, 0);
  await expect(assertTrustedDir(job, uid)).rejects.toThrow(/owner uid 1234, mode 0700/);
});
