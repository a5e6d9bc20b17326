// src/target/: what we provision. Public API of the stage (docs/architecture.md, "Data flows one way").
export { inspectLibc, requireGlibc, readElfNeeds } from './libc';
export { findLibc } from './find-libc';
export { readTargetLibc } from './resolve-target';
export { givenTarget, targetFromLibc, type Target } from './target';
export { isElfFileSync } from './read-file';
export { pathReport } from './mounts';
export * from './types';
export { detectTarget } from './report';
export { readSystem } from './system';
export { realRoot } from './root-path';
export { ARCH_NAMES, normalizeArchName, elfIdentityForArch } from './arch';
