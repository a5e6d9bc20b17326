// A VERSION argument judged before anything else happens (no request, no lock, no file read), the
// same way by every command that takes one: a PEP 440 version as borg tags them (1.4.2, 2.0.0b22),
// with or without a leading "v".
import { UsageError } from '../errors';
import { isPep440 } from './pep440';

/** The version as given (trimmed), or UsageError (exit 2) naming the form expected. */
export function checkVersionArg(version: string): string {
  const v = version.trim();
  if (!isPep440(v)) {
    const like = 'give one like 1.4.2 or 2.0.0b22 (see borg-provision releases)';
    throw new UsageError(`"${version}" is not a borg version: ${like}`);
  }
  return v;
}
