// --verbose: one line per step, HTTP request and retry on stderr. Stages never print: they take a
// `log?: (line: string) => void` option (e.g. NetOptions.log), and the CLI hands them this writer.
import type { ProgressEvent } from '../fetch';

export type LogLine = (line: string) => void;

/** Writes `  <line>` to stderr (the same indent as install's step lines). */
export function verboseLogger(stream: { write(chunk: string): boolean } = process.stderr): LogLine {
  return (line) => {
    stream.write(`  ${line}\n`);
  };
}

/** A download's events as --verbose lines (the requests themselves are logged by the fetch stage). */
export function logProgress(e: ProgressEvent, log: (line: string) => void): void {
  const f = `download: ${e.fileName}`;
  if (e.type === 'start') log(`${f} from ${e.url}${e.resumedFrom > 0 ? `, resuming at byte ${e.resumedFrom}` : ''}`);
  else if (e.type === 'retry') log(`${f}: ${e.reason}; retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s`);
  else if (e.type === 'restart') log(`${f}: starting over (${e.reason})`);
  else if (e.type === 'done') log(`${f}: ${e.bytes} bytes${e.fromCache ? ' from the cache' : ''}`);
}
