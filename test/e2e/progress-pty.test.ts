// The download progress bar on a real terminal: script(1) gives the CLI a pty.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { binRun, repoRoot, requireBuild } from '../helpers/cli';
import { startGithubServer } from '../helpers/github-server';
import { requireTool } from '../helpers/tools';

beforeAll(() => {
  requireBuild();
  requireTool('script', 'bsdutils');
});

describe('the progress bar', () => {
  it('shows up on a real terminal (script(1) gives the CLI a pty)', async () => {
    const gh = await startGithubServer();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-progress-'));
    try {
      gh.addRelease('1.4.5', [
        { name: 'borg-linux-glibc231-x86_64.tgz', body: Buffer.alloc(300_000, 7) },
        { name: 'borg-linux-glibc231-x86_64.tgz.asc', body: Buffer.from('sig') },
      ]);
      const cmd = [
        process.execPath,
        binRun,
        'releases',
        '1.4.5',
        '--api-url',
        gh.apiUrl,
        '--glibc',
        '2.36',
        '--arch',
        'x86_64',
        '--download',
        path.join(tmp, 'dl'),
      ]
        .map((a) => `'${a}'`)
        .join(' ');
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn('script', ['-qec', cmd, '/dev/null'], {
          cwd: repoRoot,
          env: {
            ...process.env,
            HOME: tmp,
            XDG_CACHE_HOME: path.join(tmp, 'cache'),
            NODE_ENV: 'production',
            NODE_OPTIONS: '',
            DEBUG: '',
          },
        });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
      });
      expect(out).toMatch(/\[#+\] 100% {2}293\.0 KB\/293\.0 KB {2}\S+ \S+\/s {2}ETA 0:00/);
      expect(out).toMatch(/NOT verified yet/);
    } finally {
      await gh.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
