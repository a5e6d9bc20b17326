import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunLog } from '../../src/backup/run-log';

test('a log whose writes fail (ENOSPC) stops logging without throwing and says why', () => {
  // /dev/full accepts the open and fails every write with ENOSPC, as a full disk does.
  const log = new RunLog('/dev/full');
  expect(log.problem()).toBeNull();
  expect(() => log.line('create: Archive name: x')).not.toThrow();
  expect(log.problem()).toMatch(/^the run log \/dev\/full could not be written \(ENOSPC\); it stops there$/);
  expect(() => log.line('prune: kept 3')).not.toThrow();
  log.close();
});

test('a symlink planted under the log name is not followed (ELOOP): the log goes nowhere else', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-runlog-'));
  try {
    const target = path.join(dir, 'elsewhere');
    fs.writeFileSync(target, 'untouched\n');
    fs.symlinkSync(target, path.join(dir, 'job.log'));
    expect(() => new RunLog(path.join(dir, 'job.log'))).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(fs.readFileSync(target, 'utf8')).toBe('untouched\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
