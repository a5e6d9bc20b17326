// Fetches an asset and its detached signature concurrently; if either fails, the other is
// stopped (its `.part` kept for resuming) and the first real failure is reported.
import * as path from 'node:path';
import { InterruptedError } from '../errors';
import type { AssetChoice } from '../releases';
import { cacheDir } from './cache-dir';
import { cacheSubdir, download } from './download';
import type { NetOptions } from '../net';
import type { DownloadResult, ProgressEvent } from './types';

export interface WithSignatureOptions {
  destDir?: string;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  net?: NetOptions;
  /**
   * Judges the signature as soon as it is in, while the archive may still be downloading; a
   * refusal stops that download at once and is the error reported.
   */
  onSignature?: (signature: DownloadResult) => Promise<void>;
}

export async function downloadWithSignature(
  choice: AssetChoice,
  o: WithSignatureOptions = {},
): Promise<{ archive: DownloadResult; signature: DownloadResult | null }> {
  if (o.signal?.aborted) throw new InterruptedError();
  // Interrupts come from the caller's signal; this one only says "the other half failed". Each
  // download watches both, as a look-up watches the caller's signal and its deadline.
  const otherFailed = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, otherFailed.signal]) : otherFailed.signal;
  const common = {
    destDir: o.destDir ?? path.join(cacheDir(), cacheSubdir(choice.url)),
    signal,
    onProgress: o.onProgress,
    net: o.net,
  };
  const failFast = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      otherFailed.abort(err);
      throw err;
    });
  const settled = await Promise.allSettled([
    failFast(
      download({
        ...common,
        url: choice.url,
        fileName: choice.name,
        expectedSize: choice.size,
        expectedSha256: choice.digest ?? undefined,
      }),
    ),
    choice.signatureUrl
      ? failFast(
          download({
            ...common,
            url: choice.signatureUrl,
            fileName: `${choice.name}.asc`,
            expectedSize: choice.signatureSize ?? undefined,
            expectedSha256: choice.signatureDigest ?? undefined,
          }).then(async (sig) => {
            await o.onSignature?.(sig);
            return sig;
          }),
        )
      : Promise.resolve(null),
  ]);
  const errors = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  if (errors.length > 0) {
    if (o.signal?.aborted) throw errors.find((e) => e instanceof InterruptedError) ?? new InterruptedError();
    throw errors.find((e) => !(e instanceof InterruptedError)) ?? errors[0];
  }
  const [archive, signature] = settled.map((s) => (s as PromiseFulfilledResult<DownloadResult | null>).value);
  return { archive: archive as DownloadResult, signature };
}
