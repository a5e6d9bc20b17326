// The install command line's flags, and what is started from them before the rest of the
// install loads. Kept light (no imports beyond the verifier's client) so that the start-up fast
// path (src/cli/fast-install.ts) can start the signature worker first: openpgp.js then loads on
// another core while this thread loads the pipeline and looks up the release.
import { StreamVerifier } from '../verify/stream-client';

/** The install command's flags, as oclif parses them (names as on the command line). */
export interface InstallFlagValues {
  prefix?: string;
  'bin-dir'?: string;
  from?: string;
  asset?: string;
  'allow-unsigned'?: boolean;
  'strict-key-expiry'?: boolean;
  'signing-key'?: string;
  fingerprint?: string;
  force?: boolean;
  'dry-run'?: boolean;
  glibc?: string;
  arch?: string;
  'api-url'?: string;
}

/** Every install flag and its kind: the fast path's table (a test keeps it equal to the command's). */
export const INSTALL_FLAG_KINDS = {
  json: 'boolean',
  prefix: 'string',
  'bin-dir': 'string',
  from: 'string',
  asset: 'string',
  'allow-unsigned': 'boolean',
  'strict-key-expiry': 'boolean',
  'signing-key': 'string',
  fingerprint: 'string',
  force: 'boolean',
  'dry-run': 'boolean',
  glibc: 'string',
  arch: 'string',
  'api-url': 'string',
} as const;

/** The signature worker for an install with these flags (see InstallOptions.verifier). */
export function startInstallVerifier(flags: InstallFlagValues, signal: AbortSignal): StreamVerifier {
  return new StreamVerifier({ keyFile: flags['signing-key'], fingerprint: flags.fingerprint, strictKeyExpiry: flags['strict-key-expiry'], signal });
}
