// checkPlace with injected mount tables (src/target/mounts.ts pathReport takes one): a place whose
// mount flags cannot be read is refused (fail closed), as are noexec and read-only mounts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FilesystemError } from '../../src/errors';
import { checkPlace } from '../../src/install/places';
import { pathReport, type MountEntry } from '../../src/target/mounts';

let tmp: string;
beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'places-')));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const table = (options: string): MountEntry[] => [
  { mountPoint: '/', options: ['rw'], superOptions: ['rw'] },
  { mountPoint: tmp, options: options.split(','), superOptions: ['rw'] },
];

test('unknown mount flags (mountinfo unreadable): refused with exit 6, nothing created', async () => {
  const prefix = path.join(tmp, 'new', 'prefix');
  const err = await checkPlace('--prefix', prefix, (p) => pathReport(p, null)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FilesystemError);
  expect((err as FilesystemError).exitCode).toBe(6);
  expect((err as Error).message).toBe(
    `cannot tell whether --prefix ${prefix} is mounted noexec or read-only: /proc/self/mountinfo is unreadable; mount /proc (or run where it is mounted), then install again`,
  );
  expect(fs.readdirSync(tmp)).toEqual([]);
  await expect(checkPlace('--bin-dir', tmp, (p) => pathReport(p, null))).rejects.toThrow(
    /^cannot tell whether --bin-dir /,
  );
});

test('a noexec or read-only mount from the table is refused, naming it; an exec mount passes', async () => {
  await expect(checkPlace('--prefix', path.join(tmp, 'p'), (p) => pathReport(p, table('rw,noexec')))).rejects.toThrow(
    new RegExp(`is on a noexec mount \\(mount ${tmp}\\), where borg cannot run`),
  );
  await expect(checkPlace('--bin-dir', tmp, (p) => pathReport(p, table('ro')))).rejects.toThrow(
    /is on a read-only filesystem/,
  );
  await expect(
    checkPlace('--prefix', path.join(tmp, 'p'), (p) => pathReport(p, table('rw,nosuid'))),
  ).resolves.toBeUndefined();
});
