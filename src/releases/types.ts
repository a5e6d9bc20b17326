// Shapes of the release catalog: what GitHub says about a release, what an asset name means,
// and the choice made for a target with the reasons for every asset.
import type { Target } from '../target';

export interface ApiOptions {
  /** GitHub REST base URL; a mirror or a test server can stand in. Default https://api.github.com. */
  apiUrl?: string;
  /** Sent as `Authorization: Bearer <token>` when set; never printed. */
  token?: string;
  signal?: AbortSignal;
  /** owner/name; default borgbackup/borg. */
  repo?: string;
  /** Network tuning (timeouts, retries); tests make them short. */
  net?: import('../net').NetOptions;
  /** When the API phase must be over (epoch ms); set by the look-up itself from net.apiDeadlineMs. */
  deadline?: number;
}

export interface ReleaseAsset {
  name: string;
  size: number;
  url: string;
  /** "sha256:<hex>" when GitHub announces one (newer releases), else null. */
  digest: string | null;
}

export interface Release {
  tag: string;
  /** The tag without a leading "v". */
  version: string;
  name: string;
  publishedAt: string | null;
  prerelease: boolean;
  assets: ReleaseAsset[];
}

export interface ReleaseSummary {
  tag: string;
  version: string;
  name: string;
  publishedAt: string | null;
  prerelease: boolean;
}

export type AssetOs = 'linux' | 'macos' | 'freebsd' | 'windows';
export type AssetKind = 'onedir' | 'onefile' | 'other';
export type AssetCategory = AssetOs | 'sdist' | 'readme' | 'unknown';

/** What an asset name says, per the naming eras of borg's releases. */
export interface ParsedAsset {
  name: string;
  category: AssetCategory;
  os: AssetOs | null;
  arch: string | null;
  /** Lowest glibc the build runs on ("2.31"); null when the name does not say (never guessed). */
  glibc: string | null;
  kind: AssetKind;
  builtOn: 'local' | 'github';
  /** For a `.asc` file: the name of the asset it signs; else null. */
  signatureOf: string | null;
}

export interface AssetChoice {
  name: string;
  url: string;
  size: number;
  os: AssetOs | null;
  arch: string | null;
  glibc: string | null;
  kind: AssetKind;
  signed: boolean;
  signatureUrl: string | null;
  /** Size GitHub announces for the signature, when signed. */
  signatureSize?: number | null;
  /** Digest GitHub announces for the signature file, when any. */
  signatureDigest?: string | null;
  builtOn: 'local' | 'github';
  digest: string | null;
  eligible: boolean;
  reasons: string[];
}

/** What a selection judges by, and shows: the target's glibc release and arch. */
export type SelectionTarget = Pick<Target, 'glibc' | 'arch'>;

export interface Selection {
  version: string;
  target: SelectionTarget;
  assets: AssetChoice[];
  selected: AssetChoice | null;
}

export interface SelectOptions {
  allowUnsigned?: boolean;
  /** Pick this asset by name instead of the best one (it must still fit the target). */
  asset?: string;
}

/** Another release with a signed build that fits the target (the advice when the asked one has none). */
export interface OtherFit {
  version: string;
  /** The asset that release would install here. */
  asset: string;
  glibc: string | null;
}
