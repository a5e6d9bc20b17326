// Renders download progress events (src/fetch) as one self-rewriting line on a terminal:
// bytes, percentage, rate and ETA over all files in flight. On a pipe, or with --json, it
// renders nothing (enabled is false or the stream is not a TTY), so logs stay clean.
import type { ProgressEvent } from '../fetch';
import { formatBytes, formatDuration } from './format';

// Re-exported for existing importers; new code imports them from ./format.
export { formatBytes, formatDuration };

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBar {
  onProgress: (e: ProgressEvent) => void;
  /** Ends the line; call once the downloads settle (success or failure). */
  done: () => void;
  readonly active: boolean;
}

interface FileState {
  bytes: number;
  total: number | null;
  startBytes: number;
}

export function createProgressBar(
  o: { stream?: ProgressStream; enabled?: boolean; now?: () => number; intervalMs?: number } = {},
): ProgressBar {
  const stream = o.stream ?? process.stderr;
  const active = (o.enabled ?? true) && stream.isTTY === true;
  const now = o.now ?? Date.now;
  const interval = o.intervalMs ?? 100;
  const files = new Map<string, FileState>();
  let started = 0;
  let lastDraw = -Infinity;
  let drawn = false;

  function draw(force = false): void {
    const t = now();
    if (!force && t - lastDraw < interval) return;
    lastDraw = t;
    const line = renderLine([...files.values()], (t - started) / 1000, stream.columns ?? 80);
    stream.write(`\r\x1b[2K${line}`);
    drawn = true;
  }

  function say(text: string): void {
    stream.write(`${drawn ? '\r\x1b[2K' : ''}${text}\n`);
    drawn = false;
  }

  return {
    active,
    onProgress(e) {
      if (!active) return;
      if (started === 0) started = now();
      const f = files.get(e.fileName);
      switch (e.type) {
        case 'start':
          files.set(e.fileName, { bytes: e.resumedFrom, total: e.total, startBytes: e.resumedFrom });
          if (e.resumedFrom > 0) say(`  resuming ${e.fileName} at ${formatBytes(e.resumedFrom)}`);
          break;
        case 'progress':
          if (f) Object.assign(f, { bytes: e.bytes, total: e.total });
          break;
        case 'retry':
          say(`  ${e.fileName}: ${e.reason}; retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`);
          break;
        case 'restart':
          say(`  ${e.fileName}: starting over (${e.reason})`);
          break;
        case 'done':
          files.set(e.fileName, {
            bytes: e.bytes,
            total: e.bytes,
            startBytes: e.fromCache ? e.bytes : (f?.startBytes ?? 0),
          });
          if (e.fromCache) say(`  ${e.fileName}: ${formatBytes(e.bytes)} from the cache (re-hashed)`);
          break;
      }
      draw(e.type === 'done');
    },
    done() {
      if (active && drawn) {
        draw(true);
        stream.write('\n');
        drawn = false;
      }
    },
  };
}

/** "[#####-----]  45%  13.4/29.7 MB  5.2 MB/s  ETA 0:03" for the files in flight. */
export function renderLine(files: FileState[], seconds: number, columns = 80): string {
  const bytes = sum(files.map((f) => f.bytes));
  const known = files.every((f) => f.total !== null);
  const total = known ? sum(files.map((f) => f.total as number)) : null;
  const fresh = bytes - sum(files.map((f) => f.startBytes));
  const rate = seconds > 0 ? fresh / seconds : 0;
  const size = total !== null ? `${formatBytes(bytes)}/${formatBytes(total)}` : formatBytes(bytes);
  const eta = total !== null && rate > 0 ? `ETA ${formatDuration((total - bytes) / rate)}` : 'ETA --:--';
  const tail = `${total ? `${String(Math.floor((100 * bytes) / total)).padStart(3)}%  ` : ''}${size}  ${formatBytes(rate)}/s  ${eta}`;
  const width = Math.max(10, Math.min(40, columns - tail.length - 4));
  const filled = total ? Math.round((width * bytes) / total) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${tail}`;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
