// Shared by the benches: run one command as its own process under GNU time, so wall time includes
// start-up (as a user sees it) and peak RSS is the kernel's figure for the whole run, not Node's view.
// Not a bench itself: bench/run.js only runs bench/*.bench.js.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const TIME = '/usr/bin/time';
// Marks GNU time's own line, so the command's stderr cannot be mistaken for it.
const TAG = '__bench_time__';

/**
 * Runs `cmd args` once. Resolves with wall ms, CPU seconds (user + system, the process tree: less
 * sensitive than wall time to other jobs' load), peak RSS in MB and, when asked, the command's stdout.
 */
function measure(cmd, args, { env = process.env, stdout = false } = {}) {
  if (!fs.existsSync(TIME)) return Promise.reject(new Error(`${TIME} is missing: install the Debian package \`time\``));
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(TIME, ['-f', `${TAG}%M %U %S`, cmd, ...args], {
      env,
      stdio: ['ignore', stdout ? 'pipe' : 'ignore', 'pipe'],
    });
    let out = '';
    let err = '';
    if (stdout) child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const at = err.lastIndexOf(TAG);
      const own = (at < 0 ? err : err.slice(0, at)).trim();
      if (code !== 0 || at < 0) return reject(new Error(`${cmd} exited ${code}: ${own}`));
      const [kb, user, sys] = err
        .slice(at + TAG.length)
        .trim()
        .split(/\s+/)
        .map(Number);
      resolve({ ms, cpuS: user + sys, rssMb: kb / 1024, stdout: out });
    });
  });
}

/** The median (mean of the two middle values for an even count). */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs from measure() summed up: median wall and CPU time, and the highest peak RSS seen. */
function summarize(runs) {
  return {
    ms: median(runs.map((r) => r.ms)),
    cpuS: median(runs.map((r) => r.cpuS)),
    rssMb: Math.max(...runs.map((r) => r.rssMb)),
  };
}

/** "x1.23": how many times `ours` is `theirs`. */
function ratio(ours, theirs) {
  return `x${(ours / theirs).toFixed(2)}`;
}

module.exports = { measure, median, summarize, ratio };
