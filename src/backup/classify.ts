// Which borg failures are worth another try. borgmatic retries every failure alike; we retry only
// what can pass by itself: a repository lock held by another borg, a connection that closed or
// never opened (network, sshd restarting), an archive name taken within the same second. A wrong
// passphrase, a missing repository or source, a refused ssh key, a full disk do not pass: they
// fail at once, with the reason. borg >= 1.4 with BORG_EXIT_CODES=modern says which error it was
// (3-99 errors, 100-127 warnings, though 126 and 127 are also a shell's "could not start it");
// borg 1.2 says 2 for every error, so its stderr decides.
import type { BorgResult } from './borg-process';

export type Verdict =
  | { kind: 'ok' }
  | { kind: 'warning'; reason: string }
  | { kind: 'transient'; reason: string }
  | { kind: 'permanent'; reason: string; hint?: string };

/** Modern exit codes (borg >= 1.4) that name a failure that may pass. */
const TRANSIENT_CODES: Record<number, string> = {
  70: 'the repository lock could not be taken',
  71: 'the repository lock could not be taken',
  73: 'the repository is locked by another borg (lock timeout)',
  80: 'the connection to the repository closed',
  81: 'the connection to the repository closed',
  87: 'the connection to the repository broke',
};

const PERMANENT_PATTERNS: [RegExp, string, string?][] = [
  [/passphrase supplied in .* is incorrect|PassphraseWrong/i, 'wrong passphrase', "check the job's passphrase file"],
  [/passcommand supplied in BORG_PASSCOMMAND failed/i, "the job's passphrase file could not be read"],
  [
    /Repository .* does not exist|is not a valid repository/i,
    'the repository does not exist',
    'create it with `borg-provision backup init`',
  ],
  [
    /Permission denied \(publickey/i,
    'the server refused the ssh key',
    "authorize the job's ssh_key.pub on the server (see `backup init`)",
  ],
  [
    /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i,
    "the server's host key changed",
    "remove the host from the job's known_hosts if the change is expected",
  ],
  [
    /No space left on device|ENOSPC|Insufficient free space/i,
    'the repository disk is full',
    'free space on the repository disk',
  ],
  [
    /Repository path not allowed/i,
    'the server restricts borg to another path',
    'check --restrict-to-path on the server',
  ],
  [/Disk quota exceeded|storage quota/i, 'the repository quota is exceeded'],
];

const TRANSIENT_PATTERNS: [RegExp, string][] = [
  [/Failed to create\/acquire the lock .*\(timeout\)/i, 'the repository is locked by another borg (lock timeout)'],
  [/ssh: connect to host .*|ssh: Could not resolve hostname .*|kex_exchange_identification.*/i, ''],
  [/Connection (refused|reset by peer|timed out)|Network is unreachable|No route to host|Broken pipe/i, ''],
  [/Temporary failure in name resolution/i, ''],
  [/Connection closed by remote host/i, 'the connection to the repository closed'],
  [/Archive .* already exists/i, 'an archive of that name exists (same second); a new try gets a new name'],
];

export function classify(r: BorgResult): Verdict {
  if (r.spawnError) {
    return {
      kind: 'permanent',
      reason: `borg could not be started (${r.spawnError.code ?? r.spawnError.message})`,
      hint: 'install borg (`borg-provision install`) or set `borg:` in the job',
    };
  }
  if (r.rc === 0) return { kind: 'ok' };
  const lastError = lastMeaningfulLine(r.stderr);
  // 126 and 127 are the shell's, not borg's warnings: install's wrapper (a shell script) says them
  // when no borg is current or it sits on a noexec mount. Nothing ran; the run must not pass.
  if (r.rc === 126 || r.rc === 127) {
    return {
      kind: 'permanent',
      reason: `borg could not be started (exit ${r.rc}${lastError ? `: ${lastError}` : ''})`,
      hint: 'check `borg-provision list` and `borg -V`, or set `borg:` in the job',
    };
  }
  if (r.rc === 1 || (r.rc >= 100 && r.rc <= 125))
    return { kind: 'warning', reason: lastError || `borg warning (exit ${r.rc})` };
  for (const [re, reason, hint] of PERMANENT_PATTERNS) {
    if (re.test(r.stderr)) return { kind: 'permanent', reason, ...(hint ? { hint } : {}) };
  }
  const code = TRANSIENT_CODES[r.rc];
  if (code) return { kind: 'transient', reason: code };
  for (const [re, reason] of TRANSIENT_PATTERNS) {
    const m = re.exec(r.stderr);
    if (m) return { kind: 'transient', reason: reason || m[0].trim() };
  }
  if (r.rc > 128) return { kind: 'permanent', reason: `borg was killed by signal ${r.rc - 128}` };
  return { kind: 'permanent', reason: lastError || `borg exited ${r.rc}` };
}

/** The last stderr line that says something (not a traceback frame or an empty line). */
function lastMeaningfulLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('File "') && !/^Traceback/.test(l));
  return (lines.at(-1) ?? '').slice(0, 300);
}
