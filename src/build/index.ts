// Public API of the build stage (docs/architecture.md, "Data flows one way"; what it does: docs/building.md).
export { DEBIAN, DEBIAN_RELEASES, debianForGlibc, parseDebianRelease, type DebianRelease } from './debian';
export { toolchainFor, normalizeVersion, type Series, type Toolchain } from './series';
export { makePlan, PROVIDERS, type BuildPlan, type Provider, type PlanOptions } from './plan';
export { renderVagrantfile, rubyString } from './vagrantfile';
export { checkPrerequisites, requirePrerequisites } from './prerequisites';
export { buildWithVagrant, vagrantCommands, type BuildOptions, type BuildResult, type BuildEvent } from './orchestrate';
export { newestStableVersion } from './sdist';
