import { createProgressBar, formatBytes, formatDuration, renderLine } from '../../src/cli/progress';

function fakeStream(isTTY: boolean): { isTTY: boolean; columns: number; out: string; write(s: string): boolean } {
  return {
    isTTY,
    columns: 100,
    out: '',
    write(s: string) {
      this.out += s;
      return true;
    },
  };
}

describe('the progress bar', () => {
  it('renders bytes, percentage, rate and ETA', () => {
    const line = renderLine([{ bytes: 10 * 1048576, total: 40 * 1048576, startBytes: 0 }], 2, 100);
    expect(line).toMatch(/^\[#{10}-{30}\] {2}25% {2}10\.0 MB\/40\.0 MB {2}5\.0 MB\/s {2}ETA 0:06$/);
  });

  it('sums concurrent files and leaves resumed bytes out of the rate', () => {
    const line = renderLine(
      [
        { bytes: 3 * 1048576, total: 4 * 1048576, startBytes: 2 * 1048576 },
        { bytes: 1024, total: 1024, startBytes: 0 },
      ],
      1,
      100,
    );
    expect(line).toMatch(/ {2}75% {2}3\.0 MB\/4\.0 MB {2}1\.0 MB\/s {2}ETA 0:01$/);
  });

  it('draws on a TTY, throttled, and ends the line', () => {
    let t = 1000;
    const s = fakeStream(true);
    const bar = createProgressBar({ stream: s, now: () => t });
    bar.onProgress({ type: 'start', fileName: 'a.tgz', url: 'u', total: 2048, resumedFrom: 0 });
    bar.onProgress({ type: 'progress', fileName: 'a.tgz', bytes: 1024, total: 2048 });
    t += 1000;
    bar.onProgress({ type: 'progress', fileName: 'a.tgz', bytes: 1536, total: 2048 });
    bar.onProgress({ type: 'retry', fileName: 'a.tgz', attempt: 1, delayMs: 2000, reason: 'HTTP 503' });
    bar.onProgress({ type: 'done', fileName: 'a.tgz', bytes: 2048, fromCache: false });
    bar.done();
    const draws = s.out.split('\r\x1b[2K').filter(Boolean);
    expect(draws[0]).toMatch(/^\[-+\] {3}0% {2}0 B\/2\.0 KB/);
    expect(draws).toContainEqual(expect.stringMatching(/ {2}75% {2}1\.5 KB\/2\.0 KB {2}1\.5 KB\/s {2}ETA 0:00$/));
    expect(draws).toContainEqual('  a.tgz: HTTP 503; retry 1 in 2.0 s\n');
    expect(s.out.endsWith('100%  2.0 KB/2.0 KB  2.0 KB/s  ETA 0:00\n')).toBe(true);
  });

  it('writes nothing on a pipe or when disabled (--json)', () => {
    for (const [s, enabled] of [
      [fakeStream(false), true],
      [fakeStream(true), false],
    ] as const) {
      const bar = createProgressBar({ stream: s, enabled });
      bar.onProgress({ type: 'start', fileName: 'a', url: 'u', total: 10, resumedFrom: 0 });
      bar.onProgress({ type: 'done', fileName: 'a', bytes: 10, fromCache: false });
      bar.done();
      expect(s.out).toBe('');
      expect(bar.active).toBe(false);
    }
  });

  it('formats sizes and durations', () => {
    expect([formatBytes(12), formatBytes(2048), formatBytes(31 * 1048576), formatBytes(3 * 1024 ** 3)]).toEqual([
      '12 B',
      '2.0 KB',
      '31.0 MB',
      '3.00 GB',
    ]);
    expect([formatDuration(5), formatDuration(65), formatDuration(3725)]).toEqual(['0:05', '1:05', '1:02:05']);
  });
});
