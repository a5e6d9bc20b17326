// src/install/: unpack, check, activate, and the version store. Public API of the stage.
export { install } from './install';
export type { InstallOptions, InstallPlan, InstallResult, Verification } from './install';
export { listVersions, useVersion, uninstallVersion } from './manage';
export type { ListResult, UseResult, UninstallResult } from './manage';
export { defaultPrefix, defaultBinDir } from './places';
export { unpackArchive } from './unpack';
export { EntryGuard } from './entry-guard';
export { scanElfTree, glibcVersionOf } from './elf-scan';
export type { InstallManifest, InstalledVersion, InstallSource } from './store';
export { wrapperScript } from './wrapper';
export { selfInstall } from './self-install';
export type { SelfInstallResult } from './self-install';
export * from './build-manifest';
