// Borg by hand with a job (`backup shell`, `backup borg`): a real child on this terminal, its exit
// status handed back as a shell gives it; nothing started once the command is interrupted. The
// signals that come while it runs are tested through the CLI (e2e/backup-faults).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseJob, runWithJob } from '../../src/backup';
import { InterruptedError } from '../../src/errors';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-by-hand-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const job = () => parseJob('j', dir, path.join(dir, 'config.yaml'), 'sources: [/a]\nrepository: /r\n', {});

it("resolves with the child's code, 128 + the signal that ended it, or 127 when it cannot start", async () => {
  expect(await runWithJob(job(), '/bin/sh', ['-c', 'exit 3'])).toBe(3);
  expect(await runWithJob(job(), '/bin/sh', ['-c', 'kill -TERM $$'])).toBe(143);
  expect(await runWithJob(job(), path.join(dir, 'no-such-program'), [])).toBe(127);
});

it('hands the job variables and the extra ones to the child', async () => {
  const out = path.join(dir, 'out');
  const code = await runWithJob(job(), '/bin/sh', ['-c', `echo "$BORG_REPO $EXTRA" > '${out}'`], { EXTRA: 'x' });
  expect(code).toBe(0);
  expect(fs.readFileSync(out, 'utf8')).toBe('/r x\n');
});

it('starts nothing once the signal has fired: InterruptedError', async () => {
  const marker = path.join(dir, 'ran');
  const aborted = AbortSignal.abort();
  await expect(runWithJob(job(), '/bin/sh', ['-c', `touch '${marker}'`], {}, aborted)).rejects.toThrow(
    InterruptedError,
  );
  expect(fs.existsSync(marker)).toBe(false);
});
