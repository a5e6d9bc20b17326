// The digest an OpenPGP signature signs, computed by whoever holds the bytes. WHY not let
// openpgp.js hash them: it takes bytes only as web streams, and for a download that meant copying
// every MiB over to the verification worker and back into a stream there (~40% of an install's CPU
// during the download, bench/install.bench.js). Node's own hash over the chunks the download
// already has in hand costs one pass and no copy. openpgp.js still judges the digest and the
// signature (src/verify/verify-file.ts, concludeSignature); this file holds no policy.
//
// No openpgp.js here: the main thread loads this, and openpgp.js stays in the worker.
import { createHash, type Hash } from 'node:crypto';

/** How a (v4) detached signature's digest is made: hash(the file || suffix) (RFC 4880 5.2.4). */
export interface DigestSpec {
  /** Node's name of the signature's hash algorithm, e.g. 'sha512'. */
  hash: string;
  /** Hashed after the file: the signature's hashed part and its trailer. */
  suffix: Uint8Array;
}

/** A signature's digest, fed the signed file's bytes in order. */
export class SignedDigest {
  /** Bytes fed so far (the file's, not prefix or suffix). */
  bytes = 0;
  private readonly hash: Hash;

  constructor(private readonly spec: DigestSpec) {
    this.hash = createHash(spec.hash);
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /** The digest the signature must sign; ends this object. */
  digest(): Uint8Array {
    return new Uint8Array(this.hash.update(this.spec.suffix).digest());
  }
}
