// A throw-away directory for a test file: a fresh one for each test (`each`) or one for the whole
// file (`all`), removed afterwards. Call the returned function for its path inside a test or hook.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function useTempDir(prefix: string, scope: 'each' | 'all' = 'each'): () => string {
  let dir: string | null = null;
  const make = () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  };
  const remove = () => {
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  };
  if (scope === 'each') {
    beforeEach(make);
    afterEach(remove);
  } else {
    beforeAll(make);
    afterAll(remove);
  }
  return () => {
    if (dir === null) throw new Error('the temp dir exists only inside a test or a hook');
    return dir;
  };
}
