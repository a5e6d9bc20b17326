// `borg-provision releases [VERSION]`: the recent borg releases, or one release's assets and the
// build chosen for the target with the reasons; `--download DIR` fetches the choice and its
// signature (not verified here: that is `install`'s job).
import { Args, Flags } from '@oclif/core';
import * as fs from 'node:fs';
import { apiFlags, apiOptionsFromFlags } from '../cli/api-flags';
import { BaseCommand } from '../cli/base';
import { targetFlags, resolveTargetFromFlags } from '../cli/target-flags';
import { NoCompatibleBuildError, UsageError } from '../errors';
import type { AssetChoice, ReleaseSummary, Selection } from '../releases';
import type { DownloadResult, ProgressEvent } from '../fetch';
import { logProgress } from '../cli/verbose';

type DownloadReport = { dir: string; archive: DownloadResult; signature: DownloadResult | null; verified: false };
export type ReleasesResult =
  { releases: ReleaseSummary[] } | (Selection & { targetSource: string; download?: DownloadReport });

export default class Releases extends BaseCommand {
  static override summary = 'List borg releases, or show which build of one release fits the target and why';
  static override description =
    'Without VERSION: the recent releases (tag, date, pre-release). With VERSION: every asset of that release, ' +
    'whether it fits the target (glibc release and arch of this machine, of --root, of --libc, or given by ' +
    '--glibc/--arch) and why, and the build install would choose. --download DIR fetches the choice and its .asc ' +
    'signature into DIR without verifying them. GITHUB_TOKEN, when set, is sent to the API (never printed).';

  static override examples = [
    '<%= config.bin %> releases',
    '<%= config.bin %> releases 1.4.5',
    '<%= config.bin %> releases 1.4.2 --glibc 2.31 --arch x86_64 --json',
    '<%= config.bin %> releases 1.2.9 --libc /mnt/truenas-root/lib/x86_64-linux-gnu/libc.so.6',
    '<%= config.bin %> releases 1.4.5 --download ./borg-1.4.5',
  ];

  static override args = {
    version: Args.string({ description: 'borg version, e.g. 1.4.5, 2.0.0b22 or v1.4.2' }),
  };

  static override flags = {
    ...apiFlags,
    limit: Flags.custom<number>({
      description: 'how many releases to list (1-300)',
      default: 15,
      helpValue: 'N',
      parse: async (v) => parseLimit(v),
    })(),
    ...targetFlags,
    asset: Flags.string({ description: 'choose this asset of the release instead of the best fit' }),
    'allow-unsigned': Flags.boolean({
      description: 'let unsigned GitHub-built (-gh) assets be chosen; nothing about them can be verified',
    }),
    download: Flags.string({
      description: 'download the chosen asset and its .asc signature into this directory (not verified)',
    }),
  };

  async run(): Promise<ReleasesResult | undefined> {
    const { args, flags } = await this.parse(Releases);
    if (args.version !== undefined) (await import('../releases')).checkVersionArg(args.version);
    const api = this.traced(await apiOptionsFromFlags(flags, this.signal));
    if (!args.version) return this.list(flags, api);
    const target = await resolveTargetFromFlags(flags);
    checkDownloadDir(flags.download);
    const { getRelease, selectAsset, noCompatibleMessage, findOtherFits } = await import('../releases');
    const release = await getRelease(args.version, api);
    const opts = { allowUnsigned: flags['allow-unsigned'], asset: flags.asset };
    const selection = selectAsset(release, { glibc: target.glibc, arch: target.arch }, opts);
    const result = { ...selection, targetSource: target.source };
    if (!selection.selected) {
      const others = opts.asset ? [] : await findOtherFits(release.version, selection.target, api);
      return this.noneFits(result, new NoCompatibleBuildError(noCompatibleMessage(selection, opts, others)));
    }
    if (!this.jsonEnabled()) this.render(result);
    if (!selection.selected.signed) {
      this.warnLine(
        `${selection.selected.name} is UNSIGNED (built on GitHub): nothing about it can be verified against borg's signing key`,
      );
    }
    if (flags.download)
      return { ...result, download: await this.download(selection.selected, flags.download, api.net) };
    return result;
  }

