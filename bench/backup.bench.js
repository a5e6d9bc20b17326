#!/usr/bin/env node
// `borg-provision backup run` against a bare `borg create` + `borg prune` + `borg compact` of the
// same small tree into the same kind of repository (local, repokey-blake2, lz4), side by side:
// runs interleaved, each side's three borg steps doing the same work. Wall time is the whole of
// each side, start-up included. RSS is sampled every 10 ms from /proc over the process tree and
// summed (Node and the borg it runs are alive together), so "added" is what the runner costs
// beyond borg's own peak. Targets: wall <= 1.1x bare borg, at most +60 MB RSS.
// Two trees: 400 small files (~0.5 MB: borg's own start-up dominates) and 4000 (~5 MB).
// Options (env): BENCH_RUNS (default 5), BENCH_FILES (one tree of that many files instead).
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { median, ratio } = require('./lib/measure');

const RUNS = Number(process.env.BENCH_RUNS) || 5;
const SIZES = process.env.BENCH_FILES ? [Number(process.env.BENCH_FILES)] : [400, 4000];
const BIN = path.join(__dirname, '..', 'bin', 'run.js');
const SEA = path.join(__dirname, '..', 'dist', 'sea', 'borg-provision-linux-x64');
const TARGET_WALL = 1.1;
const TARGET_RSS_MB = 60;

/** Resident set of a process and all its descendants, in kB (0 once gone). */
function treeRssKb(pid) {
  let kb = 0;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const kids = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(/\s+/) : []) kb += treeRssKb(Number(k));
    }
  } catch {
    // The process ended between two reads.
  }
  return kb;
}

/** Runs a command; resolves with wall ms and the peak of the summed tree RSS in MB. */
function sample(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let peak = 0;
    child.stderr.on('data', (d) => (err += d));
    const timer = setInterval(() => (peak = Math.max(peak, treeRssKb(child.pid))), 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
      resolve({ ms, rssMb: peak / 1024 });
    });
  });
}

function makeTree(dir, files) {
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `d${i % 20}`);
    fs.mkdirSync(sub, { recursive: true });
    fs.writeFileSync(path.join(sub, `f${i}.txt`), `${'line of text '.repeat(50 + (i % 200))}${i}\n`);
  }
}

async function benchSize(FILES) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-bench-backup-'));
  try {
    const home = path.join(root, 'home');
    const src = path.join(root, 'src');
    makeTree(src, FILES);
    const env = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      NODE_ENV: 'production',
      NODE_OPTIONS: '',
    };
    delete env.BORG_PASSPHRASE;
    // Ours: a job made by `backup init`, then its config set to the bare side's work.
    const ourRepo = path.join(root, 'repo-ours');
    execFileSync(process.execPath, [BIN, 'backup', 'init', 'bench', '--repo', ourRepo, '--source', src], {
      env,
      stdio: 'ignore',
    });
    const jobDir = path.join(home, '.config', 'borg-provision', 'backups', 'bench');
    const config =
      `sources: ["${src}"]\nrepository: "${ourRepo}"\narchive_name: '{now:%Y-%m-%dT%H:%M:%S.%f}'\n` +
      'compression: lz4\nretention: {keep_last: 3}\ncompact: true\n';
    fs.writeFileSync(path.join(jobDir, 'config.yaml'), config, { mode: 0o600 });
    // Bare: the same borg, the same repository kind, the same passphrase file.
    const bareRepo = path.join(root, 'repo-bare');
    const bareEnv = { ...env, BORG_PASSCOMMAND: `cat '${path.join(jobDir, 'passphrase')}'`, BORG_REPO: bareRepo };
    execFileSync('borg', ['init', '--encryption', 'repokey-blake2', bareRepo], { env: bareEnv, stdio: 'ignore' });
    const bareSteps = [
      ['create', '--stats', '--lock-wait', '60', '--compression', 'lz4', '::{now:%Y-%m-%dT%H:%M:%S.%f}', src],
      ['prune', '--list', '--lock-wait', '60', '--keep-last=3'],
      ['compact', '--lock-wait', '60'],
    ];
    const bare = async () => {
      const parts = [];
      for (const s of bareSteps) parts.push(await sample('borg', s, bareEnv));
      return { ms: parts.reduce((a, p) => a + p.ms, 0), rssMb: Math.max(...parts.map((p) => p.rssMb)) };
    };
    const ours = () => sample(process.execPath, [BIN, 'backup', 'run', 'bench'], env);
    const sea = () => sample(SEA, ['backup', 'run', 'bench'], env);
    const sides = { bare, ours, ...(fs.existsSync(SEA) ? { sea } : {}) };
    // A warm-up of each (first archive, caches, page cache), not counted.
    for (const run of Object.values(sides)) await run();
    const rows = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      // A small change each round, so create has something to store on both sides.
      fs.appendFileSync(path.join(src, 'd0', 'f0.txt'), `round ${i}\n`);
      for (const [k, run] of Object.entries(sides)) rows[k].push(await run());
    }
    const med = (k, f) => median(rows[k].map((r) => r[f]));
    const peak = (k) => Math.max(...rows[k].map((r) => r.rssMb));
    console.log(`${FILES} files, ${RUNS} interleaved runs each; wall: median; RSS: peak of the summed process tree`);
    console.log(`${'side'.padEnd(44)}${'wall ms'.padStart(9)}${'RSS MB'.padStart(9)}`);
    const row = (label, k) =>
      console.log(`${label.padEnd(44)}${med(k, 'ms').toFixed(0).padStart(9)}${peak(k).toFixed(1).padStart(9)}`);
    row('bare borg create + prune + compact', 'bare');
    const labels = {
      ours: 'borg-provision backup run (npm package)',
      sea: 'borg-provision backup run (single executable)',
    };
    for (const k of Object.keys(labels)) if (rows[k]) row(labels[k], k);
    for (const k of Object.keys(rows))
      console.log(`  ${k} peaks run by run: ${rows[k].map((r) => r.rssMb.toFixed(1)).join(' ')}`);
    const verdict = (ok) => (ok ? 'met' : 'MISSED');
    for (const k of Object.keys(labels)) {
      if (!rows[k]) continue;
      const wall = med(k, 'ms') / med('bare', 'ms');
      const added = peak(k) - peak('bare');
      const wallLine = `wall ${ratio(med(k, 'ms'), med('bare', 'ms'))} (target <= ${TARGET_WALL}x): ${verdict(wall <= TARGET_WALL)}`;
      const rssLine = `RSS +${added.toFixed(1)} MB over borg's (target <= +${TARGET_RSS_MB} MB): ${verdict(added <= TARGET_RSS_MB)}`;
      console.log(`${k === 'sea' ? 'single executable' : 'npm package'}: ${wallLine}; ${rssLine}`);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  for (const files of SIZES) await benchSize(files);
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
