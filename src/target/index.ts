// src/target/: what we provision. Public API of the stage (docs/architecture.md, "Data flows one way").
export { inspectLibc, requireGlibc, readElfNeeds } from './libc';
export { findLibc } from './find-libc';
export { resolveLibcTarget } from './resolve-target';
export { isElfFileSync } from './read-file';
export { pathReport } from './mounts';
export * from './types';
export { detectTarget } from './report';
export { realRoot } from './root-path';
export { ARCH_NAMES, normalizeArchName } from './arch';
