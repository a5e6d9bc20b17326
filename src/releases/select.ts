// Chooses the one build of a release that will run on the target, and says for every asset
// why it was or was not chosen. Order of preference among the assets that fit:
// signed before unsigned, one-dir (.tgz, no unpacking to a noexec /tmp) before one-file,
// then the highest glibc level (the newest toolchain the target can still run).
import { compareDotted } from '../util/dotted-version';
import { NoCompatibleBuildError, UsageError } from '../errors';
import { parseAssetName } from './asset-name';
import type {
  AssetChoice,
  OtherFit,
  ParsedAsset,
  Release,
  ReleaseAsset,
  SelectOptions,
  Selection,
  SelectionTarget,
} from './types';

const MISSING_SIGNATURE = 'signature (.asc) missing: not uploaded yet or removed; refusing';

const SET_ASIDE: Record<string, string> = {
  macos: 'macOS build, not for Linux',
  freebsd: 'FreeBSD build, not for Linux',
  windows: 'Windows build, not for Linux',
  sdist: 'source distribution (used by `borg-provision build`), not a binary',
  readme: 'release notes file, not a binary',
  unknown: 'unknown asset name: not guessed into an OS, arch or glibc level',
};

export function selectAsset(r: Release, target: SelectionTarget, o: SelectOptions = {}): Selection {
  const byName = new Map(r.assets.map((a) => [a.name, a]));
  const choices = r.assets
    .filter((a) => !isPairedSignature(a.name, byName))
    .map((a) => judge(a, parseAssetName(a.name), byName, target, o));
  const selected = pick(choices, o);
  return { version: r.version, target: { glibc: target.glibc, arch: target.arch }, assets: choices, selected };
}

function isPairedSignature(name: string, byName: Map<string, ReleaseAsset>): boolean {
  return name.endsWith('.asc') && byName.has(name.slice(0, -4));
}

function judge(
  a: ReleaseAsset,
  p: ParsedAsset,
  byName: Map<string, ReleaseAsset>,
  t: SelectionTarget,
  o: SelectOptions,
): AssetChoice {
  const sig = byName.get(`${a.name}.asc`);
  const choice: AssetChoice = {
    name: a.name,
    url: a.url,
    size: a.size,
    os: p.os,
    arch: p.arch,
    glibc: p.glibc,
    kind: p.kind,
    signed: sig !== undefined,
    signatureUrl: sig?.url ?? null,
    signatureSize: sig?.size ?? null,
    signatureDigest: sig?.digest ?? null,
    builtOn: p.builtOn,
    digest: a.digest,
    eligible: false,
    reasons: [],
  };
  const why = choice.reasons;
  if (p.signatureOf !== null) {
    why.push(`signature whose asset ${p.signatureOf} is not in the release`);
    return choice;
  }
  if (p.category !== 'linux') {
    why.push(SET_ASIDE[p.category]);
    return choice;
  }
  if (p.arch !== t.arch) why.push(`built for ${p.arch}, the target is ${t.arch}`);
  if (p.glibc !== null && compareDotted(p.glibc, t.glibc) > 0) {
    why.push(`needs glibc ${p.glibc}, the target has ${t.glibc}`);
  }
  // Only GitHub-built (-gh) assets are unsigned by design, and only they may pass with
  // --allow-unsigned. A locally built asset always comes with its .asc: without it, it was uploaded
  // before its signature (or the signature was removed), so it is refused whatever the flags.
  const unsignedByDesign = !choice.signed && p.builtOn === 'github';
  if (unsignedByDesign) {
    const what = 'built on GitHub (-gh), no .asc signature';
    why.push(
      o.allowUnsigned
        ? `${what}: allowed by --allow-unsigned, NOTHING will be verified`
        : `${what} (--allow-unsigned accepts it)`,
    );
  } else if (!choice.signed) {
    why.push(MISSING_SIGNATURE);
  }
  choice.eligible = why.length === 0 || (why.length === 1 && unsignedByDesign && o.allowUnsigned === true);
  if (choice.eligible) {
    why.unshift(
      `fits: ${p.arch}, glibc ${p.glibc} <= ${t.glibc}, ${choice.signed ? 'signed' : 'unsigned'}, ${kindText(p.kind)}`,
    );
  }
  return choice;
}

