// How a child's end reads as a shell's exit status: its code, or 128 + the signal's number.
import { constants } from 'node:os';

/** The number of signal `sig` (15 for SIGTERM); 0 for a name this system does not know. */
export function signalNumber(sig: NodeJS.Signals): number {
  const n = constants.signals[sig];
  return typeof n === 'number' ? n : 0;
}

/** A child's exit status as a shell gives it: its code, else 128 + the signal that ended it. */
export function exitStatus(code: number | null, sig: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return sig ? 128 + signalNumber(sig) : 1;
}
