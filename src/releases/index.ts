export * from './types';
export { parseAssetName, normalizeArch, KNOWN_ARCHES } from './asset-name';
export { comparePep440, pep440ToSemver, isPep440, isPrerelease } from './pep440';
export { selectAsset, requireSelected, noCompatibleMessage } from './select';
export {
  getRelease,
  listReleases,
  listReleasesWithAssets,
  nearestVersions,
  DEFAULT_API_URL,
  DEFAULT_REPO,
} from './github-api';
export { checkVersionArg } from './version-arg';
export { findOtherFits, otherFits } from './other-fits';
export { fittingBuild, fittingBuildFor, type BuildFit } from './families';
