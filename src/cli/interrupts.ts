// SIGINT/SIGTERM as an AbortSignal, for code that runs without oclif (the start-up fast paths);
// BaseCommand does the same for oclif commands. The stages watch the signal, clean up and throw
// InterruptedError (exit 130).
import { InterruptedError } from '../errors';

/** Runs `work` with a signal that fires on SIGINT/SIGTERM; the handlers are removed afterwards. */
export async function withInterrupts<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new InterruptedError());
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