  private async list(flags: { limit: number; [k: string]: unknown }, api: object): Promise<ReleasesResult> {
    for (const f of ['libc', 'root', 'glibc', 'arch', 'asset', 'download', 'allow-unsigned']) {
      if (flags[f]) throw new UsageError(`--${f} needs a VERSION: borg-provision releases VERSION --${f} ...`);
    }
    const { listReleases } = await import('../releases');
    const releases = await listReleases({ ...api, limit: flags.limit });
    if (!this.jsonEnabled()) {
      this.log(`${releases.length} most recent borg releases, newest first:`);
      for (const r of releases)
        this.log(
          `  ${r.tag.padEnd(12)} ${(r.publishedAt ?? '').slice(0, 10).padEnd(10)}  ${r.prerelease ? 'pre-release' : ''}`.trimEnd(),
        );
    }
    return { releases };
  }

  /**
   * Exit 3 with the one-line reason. The selection is shown first (human) or is the JSON document
   * itself, with the usual `error` key added: the user sees why nothing fits.
   */
  private async noneFits(
    result: Selection & { targetSource: string },
    err: NoCompatibleBuildError,
  ): Promise<undefined> {
    const { provisionFailure, renderFailure } = await import('../cli/failure');
    if (!this.jsonEnabled()) this.render(result);
    renderFailure(provisionFailure(err)!, { json: this.jsonEnabled(), body: result });
    return undefined;
  }

  private render(s: Selection & { targetSource: string }): void {
    const t = `glibc ${s.target.glibc} ${s.target.arch} (${s.targetSource})`;
    const c = s.selected;
    this.log(
      c
        ? `borg ${s.version} for ${t}: ${c.name} (${c.signed ? 'signed' : 'UNSIGNED'}, ${c.kind}, glibc ${c.glibc})`
        : `borg ${s.version} for ${t}: no build fits`,
    );
    const width = Math.max(...s.assets.map((a) => a.name.length));
    for (const a of s.assets) {
      const mark = a === c ? '*' : a.eligible ? '+' : '-';
      this.log(`  ${mark} ${a.name.padEnd(width)}  ${a.reasons.join('; ')}`);
    }
  }

  private async download(choice: AssetChoice, dir: string, net: object): Promise<DownloadReport> {
    const { downloadWithSignature } = await import('../fetch');
    const { createProgressBar } = await import('../cli/progress');
    const { formatBytes } = await import('../cli/format');
    const bar = createProgressBar({ enabled: this.showProgress });
    let got;
    try {
      const onProgress = this.trace && !bar.active ? (e: ProgressEvent) => logProgress(e, this.trace!) : bar.onProgress;
      got = await downloadWithSignature(choice, { destDir: dir, signal: this.signal, onProgress, net });
    } finally {
      bar.done();
    }
    if (!this.jsonEnabled()) {
      const a = got.archive;
      this.log(
        `downloaded ${a.path} (${formatBytes(a.size)}, sha256 ${a.sha256}${a.fromCache ? ', already there' : ''})`,
      );
      if (got.signature) this.log(`downloaded ${got.signature.path}`);
      this.log(
        "NOT verified yet: `borg-provision install` checks the signature against borg's pinned key before using it",
      );
    }
    return { dir, archive: got.archive, signature: got.signature, verified: false };
  }
}

const MAX_LIMIT = 300;

/** --limit N: a whole number from 1 to 300 (the GitHub list is read 100 a page). */
function parseLimit(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT) {
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT} (got "${value}")`);
  }
  return n;
}

function checkDownloadDir(dir: string | undefined): void {
  if (dir === undefined) return;
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir, { throwIfNoEntry: false });
  } catch (e) {
    throw new UsageError(
      `--download ${dir} cannot be used (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}): give a directory path`,
    );
  }
  if (st && !st.isDirectory()) throw new UsageError(`--download ${dir} exists and is not a directory`);
}
