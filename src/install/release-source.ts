// A build of a GitHub release: downloaded with its `.asc` (the signature judged as soon as it is in,
// so that a signature that cannot be good stops the archive's download), then verified from the file.
import type { AssetChoice } from '../releases';
import {
  requireSignatureOrConsent,
  unsignedVerification,
  verifySignature,
  type Fetched,
  type Source,
  type SourceContext,
  type SourceFacts,
  type Verification,
} from './source';

export class ReleaseSource implements Source {
  readonly facts: SourceFacts;

  constructor(
    private readonly choice: AssetChoice & { kind: 'onedir' | 'onefile' },
    version: string,
  ) {
    this.facts = {
      version,
      asset: choice.name,
      kind: choice.kind,
      source: 'release',
      archiveUrl: choice.url,
      signatureUrl: choice.signatureUrl,
      assetGlibc: choice.glibc,
      chosen: null,
      check: `OpenPGP signature ${choice.signatureUrl ?? 'none'}`,
      from: choice.url,
    };
  }

  requireVerifiable(allowUnsigned: boolean | undefined): void {
    if (this.choice.signatureUrl === null)
      requireSignatureOrConsent(this.choice.name, this.choice.builtOn === 'github', allowUnsigned);
  }

  async obtain(ctx: SourceContext): Promise<Fetched> {
    const c = this.choice;
    ctx.step(`downloading ${c.name}${c.signatureUrl ? ' and its signature' : ''}`);
    const [fetch, { judgeSignature }, { netOptionsFromEnv }] = await Promise.all([
      import('../fetch'),
      import('../verify'),
      import('../net'),
    ]);
    // A signature that cannot be good (another key, SHA-1, revoked) stops the archive's download.
    const onSignature = async (sig: { path: string }): Promise<void> =>
      void (await judgeSignature({ signature: sig.path, key: ctx.key, signal: ctx.signal }));
    const net = ctx.net ?? netOptionsFromEnv();
    const r = await fetch.downloadWithSignature(c, {
      signal: ctx.signal,
      onProgress: ctx.onProgress,
      net,
      onSignature,
    });
    return {
      archive: r.archive.path,
      signature: r.signature?.path ?? null,
      sha256: r.archive.sha256,
      size: r.archive.size,
      fromCache: r.archive.fromCache,
    };
  }

  async verify(f: Fetched, ctx: SourceContext): Promise<Verification> {
    if (f.signature) return verifySignature(this.choice.name, { ...f, signature: f.signature }, ctx);
    this.requireVerifiable(ctx.allowUnsigned);
    return unsignedVerification(this.choice.name, f.sha256!, ctx.warn);
  }
}