function kindText(kind: string): string {
  return kind === 'onedir' ? 'one-dir (.tgz)' : 'one-file';
}

/** Negative when a is preferred over b. */
function preference(a: AssetChoice, b: AssetChoice): number {
  if (a.signed !== b.signed) return a.signed ? -1 : 1;
  if (a.kind !== b.kind) return a.kind === 'onedir' ? -1 : 1;
  return compareDotted(b.glibc ?? '0', a.glibc ?? '0');
}

function pick(choices: AssetChoice[], o: SelectOptions): AssetChoice | null {
  if (o.asset !== undefined) return pickNamed(choices, o.asset);
  const ranked = choices.filter((c) => c.eligible).sort(preference);
  const best = ranked[0] ?? null;
  if (!best) return null;
  best.reasons.push(
    `chosen: ${best.signed ? 'signed' : 'UNSIGNED'}, ${kindText(best.kind)}, the highest glibc level that fits (${best.glibc})`,
  );
  for (const other of ranked.slice(1)) other.reasons.push(`not chosen: ${whyNot(other, best)}`);
  return best;
}

function whyNot(c: AssetChoice, best: AssetChoice): string {
  if (c.signed !== best.signed) return 'unsigned, and a signed build fits';
  if (c.kind !== best.kind) return 'one-file; the one-dir build starts faster and needs no unpacking';
  return `${best.name} fits a newer glibc level (${best.glibc})`;
}

function pickNamed(choices: AssetChoice[], name: string): AssetChoice | null {
  const named = choices.find((c) => c.name === name);
  if (!named) {
    const linux = choices.filter((c) => c.os === 'linux').map((c) => c.name);
    throw new UsageError(`--asset ${name} is not in this release; its Linux assets are: ${linux.join(', ') || 'none'}`);
  }
  if (!named.eligible) return null;
  named.reasons.push('chosen: named by --asset');
  for (const c of choices) if (c !== named && c.eligible) c.reasons.push(`not chosen: --asset names ${name}`);
  return named;
}

/** The selected asset, or NoCompatibleBuildError (exit 3) saying what would fit instead. */
export function requireSelected(s: Selection, o: SelectOptions = {}): AssetChoice {
  if (s.selected) return s.selected;
  throw new NoCompatibleBuildError(noCompatibleMessage(s, o));
}

/**
 * Why nothing fits and what would. `others`: releases whose signed build fits (findOtherFits, from
 * the server's list); without them no other release is named.
 */
export function noCompatibleMessage(s: Selection, o: SelectOptions = {}, others: OtherFit[] = []): string {
  const { glibc, arch } = s.target;
  const head = o.asset
    ? `${o.asset} of borg ${s.version} does not fit glibc ${glibc} ${arch}: ${s.assets.find((a) => a.name === o.asset)?.reasons.join('; ')}`
    : `borg ${s.version} has no ${o.allowUnsigned ? '' : 'signed '}build for glibc ${glibc} on ${arch}`;
  return `${head}; ${hints(s, o, others).join('; ')}`;
}

function hints(s: Selection, o: SelectOptions, others: OtherFit[]): string[] {
  const { glibc, arch } = s.target;
  const out: string[] = [];
  const linux = s.assets.filter((a) => a.os === 'linux' && a.arch === arch);
  const fits = linux.filter((a) => !a.signed && a.glibc && compareDotted(a.glibc, glibc) <= 0);
  const fitsButUnsigned = fits.filter((a) => a.builtOn === 'github');
  if (!o.allowUnsigned && fitsButUnsigned.length > 0) {
    out.push(
      `unsigned GitHub builds fit (${fitsButUnsigned.map((a) => a.name).join(', ')}): --allow-unsigned accepts them unverified`,
    );
  }
  for (const a of fits.filter((x) => x.builtOn !== 'github')) {
    out.push(
      `the signature (.asc) of ${a.name} is missing (not uploaded yet, or removed): wait a few minutes and retry, or install an older release`,
    );
  }
  if (others.length > 0) {
    const list = others.map((b) => `${b.version} (${b.asset}${b.glibc ? `, glibc ${b.glibc}` : ''})`).join(', ');
    const which = others.length === 1 ? 'another release has' : 'other releases have';
    out.push(`${which} a signed build that fits: ${list}`);
  }
  out.push('or build one for this target: borg-provision build --vagrant');
  return out;
}
