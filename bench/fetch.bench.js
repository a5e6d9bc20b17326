#!/usr/bin/env node
// Download speed and memory of src/fetch against `curl -o`, from a loopback HTTP server, for a
// 30 MB and a 300 MB file. Each download runs in its own process under /usr/bin/time, so wall
// time includes start-up for both and peak RSS is the kernel's figure (time -f %M). Our peak RSS
// must stay flat with size (streaming, never buffering the body): the bench fails otherwise.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { measure, ratio, summarize } = require('./lib/measure');

const root = path.resolve(__dirname, '..');
const fetchModule = path.join(root, 'dist', 'fetch', 'download.js');
const SIZES_MB = [30, 300];
const RUNS = { 30: 3, 300: 2 };

function makeFile(file, mb) {
  // 1 MiB of random bytes repeated: SHA-256 costs the same as for unique bytes.
  const block = crypto.randomBytes(1 << 20);
  const fd = fs.openSync(file, 'w');
  for (let i = 0; i < mb; i++) fs.writeSync(fd, block);
  fs.closeSync(fd);
}

function serve(dir) {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.basename(req.url));
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream', etag: `"${st.size}"` });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs `run` n times; median wall time, highest peak RSS. */
async function runs(label, run, n) {
  const got = [];
  for (let i = 0; i < n; i++) got.push(await run());
  return { label, ...summarize(got) };
}

async function main() {
  if (!fs.existsSync(fetchModule)) throw new Error('dist/ is missing: run `npm run build` first');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-bench-fetch-'));
  const server = await serve(tmp);
  const base = `http://127.0.0.1:${server.address().port}`;
  const rows = [];
  let baseline;
  try {
    // Node with the download module loaded and nothing downloaded: the floor under our RSS figures.
    baseline = await runs(
      'node baseline',
      () => measure(process.execPath, ['-e', `require(${JSON.stringify(fetchModule)})`]),
      2,
    );
    for (const mb of SIZES_MB) {
      const name = `blob-${mb}mb.bin`;
      makeFile(path.join(tmp, name), mb);
      const url = `${base}/${name}`;
      const out = path.join(tmp, 'out');
      const script =
        `require(${JSON.stringify(fetchModule)}).download({ url: ${JSON.stringify(url)}, fileName: 'got.bin', ` +
        `destDir: ${JSON.stringify(out)}, expectedSize: ${mb << 20} }).catch((e) => { console.error(e.message); process.exit(1); })`;
      const clean = () => fs.rmSync(out, { recursive: true, force: true });
      const ours = await runs(
        'borg-provision',
        async () => {
          clean();
          return measure(process.execPath, ['-e', script]);
        },
        RUNS[mb],
      );
      const curl = await runs(
        'curl -o',
        async () => {
          clean();
          fs.mkdirSync(out, { recursive: true });
          return measure('curl', ['-sS', '-o', path.join(out, 'got.bin'), url]);
        },
        RUNS[mb],
      );
      clean();
      fs.rmSync(path.join(tmp, name));
      rows.push({ mb, ours, curl });
    }
  } finally {
    server.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const line = (cols) => cols.map((c, i) => (i === 0 ? String(c).padEnd(22) : String(c).padStart(12))).join('');
  console.log(line(['download', 'wall s', 'MB/s', 'peak RSS MB']));
  for (const r of rows) {
    for (const m of [r.ours, r.curl]) {
      console.log(
        line([
          `${r.mb} MB ${m.label}`,
          (m.ms / 1000).toFixed(2),
          (r.mb / (m.ms / 1000)).toFixed(0),
          m.rssMb.toFixed(1),
        ]),
      );
    }
    console.log(line([`${r.mb} MB ratio`, ratio(r.ours.ms, r.curl.ms), '', ratio(r.ours.rssMb, r.curl.rssMb)]));
  }
  console.log(line(['node + module, idle', (baseline.ms / 1000).toFixed(2), '', baseline.rssMb.toFixed(1)]));
  const [small, big] = rows;
  const growth = big.ours.rssMb - small.ours.rssMb;
  console.log(
    `peak RSS 30 MB -> 300 MB: borg-provision ${small.ours.rssMb.toFixed(1)} -> ${big.ours.rssMb.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB), curl ${small.curl.rssMb.toFixed(1)} -> ${big.curl.rssMb.toFixed(1)} MB`,
  );
  // Flat: ten times the bytes may not cost more than a few MB of extra memory.
  if (growth > 16) {
    console.error('FAIL: peak RSS grows with file size; the body is being buffered');
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
